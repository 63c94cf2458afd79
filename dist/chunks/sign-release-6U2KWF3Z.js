import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a}from"./chunk-SAL5YBYS.js";import"./chunk-O5K64HJL.js";import"./chunk-I5B45SEK.js";import"./chunk-N2VVE7FJ.js";import"./chunk-6HQHL5FA.js";import"./chunk-HXNTWNQP.js";export{a as signRelease};
