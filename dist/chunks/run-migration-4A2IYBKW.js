import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{b as a,c as b,d as c,e as d,f as e,g as f,h as g}from"./chunk-SDZ6CMTY.js";import"./chunk-PLTYTMV2.js";import"./chunk-LRKQXOQI.js";import"./chunk-CJ7ZDPG6.js";import"./chunk-N2VVE7FJ.js";import"./chunk-6HQHL5FA.js";import"./chunk-HXNTWNQP.js";export{f as DEFAULT_LOCK_ATTEMPTS,e as DEFAULT_LOCK_TIMEOUT_MS,c as EMPTY_DATABASE,b as MigrationFailedError,a as MigrationFileError,d as describeOperator,g as migrate};
