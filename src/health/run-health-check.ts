/**
 * The deploy's health step (DESIGN §2 step 5): readiness and liveness probes first, then the
 * canary metrics measured every interval, `count` times (the policy's `analysis`, or as many
 * intervals as fit in the health-check period), and analysed as they come (evaluate-canary),
 * failing fast when the analysis says so.
 */
import { setTimeout as delay } from "node:timers/promises";
import {
  activeCriteria,
  analyseCanary,
  type CanaryCriteria,
  judgeMeasurement,
} from "../core/evaluate-canary.js";
import type { HealthMeasurement } from "../deploy/deploy-report.js";
import type { MetricsSource } from "./metrics-source.js";
import { type ProbeResult, probeHttp } from "./probe-http.js";

export interface ProbeSettings {
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** Pause between attempts. */
  intervalMs: number;
}

export interface HealthCheckOptions {
  /** Readiness URL (health.ready). */
  ready?: string | undefined;
  /** Liveness URL (health.live). */
  live?: string | undefined;
  probe: ProbeSettings;
  /** The policy's canary criteria. */
  criteria?: CanaryCriteria | undefined;
  /** Where the canary metrics come from; without it only the probes run. */
  source?: MetricsSource | undefined;
  /**
   * The health-check period (the policy's rollback.healthCheckTimeout): without `count`, as
   * many measurements as fit in it are taken.
   */
  periodMs?: number | undefined;
  /** Time between measurements (the policy's analysis.interval). */
  intervalMs: number;
  /** How many measurements to take (the policy's analysis.count); wins over periodMs. */
  count?: number | undefined;
  /** Failed measurements tolerated, in total; one more fails at once (default 2). */
  failureLimit?: number | undefined;
  /** Measurements without data tolerated, in total; one more ends it as inconclusive (default 2). */
  inconclusiveLimit?: number | undefined;
  onProbe?(probe: ProbeRecord): void;
  onMeasurement?(measurement: HealthMeasurement): void;
  /** Injected for tests; defaults to a real timer. */
  sleep?(ms: number): Promise<void>;
  /** Injected for tests; defaults to the system clock. */
  now?(): Date;
}

export interface ProbeRecord extends ProbeResult {
  kind: "ready" | "live";
  url: string;
}

export interface HealthCheckResult {
  /** inconclusive is returned as such: the caller decides whether it counts as a failure. */
  status: "pass" | "fail" | "inconclusive";
  /** One sentence: what decided it. */
  reason: string;
  probes: ProbeRecord[];
  measurements: HealthMeasurement[];
}

const PROBE_NAMES = { ready: "readiness", live: "liveness" } as const;

/**
 * Runs the probes (ready, then live; the first that fails ends the check with its reason),
 * then, when there is a metrics source, `count` measurements (default
 * `max(1, floor(periodMs / intervalMs))`) on a fixed schedule: the k-th at start + k·intervalMs
 * (a single derived measurement at periodMs when the period is shorter than one interval). Each is judged against the criteria and the run analysed after each one;
 * a fail or inconclusive verdict ends the check early. A measurement whose source throws is
 * inconclusive, with the error as its problem. Criteria without a source: inconclusive.
 */
export async function runHealthCheck(options: HealthCheckOptions): Promise<HealthCheckResult> {
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const now = options.now ?? (() => new Date());
  const probes: ProbeRecord[] = [];
  const measurements: HealthMeasurement[] = [];
  const result = (status: HealthCheckResult["status"], reason: string): HealthCheckResult => ({
    status,
    reason,
    probes,
    measurements,
  });

  for (const kind of ["ready", "live"] as const) {
    const url = options[kind];
    if (!url) continue;
    const probe: ProbeRecord = { kind, url, ...(await probeHttp({ url, ...options.probe })) };
    probes.push(probe);
    options.onProbe?.(probe);
    if (!probe.ok) {
      return result("fail", `${PROBE_NAMES[kind]} probe ${url} failed: ${probe.reason}`);
    }
  }
  const probed =
    probes.length > 0
      ? `${probes.map((p) => PROBE_NAMES[p.kind]).join(" and ")} probes passed`
      : "";

  const { source, criteria } = options;
  const judged = activeCriteria(criteria);
  if (!source) {
    if (judged.length > 0) {
      return result(
        "inconclusive",
        `the canary criteria (${judged.map((c) => c.name).join(", ")}) cannot be judged: no metrics source (health.prometheus) is configured`,
      );
    }
    return result("pass", probed || "nothing to check: no probes, no metrics");
  }

  const intervalMs = Math.max(1, options.intervalMs);
  const periodMs = Math.max(0, options.periodMs ?? intervalMs);
  const rounds = Math.max(1, Math.floor(options.count ?? periodMs / intervalMs));
  const firstAt = options.count === undefined ? Math.min(intervalMs, periodMs) : intervalMs;
  const started = now().getTime();
  try {
    await source.start?.();
  } catch {
    // No baseline: the first measurement takes it (or fails and says why).
  }

  for (let k = 1; k <= rounds; k++) {
    const due = started + (rounds === 1 ? firstAt : k * intervalMs);
    const wait = due - now().getTime();
    if (wait > 0) await sleep(wait);
    let measurement: HealthMeasurement;
    try {
      measurement = judgeMeasurement(criteria, await source.measure(), now());
    } catch (error) {
      measurement = {
        at: now(),
        values: {},
        verdict: "inconclusive",
        problems: [
          `${source.describe} failed: ${error instanceof Error ? error.message : String(error)}`,
        ],
      };
    }
    measurements.push(measurement);
    options.onMeasurement?.(measurement);
    const verdict = analyseCanary({
      criteria,
      measurements,
      failureLimit: options.failureLimit,
      inconclusiveLimit: options.inconclusiveLimit,
      finished: k === rounds,
    });
    if (verdict.status !== "running") {
      const status = verdict.status;
      const prefix =
        status === "fail"
          ? "canary failed"
          : status === "pass"
            ? "canary passed"
            : "canary inconclusive";
      return result(status, `${prefix}: ${verdict.reason}`);
    }
  }
  // analyseCanary always decides once finished; this is only reached with no rounds.
  return result("inconclusive", "no measurement was taken");
}
