// `npm run bench`: every benchmark in turn, whatever the previous one found; exits 1 when any
// of them missed a target. Pass --quick through for smoke runs.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
let failed = false;
for (const bench of ["validate.mjs", "cold-start.mjs", "migrate.mjs", "serve.mjs"]) {
  const result = spawnSync(process.execPath, [join(here, bench), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  if (result.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
