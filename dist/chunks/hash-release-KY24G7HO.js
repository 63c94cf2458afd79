import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b,c}from"./chunk-EX3C5VWS.js";import"./chunk-JO5CIMDX.js";import"./chunk-3TB4G545.js";import"./chunk-N2VVE7FJ.js";import"./chunk-3HTT3GWD.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as hashRelease,b as renderShippedList,c as replaceReleaseFile};
