/**
 * The little the gate asks of the local git checkout besides pin history: the commit that last
 * changed a file, what a ref names, and worktrees of other commits (another protected base).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PinlineError } from "../core/errors.js";
import { gitEnvironment } from "../repo/read-pin-history.js";

const run = promisify(execFile);

async function git(root: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run("git", ["-C", root, ...args], {
      maxBuffer: 16 * 1024 * 1024,
      env: gitEnvironment(),
    });
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

/** The commit `ref` names in the checkout; undefined when it names none there. */
export async function resolveCommit(root: string, ref: string): Promise<string | undefined> {
  try {
    return await git(root, [
      "rev-parse",
      "--verify",
      "--quiet",
      "--end-of-options",
      `${ref}^{commit}`,
    ]);
  } catch {
    return undefined;
  }
}

/** Checks `commit` out into `dir`, a new worktree of the checkout (detached). */
export async function addWorktree(root: string, dir: string, commit: string): Promise<void> {
  await git(root, ["worktree", "add", "--detach", "--quiet", dir, commit]);
}

/** Removes a worktree made by addWorktree, whatever state it is in. */
export async function removeWorktree(root: string, dir: string): Promise<void> {
  await git(root, ["worktree", "remove", "--force", dir]).catch(() => undefined);
  await git(root, ["worktree", "prune"]).catch(() => undefined);
}
