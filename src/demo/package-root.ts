import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The pinline package's own folder (with examples/ and releases/), found from this module's
 * location — which is src/demo/ under the tests and dist/ or dist/chunks/ in the bundle.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    if (existsSync(join(dir, "examples", "cm-service", "server.mjs"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find the pinline package (examples/cm-service/server.mjs)");
}
