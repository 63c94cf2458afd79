/**
 * Canary analysis (DESIGN §1 policy `canary` and `analysis`, §2 deploy step 5), in the manner of
 * Argo Rollouts' AnalysisRun (https://argo-rollouts.readthedocs.io/en/stable/features/analysis/,
 * argoproj/argo-rollouts docs/features/analysis.md): a measurement every `interval`, `count` of
 * them; each is judged against the policy's thresholds, and the analysis fails once more than
 * `failureLimit` measurements failed and is inconclusive once more than `inconclusiveLimit` had
 * no data — totals, not runs in a row. Unlike Argo, it passes at the end only when at least one
 * measurement passed: no data is never a pass (DESIGN §6, fail closed).
 * Pure: plain data in, plain data out; no I/O, no clock.
 */
import type { CanaryCriteria, Threshold } from "./schema-types.js";

export type { CanaryCriteria, Threshold } from "./schema-types.js";

/** One round of canary metrics, judged against the policy's criteria. */
export interface HealthMeasurement {
  at: Date;
  /** By criterion name (errorRate, responseTimeP95Ms, successRate); undefined = no data. */
  values: Record<string, number | undefined>;
  verdict: "pass" | "fail" | "inconclusive";
  /** Criteria that failed or had no data: "errorRate 0.31 > max 0.01". */
  problems: string[];
}

/** The criteria a policy may set, in the order they are reported. */
export const CRITERION_NAMES = ["errorRate", "responseTimeP95Ms", "successRate"] as const;
export type CriterionName = (typeof CRITERION_NAMES)[number];

export interface CanaryVerdict {
  status: "running" | "pass" | "fail" | "inconclusive";
  /** One sentence: why, naming the criteria and the values. */
  reason: string;
}

export interface CanaryAnalysisInput {
  criteria: CanaryCriteria | undefined;
  /** Already judged (judgeMeasurement), oldest first. */
  measurements: readonly HealthMeasurement[];
  /** Failed measurements tolerated; one more fails the canary at once (default 2, at least 0). */
  failureLimit?: number | undefined;
  /** Measurements without data tolerated; one more makes it inconclusive (default 2, at least 0). */
  inconclusiveLimit?: number | undefined;
  /** The health-check period has elapsed: no more measurements will come. */
  finished: boolean;
}

/** The policy schema's defaults for analysis.failureLimit and analysis.inconclusiveLimit. */
export const DEFAULT_FAILURE_LIMIT = 2;
export const DEFAULT_INCONCLUSIVE_LIMIT = 2;

/** The measurement interval when the policy names none: a tenth of the period, 1s to 30s. */
export function defaultAnalysisInterval(periodMs: number): number {
  return Math.max(1_000, Math.min(30_000, Math.floor(periodMs / 10)));
}

export interface AnalysisSchedule {
  intervalMs: number;
  count: number;
  /** How long the measurements take: count × interval. */
  totalMs: number;
}

/**
 * When the measurements are taken: every `intervalMs` (default: defaultAnalysisInterval of the
 * period), `count` times (default: as many intervals as fit in the period, at least one).
 */
export function analysisSchedule(input: {
  periodMs: number;
  intervalMs?: number | undefined;
  count?: number | undefined;
}): AnalysisSchedule {
  const intervalMs = Math.max(1, input.intervalMs ?? defaultAnalysisInterval(input.periodMs));
  const count = Math.max(1, Math.floor(input.count ?? input.periodMs / intervalMs));
  return { intervalMs, count, totalMs: count * intervalMs };
}

/** How one criterion fared in one measurement. */
interface CriterionCheck {
  name: CriterionName;
  outcome: "pass" | "fail" | "missing";
  /** "errorRate 0.30 > max 0.01", "successRate 1.00 >= min 0.99", "errorRate: no data". */
  text: string;
}

/** The criteria that have at least one bound, in report order. */
export function activeCriteria(
  criteria: CanaryCriteria | undefined,
): { name: CriterionName; threshold: Threshold }[] {
  const active: { name: CriterionName; threshold: Threshold }[] = [];
  for (const name of CRITERION_NAMES) {
    const threshold = criteria?.[name];
    if (threshold && (threshold.min !== undefined || threshold.max !== undefined)) {
      active.push({ name, threshold });
    }
  }
  return active;
}

function decimalsOf(value: number): number {
  const text = String(value);
  if (/e/i.test(text)) return 6;
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * The value with as many decimals as its bound has (at least two below 1), and more when that
 * would make a value that differs from the bound look equal to it: 0.3 vs 0.01 → "0.30",
 * 485.3 vs 200 → "485", 0.011 vs 0.01 → "0.011".
 */
function formatAgainst(value: number, bound: number): string {
  if (!Number.isFinite(value)) return String(value);
  let decimals = decimalsOf(bound);
  if (Math.abs(value) < 1 && value !== 0 && decimals < 2) decimals = 2;
  while (
    decimals < 6 &&
    value !== bound &&
    Number(value.toFixed(decimals)) === Number(bound.toFixed(decimals))
  ) {
    decimals += 1;
  }
  return value.toFixed(decimals);
}

function checkCriteria(
  criteria: CanaryCriteria | undefined,
  values: Readonly<Record<string, number | undefined>>,
): CriterionCheck[] {
  return activeCriteria(criteria).map(({ name, threshold }) => {
    const value = values[name];
    if (value === undefined || Number.isNaN(value)) {
      return { name, outcome: "missing", text: `${name}: no data` };
    }
    const { min, max } = threshold;
    if (max !== undefined && value > max) {
      return { name, outcome: "fail", text: `${name} ${formatAgainst(value, max)} > max ${max}` };
    }
    if (min !== undefined && value < min) {
      return { name, outcome: "fail", text: `${name} ${formatAgainst(value, min)} < min ${min}` };
    }
    const held = [
      min !== undefined ? `>= min ${min}` : undefined,
      max !== undefined ? `<= max ${max}` : undefined,
    ].filter(Boolean);
    const shown = formatAgainst(value, (max ?? min) as number);
    return { name, outcome: "pass", text: `${name} ${shown} ${held.join(" and ")}` };
  });
}

/**
 * Judges one round of metric values against the criteria: `fail` when any criterion is out of
 * bounds; otherwise `inconclusive` when any criterion has no value (undefined or NaN); otherwise
 * `pass`. `problems` lists the failed criteria first, then those without data.
 */
export function judgeMeasurement(
  criteria: CanaryCriteria | undefined,
  values: Readonly<Record<string, number | undefined>>,
  at: Date,
): HealthMeasurement {
  const checks = checkCriteria(criteria, values);
  const failed = checks.filter((c) => c.outcome === "fail");
  const missing = checks.filter((c) => c.outcome === "missing");
  const verdict = failed.length > 0 ? "fail" : missing.length > 0 ? "inconclusive" : "pass";
  return {
    at,
    values: { ...values },
    verdict,
    problems: [...failed, ...missing].map((c) => c.text),
  };
}

function limit(value: number | undefined, fallback: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.max(0, Math.floor(value));
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** What made a failed measurement fail: its out-of-bounds criteria. */
function failureText(criteria: CanaryCriteria | undefined, m: HealthMeasurement): string {
  const failed = checkCriteria(criteria, m.values).filter((c) => c.outcome === "fail");
  if (failed.length > 0) return failed.map((c) => c.text).join("; ");
  // Judged against other criteria than these: trust what the measurement recorded.
  return m.problems.join("; ") || "the measurement failed";
}

/** Why a measurement was inconclusive: the criteria without data, or what the source said. */
function inconclusiveText(m: HealthMeasurement): string {
  return m.problems.join("; ") || "no data";
}

function tally(measurements: readonly HealthMeasurement[]): string {
  const count = (v: HealthMeasurement["verdict"]) =>
    measurements.filter((m) => m.verdict === v).length;
  return `${plural(measurements.length, "measurement")}: ${count("pass")} passed, ${count("fail")} failed, ${count("inconclusive")} inconclusive`;
}

/**
 * Decides the canary from the measurements so far (totals, in measurement order):
 * - `fail` as soon as more than `failureLimit` measurements failed (fail fast);
 * - `inconclusive` as soon as more than `inconclusiveLimit` measurements lacked data;
 * - when `finished`: `pass` if neither limit was exceeded and at least one measurement passed;
 *   otherwise `fail` when some failed, `inconclusive` when none had data (or none was taken);
 * - otherwise `running`.
 * Without criteria there is nothing to judge: `pass` at the finish ("no canary criteria").
 */
export function analyseCanary(input: CanaryAnalysisInput): CanaryVerdict {
  const { criteria, measurements, finished } = input;
  if (activeCriteria(criteria).length === 0) {
    return finished
      ? { status: "pass", reason: "no canary criteria: nothing to judge" }
      : { status: "running", reason: "no canary criteria: waiting for the period to end" };
  }
  const failureLimit = limit(input.failureLimit, DEFAULT_FAILURE_LIMIT);
  const inconclusiveLimit = limit(input.inconclusiveLimit, DEFAULT_INCONCLUSIVE_LIMIT);

  let failures = 0;
  let inconclusives = 0;
  let seen = 0;
  let lastPassed: HealthMeasurement | undefined;
  let lastFailed: HealthMeasurement | undefined;
  for (const m of measurements) {
    seen += 1;
    if (m.verdict === "pass") lastPassed = m;
    if (m.verdict === "fail") {
      failures += 1;
      lastFailed = m;
      if (failures > failureLimit) {
        return {
          status: "fail",
          reason: `${failureText(criteria, m)} in ${failures} of ${plural(seen, "measurement")} (failureLimit ${failureLimit})`,
        };
      }
    }
    if (m.verdict === "inconclusive") {
      inconclusives += 1;
      if (inconclusives > inconclusiveLimit) {
        return {
          status: "inconclusive",
          reason: `${inconclusiveText(m)} in ${inconclusives} of ${plural(seen, "measurement")} (inconclusiveLimit ${inconclusiveLimit})`,
        };
      }
    }
  }

  if (!finished) return { status: "running", reason: tally(measurements) };
  const last = measurements.at(-1);
  if (!last) return { status: "inconclusive", reason: "no measurement was taken" };
  if (lastPassed) {
    const held = checkCriteria(criteria, lastPassed.values)
      .map((c) => c.text)
      .join(", ");
    return { status: "pass", reason: `${held} (${tally(measurements)})` };
  }
  if (lastFailed) {
    return {
      status: "fail",
      reason: `no measurement passed: ${failureText(criteria, lastFailed)} (${tally(measurements)})`,
    };
  }
  return {
    status: "inconclusive",
    reason: `no measurement passed: ${inconclusiveText(last)} (${tally(measurements)})`,
  };
}
