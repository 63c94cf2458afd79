/**
 * Upgrade path (DESIGN §1): an upgrade from A to B needs A >= B.minimumVersion, otherwise the
 * environment must step through an intermediate release first; a downgrade is allowed only as
 * a revert to a version the environment ran among its last keepVersions versions.
 */
import { type CustomChannels, channelReceives } from "../channels.js";
import { PinlineError } from "../errors.js";
import { planUpgrade } from "../plan-upgrade.js";
import { compareVersions, isVersionInRange, tryParseVersion } from "../version.js";
import { DEFAULT_CHANNEL } from "./channel.js";
import { sameVersion } from "./describe-change.js";
import { formatInstant } from "./format-instant.js";
import type { GateInput } from "./gate-input.js";
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";

/** Custom channels of every applying policy, merged (validate checks they agree). */
function customChannelsOf(input: GateInput): CustomChannels {
  return Object.assign({}, ...input.policies.map((named) => named.policy.customChannels ?? {}));
}

/**
 * Whether an applying policy blocks the version. A malformed entry blocks nothing here: the
 * blocked-versions rule fails on it.
 */
function isBlocked(input: GateInput, version: string): boolean {
  return input.policies.some((named) =>
    (named.policy.blockedVersions ?? []).some((entry) => {
      try {
        return isVersionInRange(version, entry);
      } catch {
        return false;
      }
    }),
  );
}

/**
 * The releases the environment's channel receives and no applying policy blocks: the only
 * ones a path may step through (the target's own block is the blocked-versions rule's call).
 */
export function eligibleReleases(input: GateInput): GateInput["releases"] {
  const channel = input.channel ?? DEFAULT_CHANNEL;
  const custom = customChannelsOf(input);
  return input.releases.filter((release) => {
    const version = tryParseVersion(release.version);
    if (version === undefined || !channelReceives(channel, version, custom)) return false;
    return sameVersion(release.version, input.to) || !isBlocked(input, version.canonical);
  });
}

function evaluateUpgrade(input: RuleInput): RuleResult {
  const release = input.release;
  if (!release) return fail(`releases/${input.to} does not exist on the base branch`);
  if (input.newEnvironment) return pass(`a new environment, starting at ${input.to}`);
  const minimum = release.minimumVersion;
  if (minimum === undefined || compareVersions(input.from, minimum) >= 0) {
    const reason = minimum === undefined ? "sets no minimumVersion" : `needs ${minimum} or newer`;
    return pass(`${input.from} → ${input.to} in one step (${input.to} ${reason})`);
  }
  try {
    const path = planUpgrade({ from: input.from, to: input.to, releases: eligibleReleases(input) });
    const first = path[0] ?? input.to;
    return fail(
      `${input.from} is older than ${input.to}'s minimumVersion ${minimum}: promote ${first} first (path ${[input.from, ...path].join(" → ")})`,
    );
  } catch (error) {
    if (error instanceof PinlineError) {
      return fail(
        `${input.from} is older than ${input.to}'s minimumVersion ${minimum}: ${error.message}`,
      );
    }
    throw error;
  }
}

export function evaluateUpgradePath(input: RuleInput): RuleResult {
  const { change } = input;
  switch (change.kind) {
    case "unchanged":
      return pass(`the version stays ${input.to}`);
    case "revert": {
      const until = change.ranBefore?.until
        ? ` until ${formatInstant(change.ranBefore.until)}`
        : "";
      return pass(
        `a revert: ${input.environment} ran ${input.to}${until}, within its last ${change.keepVersions} versions`,
      );
    }
    case "downgrade":
      return fail(
        `${input.from} → ${input.to} is a downgrade, and ${input.environment} did not run ${input.to} among its last ${change.keepVersions} versions: only a revert may go back`,
      );
    case "upgrade":
      return evaluateUpgrade(input);
  }
}

export const upgradePath: GateRule = {
  name: "upgrade path",
  scope: "environment",
  evaluate: evaluateUpgradePath,
};
