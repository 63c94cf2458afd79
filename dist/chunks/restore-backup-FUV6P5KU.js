import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a}from"./chunk-M4I5FTAU.js";import"./chunk-6OJC6YFD.js";import"./chunk-6BLL5PHO.js";import"./chunk-6A6EMUMS.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as restoreBackup};
