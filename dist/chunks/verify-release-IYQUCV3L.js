import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{b as a,c as b}from"./chunk-GRAEBFPO.js";import"./chunk-NXINIBBW.js";import"./chunk-I5AB6T7F.js";import"./chunk-I5B45SEK.js";import"./chunk-GZ77D7YS.js";import"./chunk-6HQHL5FA.js";import"./chunk-HXNTWNQP.js";export{a as SIGNATURE_FILE,b as verifyRelease};
