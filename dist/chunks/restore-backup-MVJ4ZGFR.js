import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a}from"./chunk-X2G6S7XP.js";import"./chunk-IZQERIMX.js";import"./chunk-3RL6NFYS.js";import"./chunk-6A6EMUMS.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as restoreBackup};
