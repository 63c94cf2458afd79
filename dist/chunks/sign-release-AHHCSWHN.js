import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a}from"./chunk-KZU6D5LR.js";import"./chunk-SKXVEGRR.js";import"./chunk-N2VVE7FJ.js";import"./chunk-V3ELSYKX.js";import"./chunk-PWTLERWP.js";import"./chunk-SNSJVX7R.js";import"./chunk-LBITQWTW.js";import"./chunk-6HQHL5FA.js";import"./chunk-DWIBXFJF.js";import"./chunk-ORY6ZGEG.js";export{a as signRelease};
