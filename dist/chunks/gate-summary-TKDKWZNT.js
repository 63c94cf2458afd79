import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-BGXMNVQQ.js";import"./chunk-RO2C2GUE.js";import"./chunk-LGVB63VI.js";import"./chunk-PHC26SA4.js";import"./chunk-JS3PDIDJ.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{b as NOTHING_GATED,a as STATUS_ICON,e as renderGateSummary,c as renderGateTitle,d as renderStagePicture};
