/**
 * Which version an environment should move to next (specification section 2.1's client
 * updater, DESIGN §1): the newest release its update channel receives and every applying
 * policy allows (channel and blocked versions), newer than what it runs. When that release
 * cannot be reached directly (minimumVersion), the answer is the first step of the path.
 */
import { policiesBlock } from "./blocked-versions.js";
import { channelReceives, mergeCustomChannels, policyAllowsVersion } from "./channels.js";
import { PinlineError } from "./errors.js";
import { planUpgrade, type UpgradeCandidate } from "./plan-upgrade.js";
import type { Policy } from "./schema-types.js";
import { compareVersions, sameVersion, tryParseVersion } from "./version.js";

export interface UpdateChoice {
  /** The version to promote now: the newest, or the first step towards it. */
  next: string;
  /** The newest eligible release. */
  newest: string;
  /** Versions to install in order, ending with `newest`. */
  path: string[];
}

/** Releases the environment may receive: on its channel, allowed and not blocked by every policy. */
export function eligibleUpdates(input: {
  channel: string;
  policies: readonly Policy[];
  releases: readonly UpgradeCandidate[];
}): UpgradeCandidate[] {
  const custom = mergeCustomChannels(input.policies);
  return input.releases.filter((release) => {
    const version = tryParseVersion(release.version);
    return (
      version !== undefined &&
      channelReceives(input.channel, version, custom) &&
      input.policies.every((policy) => policyAllowsVersion(policy, version)) &&
      !policiesBlock(input.policies, release.version)
    );
  });
}

/**
 * The update to propose, or undefined when the environment already runs the newest eligible
 * release (or nothing newer is reachable — `unreachable` then says why). Versions `held` in the
 * environment after a revert are never proposed (core/revert-hold.ts).
 */
export function selectUpdate(input: {
  current: string;
  channel: string;
  policies: readonly Policy[];
  releases: readonly UpgradeCandidate[];
  held?: readonly string[] | undefined;
}): UpdateChoice | { unreachable: string } | undefined {
  const eligible = eligibleUpdates(input).filter(
    (release) =>
      compareVersions(release.version, input.current) > 0 &&
      !(input.held ?? []).some((held) => sameVersion(held, release.version)),
  );
  const newest = eligible.sort((a, b) => compareVersions(b.version, a.version))[0];
  if (!newest) return undefined;
  try {
    const path = planUpgrade({ from: input.current, to: newest.version, releases: eligible });
    return { next: path[0] ?? newest.version, newest: newest.version, path };
  } catch (error) {
    if (error instanceof PinlineError) return { unreachable: error.message };
    throw error;
  }
}
