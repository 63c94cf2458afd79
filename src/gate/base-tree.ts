/**
 * The base branch's tree the gate judges a pull request with: policies, releases, keys, pins
 * and pin history exactly as they are at the base's head commit. The checkout is the default
 * branch (the workflow's own); a PR into another protected branch is judged with that branch,
 * read from the same clone (fetch-depth: 0 fetches every branch) through a git worktree.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PinlineError } from "../core/errors.js";
import { addWorktree, removeWorktree, resolveCommit as resolve } from "./read-git.js";

export interface BaseTree {
  /** Where the tree is checked out (the checkout itself, or a worktree of it). */
  root: string;
  /** The commit it holds. */
  commit: string;
  /** Set when the checkout holds an older commit of the base than GitHub's. */
  stale?: string | undefined;
  close(): Promise<void>;
}

async function worktree(root: string, commit: string): Promise<BaseTree> {
  const dir = mkdtempSync(join(tmpdir(), "pinline-base-"));
  try {
    await addWorktree(root, dir, commit);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new PinlineError(`cannot check out ${commit.slice(0, 7)} beside ${root}`, {
      cause: error,
      hint: "the gate needs a writable full clone (actions/checkout with fetch-depth: 0)",
    });
  }
  return {
    root: dir,
    commit,
    async close() {
      await removeWorktree(root, dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The tree of `baseRef` at `baseSha` (GitHub's view), from the checkout at `root`. */
export async function openBaseTree(
  root: string,
  baseRef: string,
  baseSha: string,
): Promise<BaseTree> {
  const head = await resolve(root, "HEAD");
  if (!head) {
    throw new PinlineError(
      `${root} is not a git checkout: the gate judges with the base branch's`,
      {
        hint: "check out the repository with actions/checkout (fetch-depth: 0)",
      },
    );
  }
  const here = { root, close: async () => {} };
  if (head === baseSha) return { ...here, commit: head };
  if (await resolve(root, baseSha)) return worktree(root, baseSha);
  // GitHub's base commit is newer than the checkout: judge with the newest local copy of the
  // branch, and say so (the verdict is then held at waiting until a run sees the new commit).
  const local =
    (await resolve(root, `refs/remotes/origin/${baseRef}`)) ??
    (await resolve(root, `refs/heads/${baseRef}`));
  if (!local) {
    throw new PinlineError(
      `the checkout does not hold ${baseRef} (GitHub has it at ${baseSha.slice(0, 7)})`,
      {
        hint: "check out with fetch-depth: 0, which fetches every branch, so PRs into every protected branch can be judged",
      },
    );
  }
  const stale = `policies, releases and pin history were read at ${local.slice(0, 7)}, but ${baseRef} is at ${baseSha.slice(0, 7)}: the verdict waits until a run reads ${baseRef} as GitHub has it`;
  if (local === head) return { ...here, commit: local, stale };
  return { ...(await worktree(root, local)), stale };
}
