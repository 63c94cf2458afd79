/**
 * Whether a pin change is an upgrade, a revert (a downgrade to a version the environment ran
 * among its last `keepVersions` versions — DESIGN §1), or a downgrade that is not a revert.
 */
import { compareVersions, sameVersion, tryParseVersion } from "../version.js";
import type { GateInput, PinPeriod } from "./gate-input.js";
import type { Change } from "./gate-rule.js";

/** The specification's default (section 2.1): rollback reaches back 3 versions. */
export const DEFAULT_KEEP_VERSIONS = 3;

export { sameVersion } from "../version.js";

/** The strictest keepVersions among the policies that apply. */
export function keepVersionsOf(input: GateInput): number {
  const values = input.policies
    .map((named) => named.policy.rollback?.keepVersions)
    .filter((value): value is number => value !== undefined);
  return values.length === 0 ? DEFAULT_KEEP_VERSIONS : Math.min(...values);
}

/**
 * The last `count` distinct versions the environment ran before its current pin, newest first;
 * the current version itself never takes one of the places.
 */
function earlierPeriods(
  periods: readonly PinPeriod[],
  current: string,
  count: number,
): PinPeriod[] {
  const found: PinPeriod[] = [];
  for (let index = periods.length - 2; index >= 0 && found.length < count; index--) {
    const period = periods[index] as PinPeriod;
    if (sameVersion(period.version, current)) continue;
    if (!found.some((seen) => sameVersion(seen.version, period.version))) found.push(period);
  }
  return found;
}

export function describeChange(input: GateInput): Change {
  const keepVersions = keepVersionsOf(input);
  if (input.newEnvironment) return { kind: "upgrade", keepVersions };
  const order =
    tryParseVersion(input.from) && tryParseVersion(input.to)
      ? compareVersions(input.to, input.from)
      : 1;
  if (order === 0) return { kind: "unchanged", keepVersions };
  if (order > 0) return { kind: "upgrade", keepVersions };
  const periods = input.history[input.environment] ?? [];
  const ranBefore = earlierPeriods(periods, input.from, keepVersions).find((period) =>
    sameVersion(period.version, input.to),
  );
  return ranBefore
    ? { kind: "revert", ranBefore, keepVersions }
    : { kind: "downgrade", keepVersions };
}
