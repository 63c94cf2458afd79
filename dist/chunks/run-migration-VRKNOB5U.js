import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-COMGSOYE.js";import"./chunk-6A6EMUMS.js";import"./chunk-AOLJ3QS4.js";import"./chunk-N2VVE7FJ.js";import"./chunk-HJLV4Z6Z.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{f as DEFAULT_LOCK_ATTEMPTS,e as DEFAULT_LOCK_TIMEOUT_MS,c as EMPTY_DATABASE,b as MigrationFailedError,a as MigrationFileError,d as describeOperator,g as migrate};
