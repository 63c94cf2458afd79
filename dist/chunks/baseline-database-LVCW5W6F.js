import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b}from"./chunk-NNLGIT5R.js";import"./chunk-ZPV5K2IB.js";import"./chunk-6BLL5PHO.js";import"./chunk-6A6EMUMS.js";import"./chunk-KUSIWPXH.js";import"./chunk-KODGCX4Y.js";import"./chunk-JO5CIMDX.js";import"./chunk-3TB4G545.js";import"./chunk-N2VVE7FJ.js";import"./chunk-3HTT3GWD.js";import"./chunk-JS3PDIDJ.js";import"./chunk-J4HODBQU.js";import"./chunk-6HQHL5FA.js";import"./chunk-ORY6ZGEG.js";export{a as BASELINE_MARK,b as baselineDatabase};
