import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{c as a,d as b,e as c,f as d}from"./chunk-3IRNOYZC.js";import"./chunk-PHC26SA4.js";import"./chunk-LGVB63VI.js";import"./chunk-OB372PJW.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as STATUS_ICON,d as renderGateSummary,b as renderGateTitle,c as renderStagePicture};
