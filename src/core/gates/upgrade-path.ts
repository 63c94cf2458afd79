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
import { sameVersion } from "./describe-change.js";
import { formatInstant } from "./format-instant.js";
import type { GateInput } from "./gate-input.js";
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";

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
