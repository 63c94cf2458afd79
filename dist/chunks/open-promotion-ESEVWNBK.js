import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{c as a,d as b}from"./chunk-TWEGCOVE.js";import"./chunk-CAECGJYQ.js";import"./chunk-5D5MVUHB.js";import"./chunk-VM4PYY2R.js";import"./chunk-UGMK7THZ.js";import"./chunk-LGVB63VI.js";import"./chunk-US7RW6NH.js";import"./chunk-H5NXUVO4.js";import"./chunk-N2VVE7FJ.js";import"./chunk-CJ7ZDPG6.js";import"./chunk-6HQHL5FA.js";import"./chunk-HXNTWNQP.js";export{b as openPromotion,a as preparePromotion};
