import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-27LS2LBH.js";import"./chunk-XRHIWYQ3.js";import"./chunk-PGWRY44Z.js";import"./chunk-LRKQXOQI.js";import"./chunk-N2VVE7FJ.js";import"./chunk-CJ7ZDPG6.js";import"./chunk-6HQHL5FA.js";import"./chunk-HXNTWNQP.js";export{f as DEFAULT_LOCK_ATTEMPTS,e as DEFAULT_LOCK_TIMEOUT_MS,c as EMPTY_DATABASE,b as MigrationFailedError,a as MigrationFileError,d as describeOperator,g as migrate};
