/**
 * `pinline promote --local`: the same pin change as a commit in the local checkout, for
 * repositories without GitHub (and the demo). The file is written to a temporary name and
 * renamed over the pin, so an interruption never leaves half a file.
 */
import { execFile } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { PinlineError } from "../core/errors.js";
import { renderPromotionTitle } from "../notify/promotion-body.js";
import { buildCatalog } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { setPinVersion } from "../repo/set-pin-version.js";
import { preparePromotion } from "./open-promotion.js";

const run = promisify(execFile);

export async function commitPromotion(input: {
  root: string;
  environment: string;
  version: string;
}): Promise<{ commit: string; from: string; to: string; file: string }> {
  const tree = await loadTree(input.root);
  const plan = preparePromotion(buildCatalog(tree), input.environment, input.version);
  const path = join(input.root, plan.file);
  const updated = setPinVersion(readFileSync(path, "utf8"), plan.to, plan.file);
  const temporary = `${path}.pinline-${process.pid}`;
  writeFileSync(temporary, updated);
  renameSync(temporary, path);
  const title = renderPromotionTitle(input.environment, plan.to);
  try {
    await run("git", ["-C", input.root, "add", "--", plan.file]);
    await run("git", [
      "-C",
      input.root,
      "commit",
      "-m",
      `${title}\n\n${plan.pin.version} → ${plan.to}`,
      "--",
      plan.file,
    ]);
    const { stdout } = await run("git", ["-C", input.root, "rev-parse", "HEAD"]);
    return { commit: stdout.trim(), from: plan.pin.version, to: plan.to, file: plan.file };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new PinlineError(
      `the pin was written but git could not commit it${stderr ? `: ${stderr}` : ""}`,
      {
        hint: `commit ${plan.file} by hand, or undo it with git checkout -- ${plan.file}`,
      },
    );
  }
}
