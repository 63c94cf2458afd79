import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a as v,b as a}from"./chunk-775FUQEI.js";import{a as d}from"./chunk-EF43SG57.js";import{a as l,b as g,c as P,e as u}from"./chunk-LGSNHHIZ.js";import{f}from"./chunk-55EUGLV4.js";import{a as c}from"./chunk-KGNGRUNR.js";import{g as s}from"./chunk-CN7KX5G3.js";import{e as m}from"./chunk-KUSIWPXH.js";async function p(t,o,r){let e=v(o.environment,o.to),{commit:n}=await d({root:t,file:o.file,version:o.to,message:`${e}

${o.pin.version} \u2192 ${o.to}${r?`

${f}: ${o.to}`:""}`});return{commit:n,from:o.pin.version,to:o.to,file:o.file}}async function q(t){let o=await m(t.root);c(o,"promote");let r=s(o),e=a(r,t.environment,t.version),n=await g(l(o,r,t.now),{environment:e.environment,file:e.file,before:e.pin,after:{...e.pin,version:e.to}},t.retry),i=P(n);return u(i,"promote --local"),{...await p(t.root,e,t.retry),judged:i.judged,notJudged:i.notJudged}}async function T(t){let o=await m(t.root);c(o,"promote");let r=a(s(o),t.environment,t.version);return p(t.root,r,t.retry)}export{q as a,T as b};
