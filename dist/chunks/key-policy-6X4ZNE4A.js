import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p}from"./chunk-EW2YM2E2.js";import"./chunk-KHLZYCHI.js";import"./chunk-ORY6ZGEG.js";export{d as ANY_TIME,c as REVOCATION_CONFIG,a as TRUST_CONFIG,b as TRUST_FULL_CONFIG,h as algorithmProblem,p as checkSignerKey,i as describeAlgorithm,m as describeKey,n as findKeyProblem,o as findSubkeyProblem,e as formatDay,f as formatInstant,g as hexId,j as keyRevocation,l as revokedAt,k as subkeyRevocation};
