/**
 * One deploy per environment at a time (the specification's "Concurrent update prevention"). In
 * a workflow the per-environment `concurrency` group serialises runs and GitHub's in-progress
 * deployment is checked; on one machine (the CLI, the demo) this lock file does it: created
 * exclusively, holding the owner's pid, reclaimed only when that process is gone.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RefusedError } from "../core/errors.js";

export const ALREADY_IN_PROGRESS = "Update already in progress";

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

export function acquireDeployLock(dir: string, environment: string): DeployLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `deploy-${environment}.lock`);
  const body = JSON.stringify({ pid: process.pid, since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, body, { flag: "wx" });
      return { release: () => rmSync(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let holder: { pid?: number; since?: string } = {};
      try {
        holder = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        // Half-written by a process that died between create and write: stale.
      }
      if (holder.pid !== undefined && isAlive(holder.pid)) {
        throw new RefusedError(
          `${ALREADY_IN_PROGRESS}: ${environment} is being deployed by process ${holder.pid} since ${holder.since ?? "?"}`,
          {
            hint: "wait for it to finish; pinline never runs two deploys of one environment at once",
          },
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new RefusedError(`${ALREADY_IN_PROGRESS}: could not take ${path}`);
}
