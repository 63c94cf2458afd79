import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a as n}from"./chunk-727XWWQO.js";import{a as e,b as m}from"./chunk-YBVZBGC2.js";import{b as i}from"./chunk-ZGZGDEO6.js";import{c as t}from"./chunk-FEG4AKT3.js";async function P(r){let s=await t(r.root),o=m(i(s),r.environment,r.version),f=e(r.environment,o.to),{commit:a}=await n({root:r.root,file:o.file,version:o.to,message:`${f}

${o.pin.version} \u2192 ${o.to}`});return{commit:a,from:o.pin.version,to:o.to,file:o.file}}export{P as a};
