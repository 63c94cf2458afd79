import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{d as e,g as t}from"./chunk-JS3PDIDJ.js";function s(n,o){let r=e(n);return r?r.canonical===e(o)?.canonical:t(o,n)}function c(n,o){try{return s(n,o)}catch{return!1}}function l(n,o){return n.some(r=>(r.blockedVersions??[]).some(i=>c(i,o)))}export{s as a,c as b,l as c};
