import { createRequire as __pinlineCreateRequire } from "node:module";
const require = __pinlineCreateRequire(import.meta.url);
var n={approvals:"reviews are on GitHub","compliance checks":"check runs are on GitHub",soak:"whether a version ran healthy long enough is read from GitHub deployments","stage order":"it is the previous stage's soak","maintenance window":"it holds a deploy, not a commit: run pinline deploy inside the window"};function o(){let e=Object.keys(n);return e.length<2?e.join(""):`${e.slice(0,-1).join(", ")} and ${e.at(-1)}`}export{n as a,o as b};
