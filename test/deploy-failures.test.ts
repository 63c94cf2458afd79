// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${version} is the deploy command's own placeholder here
/**
 * How a deploy fails (DESIGN §2, §6), on real parts: a manifest whose signature no longer
 * matches is refused before anything changes; a failing deploy command and an unreachable
 * Prometheus (inconclusive) both roll back; a revert PR already open is reused.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deployEnvironment } from "../src/deploy/deploy-environment.js";
import type { DeployReport } from "../src/deploy/deploy-report.js";
import { openRevert } from "../src/deploy/open-revert.js";
import { createOctokit } from "../src/github/create-octokit.js";
import { OctokitForge } from "../src/github/octokit-forge.js";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { CANARY_DB_VAR, type DeployRepo, startDeployRepo } from "./harness/deploy-repo.js";
import { copyExample, removeCopies } from "./harness/example-repo.js";
import { startGitHubSimulator } from "./harness/github-simulator.js";
import { freshDatabase } from "./harness/postgres.js";

const [target] = inject("postgresTargets");
let repo: DeployRepo;
let drop: (() => Promise<void>) | undefined;
const PIN = "environments/production-canary.yaml";
const metricsDir = mkdtempSync(join(tmpdir(), "pinline-metrics-"));

beforeAll(async () => {
  if (!target) throw new Error("no PostgreSQL target");
  const db = await freshDatabase(target);
  drop = db.drop;
  repo = await startDeployRepo(db.url);
}, 60_000);

afterAll(async () => {
  repo?.close();
  await drop?.();
  rmSync(metricsDir, { recursive: true, force: true });
  removeCopies();
});

function deploy(): Promise<DeployReport> {
  return deployEnvironment({
    root: repo.root,
    environment: "production-canary",
    env: { ...process.env, [CANARY_DB_VAR]: repo.databaseUrl },
    log: () => {},
    metricsFile: join(metricsDir, "update.json"),
    health: {
      periodMs: 1_200,
      intervalMs: 300,
      probe: { timeoutMs: 1_000, retries: 1, intervalMs: 100 },
    },
  });
}

/** Changes the pin on disk and commits it (like a merged PR). */
function editPin(change: (text: string) => string, message: string): void {
  const path = join(repo.root, PIN);
  writeFileSync(path, change(readFileSync(path, "utf8")));
  repo.git("commit", "-q", "-am", message);
}

function pinVersion(): string | undefined {
  return /version: "([^"]+)"/.exec(repo.git("show", `HEAD:${PIN}`))?.[1];
}

describe("a failing deploy", () => {
  it("refuses a release whose manifest no longer matches its signature, before any change, and reverts the pin", async () => {
    appendFileSync(join(repo.root, "releases/2.4.1/release.yaml"), "# edited after signing\n");
    repo.git("commit", "-q", "-am", "Edit the 2.4.1 manifest after it was signed");
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ["verify", "failed"],
      ["finish", "ok"],
    ]);
    expect(report.error).toContain("the signature does not match the manifest's bytes");
    expect(report.rollback?.steps.map((s) => s.name)).toEqual(["revert"]);
    expect(await repo.service.version()).toBe("2.4.0");
    expect(await repo.schemaVersion()).toBe("2.4.0");
    expect(pinVersion()).toBe("2.4.0");
    const metrics = JSON.parse(readFileSync(join(metricsDir, "update.json"), "utf8"));
    expect(metrics).toMatchObject({ version: "2.4.1", success: false, rollbacks: 1 });
    repo.git("revert", "--no-edit", "HEAD~2");
  });

  it("rolls back when the deploy command fails: the migration undone, the pin restored", async () => {
    // The command fails for 2.4.1 only, so applying 2.4.0 again during the rollback works.
    editPin(
      (text) =>
        text.replace(
          /command: ".*"/,
          // YAML single quotes keep the backslashes for the shell-like splitting.
          `command: 'node -e "process.exit(process.argv[1] === \\"2.4.1\\" ? 3 : 0)" \${version}'`,
        ),
      "A deploy command that fails for 2.4.1",
    );
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    expect(report.outcome).toBe("rolled-back");
    expect(report.steps.find((s) => s.name === "apply")).toMatchObject({
      status: "failed",
      detail: expect.stringContaining("deploy.command exited with 3"),
    });
    expect(report.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
      ["migrate", "ok"],
      ["apply", "ok"],
      ["health", "ok"],
      ["revert", "ok"],
    ]);
    expect(await repo.schemaVersion()).toBe("2.4.0");
    expect(pinVersion()).toBe("2.4.0");
  });

  it("rolls back when Prometheus cannot be reached: no data is inconclusive, and inconclusive fails (the previous version's too: critical)", async () => {
    editPin(
      (text) =>
        text
          .replace(/command: .*/, "command: \"node -e '' ${version}\"")
          .replace(
            / {2}metrics: ".*"\n/,
            '  prometheus:\n    url: "http://127.0.0.1:9"\n    errorRate: "sum(rate(http_requests_total[1m]))"\n',
          ),
      "Canary metrics from a Prometheus that is down",
    );
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    // Undone and reverted, but with Prometheus down nobody can say 2.4.0 is healthy either.
    expect(report.outcome).toBe("failed");
    expect(report.steps.find((s) => s.name === "health")?.detail).toMatch(/^inconclusive: /);
    expect(report.measurements.every((m) => m.verdict === "inconclusive")).toBe(true);
    expect(report.measurements[0]?.problems.join(" ")).toContain("cannot reach http://127.0.0.1:9");
    expect(report.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
      ["migrate", "ok"],
      ["apply", "ok"],
      ["health", "failed"],
      ["revert", "ok"],
    ]);
    expect(report.rollback?.critical).toMatch(
      /the previous version 2\.4\.0 is unhealthy too: inconclusive: /,
    );
    expect(await repo.schemaVersion()).toBe("2.4.0");
    expect(pinVersion()).toBe("2.4.0");
  });
});

describe("the revert PR", () => {
  it("is reused when it is already open: never two for one failure", async () => {
    const sim = await startGitHubSimulator();
    try {
      const token = sim.addUser("pinline-bot", { permission: "write", type: "Bot" });
      const example = copyExample();
      await sim.seed(example);
      const forge = new OctokitForge(createOctokit({ token, baseUrl: sim.url }), {
        owner: sim.owner,
        repo: sim.repo,
      });
      const request = {
        environment: "production-canary",
        file: PIN,
        from: "2.4.1",
        to: "2.4.0",
        reason: "health failed: errorRate 0.30 > max 0.01",
      };
      const first = await openRevert({ forge, request, merge: false });
      const second = await openRevert({ forge, request, merge: false });
      expect(first.action).toBe("created");
      expect(second).toMatchObject({ action: "unchanged", merged: false });
      expect(second.pullRequest.number).toBe(first.pullRequest.number);
      expect(
        sim.state.pulls.filter((p) => p.head === "pinline/revert/production-canary"),
      ).toHaveLength(1);
      expect(first.pullRequest.labels).toContain("pinline:revert");
    } finally {
      await sim.close();
    }
  });
});
