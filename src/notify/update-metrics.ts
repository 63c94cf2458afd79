/**
 * The update metrics of one deploy (the specification's section 7, DESIGN §2 step 6): the
 * `UpdateMetrics` record drawn from a `DeployReport`, the same numbers as Prometheus metrics in
 * a registry of their own, pushed to a Pushgateway, and kept as a JSON artifact.
 *
 * Pushgateway grouping: one group per deploy target, `{job, environment, version}`.
 * A Pushgateway does not add up what is pushed to it: a push replaces the group's metrics of
 * the same names. Every deploy builds a fresh registry, so its counters are 0 or 1; grouping by
 * environment alone would keep only each environment's last deploy. With the version in the
 * grouping key, each (environment, version) keeps its own group and the gateway holds one
 * attempt per version deployed to each environment, so the dashboard's queries simply sum over
 * the groups (`sum(pinline_update_success_total) / sum(pinline_update_attempts_total)`), with
 * no `rate()` or `increase()` (the series never change once pushed). A redeploy of the same
 * version to the same environment replaces that version's earlier result there: the dashboard
 * counts each version's latest attempt per environment. Every series is pushed on every deploy,
 * zeros included, so that replacement leaves nothing of the earlier attempt behind.
 * Prometheus should scrape the gateway with `honor_labels: true`; groups of versions no longer
 * of interest can be deleted from the gateway (DELETE /metrics/job/pinline/environment/E/version/V).
 */

import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Counter, Gauge, Histogram, Pushgateway, Registry } from "prom-client";
import type { DeployReport, StepName } from "../deploy/deploy-report.js";

/** The specification's `UpdateMetrics` (section 7.1), with where and when. */
export interface UpdateMetrics {
  /** The version deployed (the pin's new version). */
  version: string;
  channel: string;
  environment: string;
  /** The whole deploy, rollback included, in seconds. */
  updateTime: number;
  success: boolean;
  /** 1 when the deploy was rolled back (or a rollback was attempted), else 0. */
  rollbacks: number;
  /** Why the deploy failed, then each failed step's detail; empty on success. */
  errors: string[];
  /** Seconds spent in the verify (download), apply (install) and migrate steps. */
  performance: {
    downloadTime: number;
    installTime: number;
    migrationTime: number;
  };
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string;
}

/** The names of the metrics `buildUpdateRegistry` defines (the dashboard's vocabulary). */
export const UPDATE_METRIC_NAMES = {
  duration: "pinline_update_duration_seconds",
  attempts: "pinline_update_attempts_total",
  success: "pinline_update_success_total",
  rollbacks: "pinline_update_rollbacks_total",
  stepDuration: "pinline_update_step_duration_seconds",
} as const;

/** Deploys take minutes, not milliseconds: 5 s to 30 min. */
export const UPDATE_DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800];

const LABELS = ["version", "channel", "environment"] as const;

const seconds = (ms: number): number => ms / 1000;

function stepSeconds(report: DeployReport, name: StepName): number {
  return seconds(
    report.steps.filter((s) => s.name === name).reduce((total, s) => total + s.durationMs, 0),
  );
}

export function toUpdateMetrics(report: DeployReport): UpdateMetrics {
  const success = report.outcome === "success";
  const rolledBack = report.outcome === "rolled-back" || report.rollback !== undefined;
  const errors: string[] = [];
  if (report.error) errors.push(report.error);
  for (const step of report.steps) {
    if (step.status === "failed") errors.push(`${step.name}: ${step.detail}`);
  }
  for (const step of report.rollback?.steps ?? []) {
    if (step.status === "failed") errors.push(`rollback ${step.name}: ${step.detail}`);
  }
  return {
    version: report.to,
    channel: report.channel,
    environment: report.environment,
    updateTime: Math.max(0, seconds(report.finishedAt.getTime() - report.startedAt.getTime())),
    success,
    rollbacks: rolledBack ? 1 : 0,
    errors: [...new Set(errors)],
    performance: {
      downloadTime: stepSeconds(report, "verify"),
      installTime: stepSeconds(report, "apply"),
      migrationTime: stepSeconds(report, "migrate"),
    },
    startedAt: report.startedAt.toISOString(),
    finishedAt: report.finishedAt.toISOString(),
  };
}

/**
 * A fresh registry (never prom-client's global one) holding this one deploy: every series is
 * set, zeros included, so a push replaces whatever an earlier attempt left in the group.
 */
export function buildUpdateRegistry(metrics: UpdateMetrics): Registry {
  const registry = new Registry();
  const registers = [registry];
  const labels = {
    version: metrics.version,
    channel: metrics.channel,
    environment: metrics.environment,
  };

  new Histogram({
    name: UPDATE_METRIC_NAMES.duration,
    help: "How long a deploy took, rollback included, in seconds.",
    labelNames: LABELS,
    buckets: UPDATE_DURATION_BUCKETS,
    registers,
  }).observe(labels, metrics.updateTime);
  new Counter({
    name: UPDATE_METRIC_NAMES.attempts,
    help: "Deploys attempted.",
    labelNames: LABELS,
    registers,
  }).inc(labels, 1);
  new Counter({
    name: UPDATE_METRIC_NAMES.success,
    help: "Deploys that succeeded.",
    labelNames: LABELS,
    registers,
  }).inc(labels, metrics.success ? 1 : 0);
  new Counter({
    name: UPDATE_METRIC_NAMES.rollbacks,
    help: "Deploys that were rolled back.",
    labelNames: LABELS,
    registers,
  }).inc(labels, metrics.rollbacks);
  const steps = new Gauge({
    name: UPDATE_METRIC_NAMES.stepDuration,
    help: "Seconds spent in each step of the deploy (verify = download, apply = install).",
    labelNames: ["step", ...LABELS],
    registers,
  });
  const { downloadTime, installTime, migrationTime } = metrics.performance;
  steps.set({ step: "verify", ...labels }, downloadTime);
  steps.set({ step: "migrate", ...labels }, migrationTime);
  steps.set({ step: "apply", ...labels }, installTime);
  return registry;
}

export interface PushUpdateMetricsOptions {
  /** The Pushgateway's base URL: http://pushgateway:9091. */
  gatewayUrl: string;
  /** Default "pinline". */
  job?: string;
  /**
   * The grouping key. environment and version are required: see this module's comment on why
   * a group per (environment, version). Use the values the registry's labels carry
   * (`updateGroupings(metrics)`).
   */
  groupings: { environment: string; version: string } & Record<string, string>;
  /** Milliseconds before the push is abandoned; default 10 000. */
  timeoutMs?: number;
}

/** The grouping key for a deploy's metrics: its environment and version. */
export function updateGroupings(metrics: UpdateMetrics): { environment: string; version: string } {
  return { environment: metrics.environment, version: metrics.version };
}

/**
 * Pushes the registry to the Pushgateway with POST (prom-client's `pushAdd`): the group's
 * metrics of the same names are replaced, other metrics in the group are left alone.
 */
export async function pushUpdateMetrics(
  registry: Registry,
  options: PushUpdateMetricsOptions,
): Promise<void> {
  const gateway = new Pushgateway(
    options.gatewayUrl,
    { timeout: options.timeoutMs ?? 10_000 },
    registry,
  );
  try {
    await gateway.pushAdd({ jobName: options.job ?? "pinline", groupings: options.groupings });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`could not push the update metrics to ${options.gatewayUrl}: ${reason}`, {
      cause: error,
    });
  }
}

/** Writes the metrics as JSON through a temporary file renamed into place. */
export async function writeUpdateMetricsFile(path: string, metrics: UpdateMetrics): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(metrics, null, 2)}\n`, "utf8");
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
