/**
 * Channels (DESIGN §1): the environment's update channel must receive the version, and the
 * policy's allowedChannels must let it in (custom channels list their versions in the policy).
 */
import {
  type CustomChannels,
  channelReceives,
  mergeCustomChannels,
  policyAllowsVersion,
  releaseChannelsFor,
} from "../channels.js";
import { tryParseVersion } from "../version.js";
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";

/** The specification's default configuration follows stable. */
export const DEFAULT_CHANNEL = "stable";

const CUSTOM_PREFIX = "custom:";

/** The custom channels the environment's channel is looked up in: every applying policy's. */
function environmentCustomChannels(input: RuleInput): CustomChannels {
  return mergeCustomChannels([...input.policies, input.policy].map((named) => named.policy));
}

function describeChannel(channel: string, custom: CustomChannels): string {
  if (channel.startsWith(CUSTOM_PREFIX)) {
    const name = channel.slice(CUSTOM_PREFIX.length);
    const versions = Object.hasOwn(custom, name) ? custom[name]?.versions : undefined;
    return versions
      ? `${channel}, which receives only ${versions.join(", ")}`
      : `${channel}, which no applying policy defines in customChannels`;
  }
  try {
    return `${channel} (${releaseChannelsFor(channel).join(", ")} builds)`;
  } catch {
    return channel;
  }
}

export function evaluateChannel(input: RuleInput): RuleResult {
  const version = tryParseVersion(input.to);
  if (!version) return fail(`"${input.to}" is not a version`);
  const { policy, file } = input.policy;
  const channel = input.channel ?? DEFAULT_CHANNEL;
  const custom = environmentCustomChannels(input);
  if (!channelReceives(channel, version, custom)) {
    return fail(
      `${input.to} is a ${version.channel} build; ${input.environment} follows ${describeChannel(channel, custom)}`,
    );
  }
  if (!policyAllowsVersion(policy, version)) {
    return fail(
      `${file} allows only ${(policy.allowedChannels ?? []).join(", ")}, which do not receive ${input.to} (a ${version.channel} build)`,
    );
  }
  const allowed = policy.allowedChannels?.length
    ? `; ${file} allows ${policy.allowedChannels.join(", ")}`
    : "";
  return pass(`${input.environment} follows ${channel}, which receives ${input.to}${allowed}`);
}

export const channel: GateRule = { name: "channel", scope: "policy", evaluate: evaluateChannel };
