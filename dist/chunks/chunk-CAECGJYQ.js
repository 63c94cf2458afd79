import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
function o(n){return`pinline/promote/${n}`}var r="pinline:promotion";export{o as a,r as b};
