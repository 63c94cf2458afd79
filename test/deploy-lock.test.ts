/**
 * One deploy of an environment per machine, whatever the checkout (DESIGN §2: "Concurrent
 * deploys of one environment are refused"), on real parts: two git clones of one repository,
 * real PostgreSQL, the sample service, and the CLI bundle as a second process. The lock is keyed
 * by the repository (its root commit) and the environment, never by the checkout's path.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type SampleService, startSampleService } from "../src/demo/sample-service.js";
import { deployEnvironment } from "../src/deploy/deploy-environment.js";
import { acquireDeployLock, repositoryIdentity } from "../src/deploy/deploy-lock.js";
import type { DeployReport } from "../src/deploy/deploy-report.js";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { CANARY_DB_VAR, type DeployRepo, startDeployRepo } from "./harness/deploy-repo.js";
import { repoRoot, runPinlineAsync } from "./harness/example-repo.js";
import { freshDatabase } from "./harness/postgres.js";

const [target] = inject("postgresTargets");
const work = mkdtempSync(join(tmpdir(), "pinline-lock-test-"));
let repo: DeployRepo;
let partial: SampleService;
let drop: (() => Promise<void>) | undefined;

function git(root: string, ...args: string[]): string {
  return execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
}

function clone(name: string, ...options: string[]): string {
  const dir = join(work, name);
  execFileSync("git", ["clone", "-q", ...options, repo.root, dir]);
  return dir;
}

/** production-partial on a sample service of its own, with no database: deployable beside the canary. */
function partialPin(serviceUrl: string): string {
  const setVersion = join(repoRoot, "examples/cm-service/set-version.mjs");
  return `name: production-partial
stage: production-partial
version: "2.4.1"
traffic: 25
update:
  channel: stable
  checkInterval: "6h"
health:
  ready: "${serviceUrl}/health/ready"
  live: "${serviceUrl}/health/live"
  metrics: "${serviceUrl}/metrics"
deploy:
  command: "node ${setVersion} ${serviceUrl} \${version}"
`;
}

beforeAll(async () => {
  if (!target) throw new Error("no PostgreSQL target");
  const db = await freshDatabase(target);
  drop = db.drop;
  repo = await startDeployRepo(db.url);
  partial = await startSampleService("2.4.1");
  writeFileSync(join(repo.root, "environments/production-partial.yaml"), partialPin(partial.url));
  repo.git("commit", "-q", "-am", "production-partial on its own sample service");
}, 60_000);

afterAll(async () => {
  repo?.close();
  partial?.stop();
  await drop?.();
  rmSync(work, { recursive: true, force: true });
});

function deploy(
  root: string,
  environment: string,
  lines: string[],
  periodMs: number,
): Promise<DeployReport> {
  return deployEnvironment({
    root,
    environment,
    env: { ...process.env, [CANARY_DB_VAR]: repo.databaseUrl },
    log: (line) => lines.push(line),
    metricsFile: join(work, `update-${environment}-${lines.length}-${Date.now()}.json`),
    backupDir: join(work, "backups"),
    health: {
      periodMs,
      intervalMs: 300,
      probe: { timeoutMs: 2_000, retries: 2, intervalMs: 200 },
    },
  });
}

async function waitFor(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

describe("the deploy lock", () => {
  it("refuses a deploy of one environment from a second clone while the first runs: nothing of it runs", async () => {
    const a = clone("a");
    const b = clone("b");
    await commitPromotion({ root: a, environment: "production-canary", version: "2.4.1" });
    const headOfB = git(b, "rev-parse", "HEAD");
    const linesA: string[] = [];
    let finished = false;
    const first = deploy(a, "production-canary", linesA, 5_000).finally(() => {
      finished = true;
    });
    // The first line is logged once the lock is held.
    await waitFor(
      () => linesA.some((line) => line.startsWith("pinline deploy production-canary")),
      "the first deploy to start",
    );

    const second = await runPinlineAsync(["deploy", "production-canary", "--root", b], {
      env: { [CANARY_DB_VAR]: repo.databaseUrl },
    });
    expect(finished, "the first deploy was still running when the second was refused").toBe(false);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `Update already in progress: production-canary is being deployed by process ${process.pid} from the checkout ${realpathSync(a)} since `,
    );
    // Nothing of it ran: no step, no revert commit in its clone.
    expect(second.stdout).not.toContain("▶");
    expect(git(b, "rev-parse", "HEAD")).toBe(headOfB);

    const report = await first;
    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({ outcome: "success", from: "2.4.0", to: "2.4.1" });
    expect(await repo.service.version()).toBe("2.4.1");
  }, 60_000);

  it("does not block different environments of one repository, deployed from two clones at once", async () => {
    const a = clone("c");
    const b = clone("d");
    await commitPromotion({ root: a, environment: "production-canary", version: "2.4.1" });
    const [canary, partialReport] = await Promise.all([
      deploy(a, "production-canary", [], 2_000),
      deploy(b, "production-partial", [], 2_000),
    ]);
    expect(canary.error).toBeUndefined();
    expect(partialReport.error).toBeUndefined();
    expect(canary.outcome).toBe("success");
    expect(partialReport.outcome).toBe("success");
    // They ran at the same time.
    expect(canary.startedAt.getTime()).toBeLessThan(partialReport.finishedAt.getTime());
    expect(partialReport.startedAt.getTime()).toBeLessThan(canary.finishedAt.getTime());
  }, 60_000);

  it("knows a repository by its root commit: the same in every clone, another for another repository", async () => {
    const identity = await repositoryIdentity(repo.root);
    expect(identity).toMatch(/^[0-9a-f]{40}$/);
    expect(identity).toBe(git(repo.root, "rev-list", "--max-parents=0", "HEAD"));
    expect(await repositoryIdentity(clone("e"))).toBe(identity);
    const other = join(work, "other");
    mkdirSync(other);
    git(other, "init", "-q");
    git(other, "commit", "-q", "--allow-empty", "-m", "another repository");
    expect(await repositoryIdentity(other)).not.toBe(identity);
  });

  it("fails closed where git cannot say which repository it is: no repository, a shallow clone", async () => {
    const plain = mkdtempSync(join(tmpdir(), "pinline-not-a-repo-"));
    try {
      await expect(repositoryIdentity(plain)).rejects.toThrow(
        `cannot tell which repository ${plain} is: not a git repository`,
      );
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
    const shallow = join(work, "shallow");
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${repo.root}`, shallow]);
    await expect(repositoryIdentity(shallow)).rejects.toThrow(
      "it is a shallow clone, whose history has no root commit",
    );
  });

  it("reclaims a lock whose process is gone, and refuses one whose process lives", () => {
    const dir = join(work, "locks");
    mkdirSync(dir, { recursive: true });
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    const path = join(dir, "deploy-qa.lock");
    writeFileSync(path, JSON.stringify({ pid: gone, since: "2024-03-16T02:00:00.000Z" }));
    const lock = acquireDeployLock(dir, "qa", repo.root);
    expect(() => acquireDeployLock(dir, "qa", "/elsewhere")).toThrow(
      `Update already in progress: qa is being deployed by process ${process.pid} from the checkout ${realpathSync(repo.root)}`,
    );
    lock.release();
    acquireDeployLock(dir, "qa").release();
  });
});
