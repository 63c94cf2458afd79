/**
 * Test support for the deploy notifications: a realistic DeployReport of production-canary
 * moving from 2.4.0 to 2.4.1 (releases/2.4.1/release.yaml) on Saturday 2024-03-16 03:00 UTC,
 * inside the production maintenance window. "success" passes every health round;
 * "rolled-back" fails the canary on its error rate, undoes the migration and the image and
 * opens a revert PR; "failed" fails the apply step and cannot undo it. Every call builds fresh
 * objects, so a test may change what it gets without touching other tests.
 */
import type {
  DeployReport,
  HealthMeasurement,
  StepName,
  StepRecord,
} from "../../src/deploy/deploy-report.js";

export const DEPLOY_START = new Date("2024-03-16T03:00:00Z");

export const RUN_URL = "https://github.com/acme/cm-diagnostics-releases/actions/runs/8312345678";

/** Steps one after another from `start`, each taking its duration. */
function sequence(
  start: Date,
  steps: [StepName, StepRecord["status"], number, string][],
): { steps: StepRecord[]; end: Date } {
  let at = start.getTime();
  const records = steps.map(([name, status, durationMs, detail]) => {
    const record: StepRecord = { name, status, startedAt: new Date(at), durationMs, detail };
    at += durationMs;
    return record;
  });
  return { steps: records, end: new Date(at) };
}

function measurement(
  at: number,
  errorRate: number | undefined,
  p95: number | undefined,
): HealthMeasurement {
  const problems: string[] = [];
  if (errorRate === undefined) problems.push("errorRate: no data");
  else if (errorRate > 0.01) problems.push(`errorRate ${errorRate} > max 0.01`);
  if (p95 === undefined) problems.push("responseTimeP95Ms: no data");
  else if (p95 > 500) problems.push(`responseTimeP95Ms ${p95} > max 500`);
  const verdict = problems.some((p) => p.includes(">"))
    ? "fail"
    : problems.length > 0
      ? "inconclusive"
      : "pass";
  return {
    at: new Date(at),
    values: {
      errorRate,
      responseTimeP95Ms: p95,
      successRate: errorRate === undefined ? undefined : Number((1 - errorRate).toFixed(4)),
    },
    verdict,
    problems,
  };
}

/** Health rounds every 30 s from `start`: (errorRate, p95) pairs. */
function rounds(start: Date, values: [number | undefined, number | undefined][]) {
  return values.map(([errorRate, p95], index) =>
    measurement(start.getTime() + (index + 1) * 30_000, errorRate, p95),
  );
}

export function buildDeployReport(outcome: DeployReport["outcome"] = "success"): DeployReport {
  const release: DeployReport["release"] = {
    version: "2.4.1",
    mandatory: true,
    releaseNotes: "https://updates.cm-diagnostics.example.com/releases/2.4.1",
    changelog: {
      features: ["New diagnostic rules", "Performance improvements"],
      fixes: ["Memory leak in diagnostic engine", "UI rendering issues"],
      security: ["CVE-2024-1234 patched"],
    },
  };
  const base = {
    environment: "production-canary",
    from: "2.4.0",
    to: "2.4.1",
    channel: "stable",
    startedAt: DEPLOY_START,
    release,
    runUrl: RUN_URL,
  };

  if (outcome === "failed") {
    const { steps, end } = sequence(DEPLOY_START, [
      ["verify", "ok", 1_840, "2 of 2 signatures valid (threshold 2); 3 artifacts match"],
      ["backup", "ok", 41_520, "pg_dump of cm_diagnostics: 412 MB"],
      ["migrate", "ok", 6_310, "2 migrations applied (2.4.0-2.4.1.sql, ml_score_index)"],
      ["apply", "failed", 120_000, "kubectl rollout status timed out after 2m"],
      ["health", "skipped", 0, "not reached"],
      ["finish", "skipped", 0, "not reached"],
    ]);
    const rollback = sequence(end, [
      [
        "migrate",
        "failed",
        2_950,
        'rollback/2.4.1-2.4.0_2_drop_ml_score.sql: column "ml_score" is in use',
      ],
    ]);
    return {
      ...base,
      outcome: "failed",
      finishedAt: rollback.end,
      steps,
      measurements: [],
      error: "apply failed: kubectl rollout status timed out after 2m; the rollback failed too",
      rollback: { steps: rollback.steps },
    };
  }

  if (outcome === "rolled-back") {
    const healthStart = new Date(DEPLOY_START.getTime() + 68_690);
    const measurements = rounds(healthStart, [
      [0.002, 212],
      [0.004, 230],
      [undefined, 251],
      [0.012, 388],
      [0.031, 472],
      [0.034, 505],
      [0.041, 522],
    ]);
    const { steps, end } = sequence(DEPLOY_START, [
      ["verify", "ok", 1_840, "2 of 2 signatures valid (threshold 2); 3 artifacts match"],
      ["backup", "ok", 41_520, "pg_dump of cm_diagnostics: 412 MB"],
      ["migrate", "ok", 6_310, "2 migrations applied (2.4.0-2.4.1.sql, ml_score_index)"],
      ["apply", "ok", 19_020, "image ghcr.io/acme/cm-diagnostics-backend:2.4.1 at 5% traffic"],
      ["health", "failed", 210_000, "3 failing rounds in a row: errorRate 0.041 > max 0.01"],
      ["finish", "skipped", 0, "not reached"],
    ]);
    const rollback = sequence(end, [
      ["apply", "ok", 15_400, "image ghcr.io/acme/cm-diagnostics-backend:2.4.0 restored"],
      ["migrate", "ok", 2_950, "2 rollback scripts applied"],
      ["revert", "ok", 1_210, "revert PR #42 opened"],
    ]);
    return {
      ...base,
      outcome: "rolled-back",
      finishedAt: rollback.end,
      steps,
      measurements,
      error: "health check failed: errorRate 0.041 > max 0.01 for 3 rounds in a row",
      rollback: {
        steps: rollback.steps,
        revert: {
          pullRequest: 42,
          url: "https://github.com/acme/cm-diagnostics-releases/pull/42",
          commit: "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
          merged: false,
        },
      },
    };
  }

  const healthStart = new Date(DEPLOY_START.getTime() + 68_690);
  const measurements = rounds(healthStart, [
    [0.002, 212],
    [0.003, 221],
    [0.001, 205],
    [0.002, 199],
    [0.002, 214],
    [0.001, 208],
    [0.002, 201],
    [0.001, 197],
    [0.002, 203],
    [0.001, 210],
  ]);
  const { steps, end } = sequence(DEPLOY_START, [
    ["verify", "ok", 1_840, "2 of 2 signatures valid (threshold 2); 3 artifacts match"],
    ["backup", "ok", 41_520, "pg_dump of cm_diagnostics: 412 MB"],
    ["migrate", "ok", 6_310, "2 migrations applied (2.4.0-2.4.1.sql, ml_score_index)"],
    ["apply", "ok", 19_020, "image ghcr.io/acme/cm-diagnostics-backend:2.4.1 at 5% traffic"],
    ["health", "ok", 300_000, "10 of 10 rounds pass"],
    ["finish", "ok", 870, "deployment status success"],
  ]);
  return { ...base, outcome: "success", finishedAt: end, steps, measurements };
}
