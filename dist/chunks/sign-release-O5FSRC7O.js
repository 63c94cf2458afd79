import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a}from"./chunk-ESPXS7Z2.js";import"./chunk-SKXVEGRR.js";import"./chunk-FHHKWPJR.js";import"./chunk-OQZG6ALO.js";import"./chunk-N2VVE7FJ.js";import"./chunk-3HTT3GWD.js";import"./chunk-LBITQWTW.js";import"./chunk-6HQHL5FA.js";import"./chunk-DWIBXFJF.js";import"./chunk-ORY6ZGEG.js";export{a as signRelease};
