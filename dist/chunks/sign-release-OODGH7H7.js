import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a}from"./chunk-O6DOUYAX.js";import"./chunk-5C2KCHEU.js";import"./chunk-OJDPAKJW.js";import"./chunk-EW2YM2E2.js";import"./chunk-KHLZYCHI.js";import"./chunk-UVKBB2SI.js";import"./chunk-N2VVE7FJ.js";import"./chunk-3HTT3GWD.js";import"./chunk-J4HODBQU.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as signRelease};
