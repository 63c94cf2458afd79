import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a as m}from"./chunk-IZUS4SUT.js";import{a as f,b as a}from"./chunk-WCI7EZ3R.js";import{a as s}from"./chunk-YEY55FMW.js";import{a as i}from"./chunk-44TZ6IDH.js";import{b as e}from"./chunk-W5AWZ5FR.js";import{n}from"./chunk-AOLJ3QS4.js";async function T(r){let t=await n(r.root);i(t,"promote");let o=a(e(t),r.environment,r.version),l=f(r.environment,o.to),{commit:c}=await m({root:r.root,file:o.file,version:o.to,message:`${l}

${o.pin.version} \u2192 ${o.to}${r.retry?`

${s}: ${o.to}`:""}`});return{commit:c,from:o.pin.version,to:o.to,file:o.file}}export{T as a};
