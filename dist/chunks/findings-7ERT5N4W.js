import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-J4HODBQU.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{e as countFindings,a as error,d as formatFinding,c as sortFindings,b as warning};
