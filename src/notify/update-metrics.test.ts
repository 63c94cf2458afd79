import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register as globalRegistry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeployReport, StepName, StepRecord } from "../deploy/deploy-report.js";
import {
  buildUpdateRegistry,
  toUpdateMetrics,
  UPDATE_DURATION_BUCKETS,
  UPDATE_METRIC_NAMES,
  type UpdateMetrics,
  updateGroupings,
  writeUpdateMetricsFile,
} from "./update-metrics.js";

const start = new Date("2025-03-04T10:00:00.000Z");

function step(name: StepName, durationMs: number, status: StepRecord["status"] = "ok"): StepRecord {
  return { name, status, startedAt: start, durationMs, detail: `${name} ${status}` };
}

function report(overrides: Partial<DeployReport> = {}): DeployReport {
  return {
    environment: "production",
    from: "2.4.0",
    to: "2.4.1",
    channel: "stable",
    outcome: "success",
    startedAt: start,
    finishedAt: new Date(start.getTime() + 95_500),
    steps: [
      step("verify", 2_500),
      step("backup", 4_000),
      step("migrate", 12_250),
      step("apply", 45_000),
      step("health", 30_000),
      step("finish", 1_000),
    ],
    measurements: [],
    release: { version: "2.4.1", mandatory: false },
    ...overrides,
  };
}

function rolledBack(): DeployReport {
  return report({
    to: "2.5.0",
    from: "2.4.1",
    channel: "beta",
    outcome: "rolled-back",
    finishedAt: new Date(start.getTime() + 300_000),
    steps: [
      step("verify", 1_000),
      step("backup", 3_000),
      step("migrate", 8_000),
      step("apply", 40_000),
      { ...step("health", 120_000, "failed"), detail: "errorRate 0.31 > max 0.01" },
    ],
    error: "the health check failed: errorRate 0.31 > max 0.01",
    rollback: {
      steps: [step("migrate", 6_000), step("apply", 30_000)],
      revert: { pullRequest: 42, merged: true },
    },
    release: { version: "2.5.0", mandatory: false },
  });
}

describe("toUpdateMetrics", () => {
  it("describes a successful deploy", () => {
    expect(toUpdateMetrics(report())).toEqual({
      version: "2.4.1",
      channel: "stable",
      environment: "production",
      updateTime: 95.5,
      success: true,
      rollbacks: 0,
      errors: [],
      performance: { downloadTime: 2.5, installTime: 45, migrationTime: 12.25 },
      startedAt: "2025-03-04T10:00:00.000Z",
      finishedAt: "2025-03-04T10:01:35.500Z",
    } satisfies UpdateMetrics);
  });

  it("describes a deploy that was rolled back when the health check failed", () => {
    const metrics = toUpdateMetrics(rolledBack());
    expect(metrics).toMatchObject({
      version: "2.5.0",
      channel: "beta",
      updateTime: 300,
      success: false,
      rollbacks: 1,
      // the deploy's own steps, not the rollback's
      performance: { downloadTime: 1, installTime: 40, migrationTime: 8 },
    });
    expect(metrics.errors).toEqual([
      "the health check failed: errorRate 0.31 > max 0.01",
      "health: errorRate 0.31 > max 0.01",
    ]);
  });

  it("counts a rollback that could not undo the failure, and names its failed step", () => {
    const base = rolledBack();
    const metrics = toUpdateMetrics({
      ...base,
      outcome: "failed",
      rollback: { steps: [{ ...step("migrate", 2_000, "failed"), detail: "relation is locked" }] },
    });
    expect(metrics.success).toBe(false);
    expect(metrics.rollbacks).toBe(1);
    expect(metrics.errors).toContain("rollback migrate: relation is locked");
  });

  it("counts a failure before anything changed as neither a success nor a rollback", () => {
    const metrics = toUpdateMetrics(
      report({
        outcome: "failed",
        steps: [{ ...step("verify", 300, "failed"), detail: "no valid signature" }],
        error: "the manifest's signature does not verify",
      }),
    );
    expect(metrics).toMatchObject({ success: false, rollbacks: 0 });
    expect(metrics.performance).toEqual({ downloadTime: 0.3, installTime: 0, migrationTime: 0 });
  });

  it("groups a deploy's metrics by environment and version", () => {
    expect(updateGroupings(toUpdateMetrics(report()))).toEqual({
      environment: "production",
      version: "2.4.1",
    });
  });
});

describe("buildUpdateRegistry", () => {
  const labels = 'version="2.4.1",channel="stable",environment="production"';

  it("exposes every metric with the deploy's labels", async () => {
    const text = await buildUpdateRegistry(toUpdateMetrics(report())).metrics();
    expect(text).toContain("# TYPE pinline_update_duration_seconds histogram");
    expect(text).toContain(`pinline_update_duration_seconds_sum{${labels}} 95.5`);
    expect(text).toContain(`pinline_update_duration_seconds_count{${labels}} 1`);
    expect(text).toContain(`pinline_update_duration_seconds_bucket{le="60",${labels}} 0`);
    expect(text).toContain(`pinline_update_duration_seconds_bucket{le="120",${labels}} 1`);
    expect(text).toContain("# TYPE pinline_update_attempts_total counter");
    expect(text).toContain(`pinline_update_attempts_total{${labels}} 1`);
    expect(text).toContain(`pinline_update_success_total{${labels}} 1`);
    expect(text).toContain(`pinline_update_rollbacks_total{${labels}} 0`);
    expect(text).toContain("# TYPE pinline_update_step_duration_seconds gauge");
    expect(text).toContain(`pinline_update_step_duration_seconds{step="verify",${labels}} 2.5`);
    expect(text).toContain(`pinline_update_step_duration_seconds{step="migrate",${labels}} 12.25`);
    expect(text).toContain(`pinline_update_step_duration_seconds{step="apply",${labels}} 45`);
    for (const name of Object.values(UPDATE_METRIC_NAMES)) expect(text).toContain(name);
  });

  it("uses buckets suited to deploys", async () => {
    const text = await buildUpdateRegistry(toUpdateMetrics(report())).metrics();
    const buckets = [...text.matchAll(/pinline_update_duration_seconds_bucket\{le="([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(buckets).toEqual([...UPDATE_DURATION_BUCKETS.map(String), "+Inf"]);
  });

  it("sets every series of a rolled-back deploy, zeros included", async () => {
    const text = await buildUpdateRegistry(toUpdateMetrics(rolledBack())).metrics();
    const beta = 'version="2.5.0",channel="beta",environment="production"';
    expect(text).toContain(`pinline_update_attempts_total{${beta}} 1`);
    expect(text).toContain(`pinline_update_success_total{${beta}} 0`);
    expect(text).toContain(`pinline_update_rollbacks_total{${beta}} 1`);
    expect(text).toContain(`pinline_update_duration_seconds_sum{${beta}} 300`);
  });

  it("builds a fresh registry each time and leaves the global one alone", async () => {
    const before = await globalRegistry.metrics();
    const first = buildUpdateRegistry(toUpdateMetrics(report()));
    const second = buildUpdateRegistry(toUpdateMetrics(report()));
    expect(first).not.toBe(second);
    expect(await second.metrics()).toContain(`pinline_update_attempts_total{${labels}} 1`);
    expect(await globalRegistry.metrics()).toBe(before);
    expect(await globalRegistry.metrics()).not.toContain("pinline_update");
  });
});

describe("writeUpdateMetricsFile", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "pinline-update-metrics-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes JSON that reads back as the same metrics, and leaves no temporary file", async () => {
    const metrics = toUpdateMetrics(rolledBack());
    const path = join(dir, "artifacts", "update-metrics.json");
    await writeUpdateMetricsFile(path, metrics);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(metrics);
    expect(await readdir(join(dir, "artifacts"))).toEqual(["update-metrics.json"]);
  });

  it("replaces an earlier file whole", async () => {
    const path = join(dir, "update-metrics.json");
    await writeUpdateMetricsFile(path, toUpdateMetrics(rolledBack()));
    const metrics = toUpdateMetrics(report());
    await writeUpdateMetricsFile(path, metrics);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(metrics);
    expect(await readdir(dir)).toEqual(["update-metrics.json"]);
  });
});
