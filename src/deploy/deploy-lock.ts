/**
 * One deploy per environment at a time (the specification's "Concurrent update prevention"). In
 * a workflow the per-environment `concurrency` group serialises runs and GitHub's in-progress
 * deployment is checked; on one machine (the CLI, the demo) this lock file does it: created
 * exclusively, holding the owner's pid and checkout, reclaimed only when that process is gone.
 *
 * The lock is keyed by the repository and the environment, never by the checkout's path: two
 * clones of one repository deploy the same environment, so they must take the same lock. A
 * repository is known by its root commit along first parents — the same in every clone, and
 * unchanged by new commits or by merging another history in.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { PinlineError, RefusedError } from "../core/errors.js";
import { gitEnvironment } from "../repo/read-pin-history.js";

export const ALREADY_IN_PROGRESS = "Update already in progress";

const run = promisify(execFile);

const IDENTITY_HINT =
  "deploy from a full git clone of the repository (actions/checkout with fetch-depth: 0): the deploy lock is keyed by its root commit, so that two checkouts never deploy one environment at once";

async function git(root: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run("git", ["-C", root, ...args], {
      env: gitEnvironment(),
      encoding: "utf8",
    });
    return stdout.trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    const why =
      code === "ENOENT"
        ? "git is not installed or not on PATH"
        : (stderr.split("\n")[0] ?? "").replace(/^fatal: /, "") || String(code);
    throw new PinlineError(`cannot tell which repository ${root} is: ${why}`, {
      hint: IDENTITY_HINT,
      cause: error,
    });
  }
}

/**
 * The repository's identity for the lock: its root commit along first parents. Fails closed
 * (PinlineError) when `root` is not in a git repository, has no commit, or is a shallow clone,
 * whose cut-off history has no real root: a lock keyed by anything else (the path) would let
 * two checkouts deploy one environment at once.
 */
export async function repositoryIdentity(root: string): Promise<string> {
  if ((await git(root, ["rev-parse", "--is-shallow-repository"])) === "true") {
    throw new PinlineError(
      `cannot tell which repository ${root} is: it is a shallow clone, whose history has no root commit`,
      { hint: IDENTITY_HINT },
    );
  }
  const roots = await git(root, ["rev-list", "--first-parent", "--max-parents=0", "HEAD"]);
  const first = roots.split("\n").at(-1) ?? "";
  if (!/^[0-9a-f]{40,64}$/.test(first)) {
    throw new PinlineError(`cannot tell which repository ${root} is: git named no root commit`, {
      hint: IDENTITY_HINT,
    });
  }
  return first;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface DeployLock {
  release(): void;
}

interface Holder {
  pid?: number;
  since?: string;
  checkout?: string;
}

function describeHolder(holder: Holder): string {
  const from = holder.checkout ? ` from the checkout ${holder.checkout}` : "";
  return `process ${holder.pid}${from} since ${holder.since ?? "?"}`;
}

/**
 * Takes `<dir>/deploy-<environment>.lock` (dir: one per repository, see repositoryIdentity), or
 * refuses with ALREADY_IN_PROGRESS naming the process and checkout that hold it. `checkout` is
 * recorded so the refusal can say where the other deploy runs.
 */
export function acquireDeployLock(dir: string, environment: string, checkout?: string): DeployLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `deploy-${environment}.lock`);
  let where = checkout;
  try {
    where = checkout === undefined ? undefined : realpathSync(checkout);
  } catch {
    // Shown as given.
  }
  const holder: Holder = { pid: process.pid, since: new Date().toISOString(), checkout: where };
  const body = JSON.stringify(holder);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, body, { flag: "wx" });
      return { release: () => rmSync(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let other: Holder = {};
      try {
        other = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        // Half-written by a process that died between create and write: stale.
      }
      if (other.pid !== undefined && isAlive(other.pid)) {
        throw new RefusedError(
          `${ALREADY_IN_PROGRESS}: ${environment} is being deployed by ${describeHolder(other)}`,
          {
            hint: `wait for it to finish; pinline never runs two deploys of one environment at once, from any checkout of the repository on this machine (lock: ${path})`,
          },
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new RefusedError(`${ALREADY_IN_PROGRESS}: could not take ${path}`);
}
