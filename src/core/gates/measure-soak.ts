/**
 * How long a version has run in one environment, uninterrupted (DESIGN §1 "soaked"): from the
 * pin's git history, refined by GitHub deployment statuses when they were read. Shared by the
 * soak rule (the policy's testing environments) and the stage-order rule (the previous stage).
 *
 * The latest period in which the environment pinned the version counts. A period ended by a
 * newer version still counts in full — a newer build landing in staging does not reset the
 * soak of the version being promoted — but one ended by a revert, or a failed deployment
 * during the period, is an interruption.
 */
import { compareVersions } from "../version.js";
import { sameVersion } from "./describe-change.js";
import { formatInstant, formatSpan } from "./format-instant.js";
import type { DeploymentRecord, GateInput, GateStatus, PinPeriod } from "./gate-input.js";

export interface SoakMeasure {
  status: GateStatus;
  /** One clause about this environment: "staging: 49h since Fri 2024-03-15 10:00 UTC". */
  detail: string;
  until?: Date | undefined;
}

const FAILED_STATES = new Set(["failure", "error"]);

function latestPeriodOf(periods: readonly PinPeriod[], version: string): PinPeriod | undefined {
  return periods.findLast((period) => sameVersion(period.version, version));
}

/** Statuses of this version's deployments to the environment within the period, in time order. */
function statusesWithin(
  deployments: readonly DeploymentRecord[],
  environment: string,
  version: string,
  period: PinPeriod,
): { state: string; createdAt: Date }[] {
  const end = period.until?.getTime() ?? Number.POSITIVE_INFINITY;
  return deployments
    .filter((d) => d.environment === environment && sameVersion(d.version, version))
    .flatMap((d) => d.statuses)
    .filter((s) => s.createdAt.getTime() >= period.since.getTime() && s.createdAt.getTime() < end)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/**
 * When the version started to run uninterrupted: the first successful deployment after the
 * last failed one, else (deployments not read) the pin commit.
 */
function findStart(
  input: SoakInput,
  period: PinPeriod,
): { start: Date; source: string } | SoakMeasure {
  if (input.deployments === undefined) {
    return { start: period.since, source: "pin merged" };
  }
  // An environment no deploy has ever reported on (Argo CD or Flux apply the pin) is judged
  // from git alone; one that has deployments must show this version's success.
  if (!input.deployments.some((d) => d.environment === input.environment)) {
    return { start: period.since, source: "pin merged; no deployments recorded" };
  }
  const statuses = statusesWithin(input.deployments, input.environment, input.version, period);
  const lastFailure = statuses.findLastIndex((s) => FAILED_STATES.has(s.state));
  const success = statuses.slice(lastFailure + 1).find((s) => s.state === "success");
  if (success) {
    const source = lastFailure >= 0 ? "redeployed after a failure" : "deployed";
    return { start: success.createdAt, source };
  }
  const failure = statuses[lastFailure];
  if (failure) {
    return {
      status: "fail",
      detail: `${input.environment}: the latest deployment of ${input.version} failed at ${formatInstant(failure.createdAt)}`,
    };
  }
  return {
    status: period.until ? "fail" : "waiting",
    detail: `${input.environment}: pinned to ${input.version} at ${formatInstant(period.since)} but no deployment of it has succeeded yet`,
  };
}

export interface SoakInput {
  environment: string;
  version: string;
  /** Required uninterrupted run time in milliseconds. */
  requiredMs: number;
  now: Date;
  /** The environment's pin history; undefined when it was not read. */
  periods: readonly PinPeriod[] | undefined;
  deployments: readonly DeploymentRecord[] | undefined;
}

export function measureSoak(input: SoakInput): SoakMeasure {
  const { environment, version } = input;
  if (input.periods === undefined) {
    return { status: "fail", detail: `${environment}: its pin history was not read` };
  }
  const period = latestPeriodOf(input.periods, version);
  if (!period) {
    return { status: "fail", detail: `${environment} has never run ${version}` };
  }
  if (period.next !== undefined && period.until && compareVersions(period.next, version) < 0) {
    return {
      status: "fail",
      detail: `${environment} reverted ${version} to ${period.next} at ${formatInstant(period.until)}; promote it there again to restart its soak`,
    };
  }
  const started = findStart(input, period);
  if ("status" in started) return started;
  const end = period.until ?? input.now;
  const ranMs = end.getTime() - started.start.getTime();
  const since = `since ${formatInstant(started.start)}, ${started.source}`;
  if (ranMs >= input.requiredMs) {
    const replaced = period.until ? `, until ${period.next} replaced it` : "";
    return {
      status: "pass",
      detail: `${environment}: ${formatSpan(ranMs)} (${since}${replaced})`,
    };
  }
  if (period.until) {
    return {
      status: "fail",
      detail: `${environment}: ran ${formatSpan(ranMs)} of ${formatSpan(input.requiredMs)} before ${period.next} replaced it (${since})`,
    };
  }
  const until = new Date(started.start.getTime() + input.requiredMs);
  return {
    status: "waiting",
    detail: `${environment}: ${formatSpan(ranMs)} of ${formatSpan(input.requiredMs)} (${since}); soaked at ${formatInstant(until)}`,
    until,
  };
}

/** Folds several environments' measures into one result: any fail fails, then any waiting. */
export function combineMeasures(measures: readonly SoakMeasure[]): {
  status: GateStatus;
  details: string;
  until?: Date | undefined;
} {
  const details = measures.map((m) => m.detail).join("; ");
  if (measures.some((m) => m.status === "fail")) return { status: "fail", details };
  const waits = measures.filter((m) => m.status === "waiting");
  if (waits.length === 0) return { status: "pass", details };
  const untils = waits.map((m) => m.until);
  const until = untils.every((u) => u !== undefined)
    ? new Date(Math.max(...untils.map((u) => (u as Date).getTime())))
    : undefined;
  return { status: "waiting", details, until };
}

/** How long the target version ran in each of `environments`, folded into one result. */
export function measureSoakIn(
  input: GateInput,
  environments: readonly string[],
  requiredMs: number,
): ReturnType<typeof combineMeasures> {
  return combineMeasures(
    environments.map((environment) =>
      measureSoak({
        environment,
        version: input.to,
        requiredMs,
        now: input.now,
        periods: input.history[environment],
        deployments: input.deployments,
      }),
    ),
  );
}
