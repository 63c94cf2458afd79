/**
 * Which environments a push changed: the pins (environments/<name>.yaml) that differ between
 * two commits, still present after the push. The deploy workflow fans out over them, one job
 * (and one concurrency group) per environment.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PinlineError } from "../core/errors.js";

const run = promisify(execFile);
const PIN = /^environments\/([a-z0-9][a-z0-9-]*)\.yaml$/;
const NO_COMMIT = /^0+$/;

export async function changedPins(root: string, before: string, after: string): Promise<string[]> {
  // A new branch has no "before" (all zeros): compare with the parent instead.
  const from = !before || NO_COMMIT.test(before) ? `${after}^` : before;
  try {
    const { stdout } = await run("git", [
      "-C",
      root,
      "diff",
      "--name-only",
      "--diff-filter=AMR",
      from,
      after,
      "--",
      "environments/",
    ]);
    return stdout
      .split("\n")
      .map((line) => PIN.exec(line.trim())?.[1])
      .filter((name): name is string => name !== undefined)
      .sort();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new PinlineError(`cannot compare ${from}..${after}${stderr ? `: ${stderr}` : ""}`, {
      hint: "check out with fetch-depth: 0 (or at least 2) so both commits are present",
    });
  }
}
