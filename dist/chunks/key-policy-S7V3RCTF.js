import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{m as a,n as b,o as c,p as d,q as e,r as f,s as g,t as h,u as i,v as j,w as k,x as l,y as m,z as n}from"./chunk-Z3BXMKC6.js";import"./chunk-ORY6ZGEG.js";export{c as ANY_TIME,a as TRUST_CONFIG,b as TRUST_FULL_CONFIG,g as algorithmProblem,n as checkSignerKey,h as describeAlgorithm,l as describeKey,m as findKeyProblem,d as formatDay,e as formatInstant,f as hexId,i as keyRevocation,k as revokedAt,j as subkeyRevocation};
