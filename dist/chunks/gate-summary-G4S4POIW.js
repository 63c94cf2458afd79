import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{b as a,c as b,d as c,e as d,f as e}from"./chunk-IDCL7OBD.js";import"./chunk-PHC26SA4.js";import"./chunk-LGVB63VI.js";import"./chunk-HJLV4Z6Z.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{b as NOTHING_GATED,a as STATUS_ICON,e as renderGateSummary,c as renderGateTitle,d as renderStagePicture};
