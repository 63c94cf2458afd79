import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{c as n}from"./chunk-6HQHL5FA.js";import{readFileSync as o}from"node:fs";function r(e,i){try{return o(e)}catch(t){throw new n(`cannot read the ${i} ${e}: ${t.message}`,{cause:t})}}function s(e){return{cert:r(e.cert,"TLS certificate"),key:r(e.key,"TLS key"),minVersion:"TLSv1.3",...e.clientCa?{ca:r(e.clientCa,"client CA certificate"),requestCert:!0,rejectUnauthorized:!0}:{}}}export{r as a,s as b};
