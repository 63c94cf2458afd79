import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
import{createHash as f}from"node:crypto";function n(r){return f("sha256").update(e(i(r))).digest("hex")}function e(r){return r.includes(13)?Buffer.from(r.toString("latin1").replaceAll(`\r
`,`
`),"latin1"):r}function i(r){return typeof r=="string"?Buffer.from(r,"utf8"):Buffer.from(r.buffer,r.byteOffset,r.byteLength)}export{n as a,e as b};
