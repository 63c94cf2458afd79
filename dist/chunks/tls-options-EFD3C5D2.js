import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b}from"./chunk-EH7KAASR.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{b as httpsServerOptions,a as readPem};
