import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a as e,b as m}from"./chunk-7YR3Y42H.js";import{a as n}from"./chunk-R4OIEEXT.js";import{b as i}from"./chunk-DD5X4GEO.js";import{c as t}from"./chunk-PGWRY44Z.js";async function P(r){let s=await t(r.root),o=m(i(s),r.environment,r.version),f=e(r.environment,o.to),{commit:a}=await n({root:r.root,file:o.file,version:o.to,message:`${f}

${o.pin.version} \u2192 ${o.to}`});return{commit:a,from:o.pin.version,to:o.to,file:o.file}}export{P as a};
