import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const MARKERS = ["releases", "policies", "environments"];

/**
 * The repository pinline works on when --root is not given: the nearest directory, from `cwd`
 * up to the enclosing git work tree, that holds releases/, policies/ or environments/.
 */
export function findRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (MARKERS.some((m) => existsSync(join(dir, m)))) return dir;
    if (existsSync(join(dir, ".git"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(cwd);
    dir = parent;
  }
}
