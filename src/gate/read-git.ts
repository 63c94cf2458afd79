/**
 * The little the gate asks of the local git checkout besides pin history: the commit that last
 * changed a file, and the current commit.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PinlineError } from "../core/errors.js";

const run = promisify(execFile);

async function git(root: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run("git", ["-C", root, ...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new PinlineError(
      `git ${args.join(" ")} failed in ${root}${stderr ? `: ${stderr}` : ""}`,
      {
        hint: "the gate reads pin history and release commits from a full git checkout (actions/checkout with fetch-depth: 0)",
      },
    );
  }
}

/** The commit that last changed `path` on the checked-out branch; undefined if none did. */
export async function lastCommitOf(root: string, path: string): Promise<string | undefined> {
  const sha = await git(root, ["log", "-1", "--first-parent", "--format=%H", "HEAD", "--", path]);
  return sha === "" ? undefined : sha;
}

export async function headCommit(root: string): Promise<string> {
  return git(root, ["rev-parse", "HEAD"]);
}
