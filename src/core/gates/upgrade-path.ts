/**
 * Upgrade path (DESIGN §1): an upgrade from A to B needs A >= B.minimumVersion, otherwise the
 * environment must step through an intermediate release first; a downgrade is allowed only as
 * a revert to a version the environment ran among its last keepVersions versions.
 */
import { PinlineError } from "../errors.js";
import { planUpgrade } from "../plan-upgrade.js";
import { eligibleUpdates } from "../select-update.js";
import { compareVersions } from "../version.js";
import { DEFAULT_CHANNEL } from "./channel.js";
import { describeChange, sameVersion } from "./describe-change.js";
import { formatInstant } from "./format-instant.js";
import type { GateInput } from "./gate-input.js";
import {
  type Change,
  fail,
  type GateRule,
  pass,
  type RuleInput,
  type RuleResult,
} from "./gate-rule.js";

/**
 * The releases a path may step through: those the environment's channel receives and every
 * applying policy allows and does not block. The target itself stays in (whether it is
 * allowed or blocked is the channel and blocked-versions rules' call).
 */
export function eligibleReleases(input: GateInput): GateInput["releases"] {
  const eligible = eligibleUpdates({
    channel: input.channel ?? DEFAULT_CHANNEL,
    policies: input.policies.map((named) => named.policy),
    releases: input.releases,
  });
  const target = input.releases.find((release) => sameVersion(release.version, input.to));
  return target && !eligible.includes(target) ? [...eligible, target] : eligible;
}

/**
 * How a pin change gets from `from` to `to`, decided once: the gate's "upgrade path" row and
 * `pinline plan`'s header are both written from it, so they cannot tell different stories.
 */
export type UpgradePath =
  /** The version stays. */
  | { kind: "unchanged" }
  /** A new pin: nothing to step from. */
  | { kind: "new-environment" }
  /** Back to a version the environment ran among its last `keepVersions` versions. */
  | { kind: "revert"; until: Date | undefined; keepVersions: number }
  /** Back to a version it did not run recently: refused. */
  | { kind: "downgrade"; keepVersions: number }
  /** releases/<to> does not exist. */
  | { kind: "not-released" }
  /** An upgrade; `steps` are the versions to install in order, ending with `to`. */
  | { kind: "upgrade"; minimum: string | undefined; steps: string[] }
  /** An upgrade that no eligible release can step towards. */
  | { kind: "unreachable"; minimum: string; problem: string };

function upgradeSteps(input: GateInput): UpgradePath {
  const release = input.release;
  if (!release) return { kind: "not-released" };
  if (input.newEnvironment) return { kind: "new-environment" };
  const minimum = release.minimumVersion;
  if (minimum === undefined || compareVersions(input.from, minimum) >= 0) {
    return { kind: "upgrade", minimum, steps: [input.to] };
  }
  try {
    const steps = planUpgrade({
      from: input.from,
      to: input.to,
      releases: eligibleReleases(input),
    });
    return { kind: "upgrade", minimum, steps };
  } catch (error) {
    if (error instanceof PinlineError)
      return { kind: "unreachable", minimum, problem: error.message };
    throw error;
  }
}

/** The upgrade path of the gate's input, as the "upgrade path" rule judges it. */
export function findUpgradePath(
  input: GateInput,
  change: Change = describeChange(input),
): UpgradePath {
  switch (change.kind) {
    case "unchanged":
      return { kind: "unchanged" };
    case "revert":
      return { kind: "revert", until: change.ranBefore?.until, keepVersions: change.keepVersions };
    case "downgrade":
      return { kind: "downgrade", keepVersions: change.keepVersions };
    case "upgrade":
      return upgradeSteps(input);
  }
}

/** The versions to install in order, ending with `to`; [] when it stays; undefined when refused. */
export function versionsToInstall(path: UpgradePath, to: string): string[] | undefined {
  switch (path.kind) {
    case "unchanged":
      return [];
    case "new-environment":
    case "revert":
      return [to];
    case "upgrade":
      return path.steps;
    default:
      return undefined;
  }
}

/** The gate's row: pass or fail, and why. */
export function judgeUpgradePath(input: GateInput, path: UpgradePath): RuleResult {
  switch (path.kind) {
    case "unchanged":
      return pass(`the version stays ${input.to}`);
    case "new-environment":
      return pass(`a new environment, starting at ${input.to}`);
    case "revert": {
      const until = path.until ? ` until ${formatInstant(path.until)}` : "";
      return pass(
        `a revert: ${input.environment} ran ${input.to}${until}, within its last ${path.keepVersions} versions`,
      );
    }
    case "downgrade":
      return fail(
        `${input.from} → ${input.to} is a downgrade, and ${input.environment} did not run ${input.to} among its last ${path.keepVersions} versions: only a revert may go back`,
      );
    case "not-released":
      return fail(`releases/${input.to} does not exist on the base branch`);
    case "upgrade": {
      const first = path.steps[0] ?? input.to;
      if (path.steps.length <= 1) {
        const reason =
          path.minimum === undefined ? "sets no minimumVersion" : `needs ${path.minimum} or newer`;
        return pass(`${input.from} → ${input.to} in one step (${input.to} ${reason})`);
      }
      return fail(
        `${input.from} is older than ${input.to}'s minimumVersion ${path.minimum}: promote ${first} first (path ${[input.from, ...path.steps].join(" → ")})`,
      );
    }
    case "unreachable":
      return fail(
        `${input.from} is older than ${input.to}'s minimumVersion ${path.minimum}: ${path.problem}`,
      );
  }
}

/**
 * `pinline plan`'s "upgrade path:" line, from the same UpgradePath as the gate's row: the
 * versions in order when there is a path, "none needed" or "none: why" when there is not.
 */
export function describeUpgradePath(input: GateInput, path: UpgradePath): string {
  switch (path.kind) {
    case "unchanged":
      return `none needed: ${input.environment} already runs ${input.from}`;
    case "new-environment":
      return `none needed: a new environment, starting at ${input.to}`;
    case "revert":
      return `${input.from} → ${input.to}, a revert to a version ${input.environment} ran within its last ${path.keepVersions} versions`;
    case "upgrade": {
      const versions = [input.from, ...path.steps].join(" → ");
      return path.steps.length > 1 ? `${versions} (promote ${path.steps[0]} first)` : versions;
    }
    default:
      return `none: ${judgeUpgradePath(input, path).reason}`;
  }
}

export function evaluateUpgradePath(input: RuleInput): RuleResult {
  return judgeUpgradePath(input, findUpgradePath(input, input.change));
}

export const upgradePath: GateRule = {
  name: "upgrade path",
  scope: "environment",
  evaluate: evaluateUpgradePath,
};
