import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
function e(r){return r.replace(/\|/g,"\\|").replace(/\r?\n/g," ")}function n(r){return r.replace(/"/g,"#quot;")}function i(r,t){return`${r} ${t}${r===1?"":"s"}`}export{e as a,n as b,i as c};
