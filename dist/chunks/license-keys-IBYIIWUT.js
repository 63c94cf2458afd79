import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{b as a,c as b,d as c,e as d}from"./chunk-ZOVHG4DT.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as LICENSE_HEADER,b as hashLicenseKey,d as identifyInstallation,c as readLicenseKeys};
