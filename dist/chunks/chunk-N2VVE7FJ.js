import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
var r="release.yaml",t=`${r}.asc`,n="policies/rollout.yaml";function s(e,o){return e<o?-1:e>o?1:0}export{r as a,t as b,n as c,s as d};
