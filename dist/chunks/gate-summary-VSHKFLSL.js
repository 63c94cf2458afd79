import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{c as a,d as b,e as c,f as d,g as e}from"./chunk-YJVUFJVA.js";import"./chunk-PHC26SA4.js";import"./chunk-LGVB63VI.js";import"./chunk-OB372PJW.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{b as NOTHING_GATED,a as STATUS_ICON,e as renderGateSummary,c as renderGateTitle,d as renderStagePicture};
