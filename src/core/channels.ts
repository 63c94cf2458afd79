/**
 * Update channels: what an installation follows (DESIGN §1). They nest — stable ⊂ beta ⊂
 * early-access — and a `custom:<name>` channel receives only the versions its enterprise
 * policy lists.
 */
import { InvalidValueError } from "./errors.js";
import { isVersionInRange, type ParsedVersion, type ReleaseChannelName } from "./version.js";

/** An update channel, read from its text form. */
export type ParsedUpdateChannel =
  | { kind: "stable" | "beta" | "early-access" }
  | { kind: "custom"; name: string };

/** The versions each custom channel receives, as listed in a policy's `customChannels`. */
export type CustomChannels = Readonly<
  Record<string, { readonly versions: readonly string[] } | undefined>
>;

const RELEASE_CHANNELS_BY_KIND = {
  stable: ["stable"],
  beta: ["stable", "beta"],
  "early-access": ["stable", "beta", "rc", "nightly"],
  custom: ["stable", "beta", "rc", "nightly"],
} as const satisfies Record<ParsedUpdateChannel["kind"], readonly ReleaseChannelName[]>;

const CUSTOM_PREFIX = "custom:";
const CUSTOM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ACCEPTED_CHANNELS = 'use "stable", "beta", "early-access" or "custom:<name>"';

/**
 * Reads an update channel: "stable", "beta", "early-access" or "custom:<name>".
 * Throws InvalidValueError for anything else.
 */
export function parseUpdateChannel(text: string): ParsedUpdateChannel {
  if (text === "stable" || text === "beta" || text === "early-access") return { kind: text };
  if (typeof text === "string" && text.startsWith(CUSTOM_PREFIX)) {
    const name = text.slice(CUSTOM_PREFIX.length);
    if (CUSTOM_NAME_PATTERN.test(name)) return { kind: "custom", name };
    throw new InvalidValueError(
      `"${text}" is not an update channel: a custom channel's name is letters, digits, ".", "_" or "-", such as "custom:acme"`,
    );
  }
  const hint =
    text === "rc" || text === "nightly" ? ` (${text} builds come with "early-access")` : "";
  throw new InvalidValueError(
    `${JSON.stringify(text)} is not an update channel: ${ACCEPTED_CHANNELS}${hint}`,
  );
}

function toParsedChannel(channel: string | ParsedUpdateChannel): ParsedUpdateChannel {
  return typeof channel === "string" ? parseUpdateChannel(channel) : channel;
}

/**
 * The release channels an update channel receives, most stable first (for messages):
 * "beta" → ["stable", "beta"]. A custom channel may receive a build of any release channel, but
 * only the versions its policy lists.
 */
export function releaseChannelsFor(
  channel: string | ParsedUpdateChannel,
): readonly ReleaseChannelName[] {
  return RELEASE_CHANNELS_BY_KIND[toParsedChannel(channel).kind];
}

function customChannelReceives(
  name: string,
  version: ParsedVersion,
  customChannels: CustomChannels | undefined,
): boolean {
  if (!customChannels || !Object.hasOwn(customChannels, name)) return false;
  const entries = customChannels[name]?.versions ?? [];
  return entries.some((entry) => isVersionInRange(version.canonical, entry));
}

/**
 * Whether an installation following `channel` receives `version`. stable receives stable;
 * beta receives beta and stable; early-access receives nightly, rc, beta and stable;
 * custom:<name> receives the versions matching an entry (exact version or range) of
 * customChannels[name].versions, and nothing when the name is not defined.
 * Throws InvalidValueError for an unknown channel or a malformed custom entry.
 */
export function updateChannelReceives(
  channel: string | ParsedUpdateChannel,
  version: ParsedVersion,
  customChannels?: CustomChannels,
): boolean {
  const parsed = toParsedChannel(channel);
  if (parsed.kind === "custom") return customChannelReceives(parsed.name, version, customChannels);
  const received: readonly ReleaseChannelName[] = RELEASE_CHANNELS_BY_KIND[parsed.kind];
  return received.includes(version.channel);
}

/**
 * updateChannelReceives for documents that may be malformed: a channel or custom entry that
 * does not parse receives nothing (validate reports it where it is written).
 */
export function channelReceives(
  channel: string,
  version: ParsedVersion,
  customChannels?: CustomChannels,
): boolean {
  try {
    return updateChannelReceives(channel, version, customChannels);
  } catch {
    return false;
  }
}

/** Whether a policy lets `version` in: one of its allowed channels receives it (no list: all do). */
export function policyAllowsVersion(
  policy: { allowedChannels?: readonly string[]; customChannels?: CustomChannels },
  version: ParsedVersion,
): boolean {
  const channels = policy.allowedChannels;
  if (!channels || channels.length === 0) return true;
  return channels.some((channel) => channelReceives(channel, version, policy.customChannels));
}

/**
 * The custom channels of several policies that apply to one environment, their versions
 * joined (as validate merges them): a policy that does not define a custom channel does not
 * take versions away from one that does.
 */
export function mergeCustomChannels(
  policies: readonly { customChannels?: CustomChannels | undefined }[],
): CustomChannels {
  const merged: Record<string, { versions: string[] }> = {};
  for (const policy of policies) {
    for (const [name, custom] of Object.entries(policy.customChannels ?? {})) {
      if (!custom) continue;
      const versions = new Set([...(merged[name]?.versions ?? []), ...custom.versions]);
      merged[name] = { versions: [...versions] };
    }
  }
  return merged;
}
