import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-UJBFDHXV.js";import"./chunk-MKAIEPK5.js";import"./chunk-MHBN6KL3.js";import"./chunk-AJIJFKWE.js";import"./chunk-J4HODBQU.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as GENERATED_MARKER,d as checkWorkflows,b as hasGeneratedWorkflows,c as pinsOf};
