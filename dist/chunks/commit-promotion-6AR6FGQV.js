import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a as e,b as m}from"./chunk-6GLKAV3R.js";import"./chunk-CAECGJYQ.js";import"./chunk-YHTWZ46B.js";import"./chunk-YMR5HZAB.js";import"./chunk-C7LRFB7N.js";import"./chunk-UGMK7THZ.js";import{a as n}from"./chunk-R4OIEEXT.js";import"./chunk-DLB24H6E.js";import{b as i}from"./chunk-UXVLFQUU.js";import{c as t}from"./chunk-PGWRY44Z.js";import"./chunk-LRKQXOQI.js";import"./chunk-N2VVE7FJ.js";import"./chunk-LGVB63VI.js";import"./chunk-CJ7ZDPG6.js";import"./chunk-6HQHL5FA.js";import"./chunk-HXNTWNQP.js";async function P(r){let s=await t(r.root),o=m(i(s),r.environment,r.version),f=e(r.environment,o.to),{commit:a}=await n({root:r.root,file:o.file,version:o.to,message:`${f}

${o.pin.version} \u2192 ${o.to}`});return{commit:a,from:o.pin.version,to:o.to,file:o.file}}export{P as commitPromotion};
