/**
 * A pin change as a local commit, for repositories without GitHub (`promote --local`, the
 * demo's revert). The file is written to a temporary name and renamed over the pin, so an
 * interruption never leaves half a file.
 */
import { execFile } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { PinlineError } from "../core/errors.js";
import { setPinVersion } from "../repo/set-pin-version.js";

const run = promisify(execFile);

export async function commitPinChange(input: {
  root: string;
  /** environments/<name>.yaml */
  file: string;
  version: string;
  message: string;
}): Promise<{ commit: string }> {
  const path = join(input.root, input.file);
  const updated = setPinVersion(readFileSync(path, "utf8"), input.version, input.file);
  const temporary = `${path}.pinline-${process.pid}`;
  writeFileSync(temporary, updated);
  renameSync(temporary, path);
  try {
    await run("git", ["-C", input.root, "add", "--", input.file]);
    await run("git", ["-C", input.root, "commit", "-q", "-m", input.message, "--", input.file]);
    const { stdout } = await run("git", ["-C", input.root, "rev-parse", "HEAD"]);
    return { commit: stdout.trim() };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new PinlineError(
      `${input.file} was written but git could not commit it${stderr ? `: ${stderr}` : ""}`,
      { hint: `commit ${input.file} by hand, or undo it with git checkout -- ${input.file}` },
    );
  }
}
