import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{b as a,c as b}from"./chunk-V5PTHFXX.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as PinlineOctokit,b as createOctokit};
