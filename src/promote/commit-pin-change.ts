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
  await requireCommitIdentity(input.root);
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

/**
 * Refuses before anything is written when git has no identity to commit with: no user.name or
 * user.email in any config, and none it may guess (a fresh account, a CI machine).
 */
export async function requireCommitIdentity(root: string): Promise<void> {
  try {
    await run("git", ["-C", root, "var", "GIT_COMMITTER_IDENT"]);
    await run("git", ["-C", root, "var", "GIT_AUTHOR_IDENT"]);
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === "ENOENT") {
      throw new PinlineError("there is no git on PATH", { hint: "install git and try again" });
    }
    throw new PinlineError(`git has no identity to commit with in ${root}`, {
      hint: 'set one: git config user.name "Your Name" && git config user.email you@example.com (--global for every repository), or set GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL',
    });
  }
}
