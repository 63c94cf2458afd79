import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-FHHKWPJR.js";import"./chunk-OQZG6ALO.js";import"./chunk-3HTT3GWD.js";import"./chunk-LBITQWTW.js";import"./chunk-6HQHL5FA.js";import"./chunk-DWIBXFJF.js";import"./chunk-ORY6ZGEG.js";export{d as assembleKeyring,b as describeKeyringProblem,a as keyringErrors,c as loadKeyring,e as readKeyFile};
