import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a}from"./chunk-XREGJJBY.js";import"./chunk-SKRP4WW3.js";import"./chunk-N2VVE7FJ.js";import"./chunk-6HQHL5FA.js";import"./chunk-Z3BXMKC6.js";import"./chunk-ORY6ZGEG.js";export{a as signRelease};
