import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{existsSync as i}from"node:fs";import{dirname as t,join as o}from"node:path";import{fileURLToPath as m}from"node:url";function a(){let e=t(m(import.meta.url));for(let r=0;r<5;r++){if(i(o(e,"examples","cm-service","server.mjs")))return e;e=t(e)}throw new Error("cannot find the pinline package (examples/cm-service/server.mjs)")}export{a};
