/**
 * The deploy flow on real parts (DESIGN §2): PostgreSQL, the sample service, git. The
 * specification's three update tests: a successful update, a rollback on failure, and the
 * refusal of a concurrent update.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deployEnvironment } from "../src/deploy/deploy-environment.js";
import type { DeployReport } from "../src/deploy/deploy-report.js";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { CANARY_DB_VAR, type DeployRepo, startDeployRepo } from "./harness/deploy-repo.js";
import { removeCopies } from "./harness/example-repo.js";
import { freshDatabase, withClient } from "./harness/postgres.js";

const [target] = inject("postgresTargets");
let repo: DeployRepo;
let drop: (() => Promise<void>) | undefined;

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

const lines: string[] = [];
const metricsDir = mkdtempSync(join(tmpdir(), "pinline-metrics-"));

function deploy(): Promise<DeployReport> {
  return deployEnvironment({
    root: repo.root,
    environment: "production-canary",
    env: { ...process.env, [CANARY_DB_VAR]: repo.databaseUrl },
    log: (line) => lines.push(line),
    metricsFile: join(metricsDir, "update.json"),
    health: {
      periodMs: 1_500,
      intervalMs: 300,
      probe: { timeoutMs: 2_000, retries: 2, intervalMs: 200 },
    },
  });
}

async function columns(): Promise<string[]> {
  return withClient(repo.databaseUrl, async (client) => {
    const { rows } = await client.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'diagnostics' ORDER BY 1",
    );
    return rows.map((r) => r.column_name);
  });
}

describe("pinline deploy", () => {
  it("updates 2.4.0 → 2.4.1: migrations applied, the service switched, health green", async () => {
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({ outcome: "success", from: "2.4.0", to: "2.4.1" });
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ["verify", "ok"],
      ["backup", "ok"],
      ["migrate", "ok"],
      ["apply", "ok"],
      ["health", "ok"],
      ["finish", "ok"],
    ]);
    expect(report.measurements.length).toBeGreaterThan(0);
    expect(await repo.service.version()).toBe("2.4.1");
    expect(await repo.schemaVersion()).toBe("2.4.1");
    expect(await columns()).toContain("ml_score");
    const metrics = JSON.parse(readFileSync(join(metricsDir, "update.json"), "utf8"));
    expect(metrics).toMatchObject({
      version: "2.4.1",
      environment: "production-canary",
      success: true,
      rollbacks: 0,
    });
    expect(metrics.updateTime).toBeGreaterThan(0);
  });

  it("rolls back 2.4.1 → 2.4.2 when the canary fails: migrations undone, service and pin restored", async () => {
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.2" });
    const report = await deploy();
    expect(report.outcome).toBe("rolled-back");
    expect(report.steps.find((s) => s.name === "health")).toMatchObject({ status: "failed" });
    expect(report.error).toContain("errorRate");
    expect(report.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
      ["migrate", "ok"],
      ["apply", "ok"],
      ["health", "ok"],
      ["revert", "ok"],
    ]);
    expect(report.rollback?.critical).toBeUndefined();
    expect(await repo.service.version()).toBe("2.4.1");
    expect(await repo.schemaVersion()).toBe("2.4.1");
    expect(await columns()).not.toContain("canary_note");
    expect(repo.git("log", "-1", "--format=%s")).toBe("Revert production-canary to 2.4.1\n");
    expect(repo.git("show", "HEAD:environments/production-canary.yaml")).toContain(
      'version: "2.4.1"',
    );
    expect(report.rollback?.revert?.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it("refuses a second concurrent update of one environment", async () => {
    const results = await Promise.allSettled([deploy(), deploy()]);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused).toHaveLength(1);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toContain(
      "Update already in progress",
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});
