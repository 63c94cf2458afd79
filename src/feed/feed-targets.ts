/**
 * The target files of the update feed: every release manifest as it is in git, and one index per
 * update channel listing what that channel offers (DESIGN §1 nesting; custom channels from the
 * policies' customChannels).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { entryMayBlock } from "../core/blocked-versions.js";
import { channelReceives, mergeCustomChannels } from "../core/channels.js";
import type { Policy, ReleaseManifest } from "../core/schema-types.js";
import { parseSize } from "../core/size.js";
import { compareVersions, type ParsedVersion } from "../core/version.js";
import { buildCatalog } from "../repo/catalog.js";
import { RELEASE_FILE } from "../repo/layout.js";
import type { RepositoryTree } from "../repo/load-tree.js";
import type { ReleaseSigner } from "./verify-feed-releases.js";

/** The built-in update channels, in the order their indexes are written. */
export const BUILT_IN_CHANNELS = ["stable", "beta", "early-access"] as const;

/** One release as a channel index lists it. */
export interface FeedRelease {
  version: string;
  /** The release channel of the build: stable, beta, rc, nightly. */
  channel: string;
  releaseDate: string;
  mandatory: boolean;
  /**
   * A policy that governs this channel blocks the version (specification section 8.1):
   * listed so an installation sees it, never offered as an update.
   */
  blocked: boolean;
  /** Installations older than this must step through it first (null: no minimum). */
  minimumVersion: string | null;
  releaseNotes: string | null;
  /**
   * Where to fetch the release: the artifact of the manifest's first component (manifest
   * order). The manifest target lists every component with its own artifact and checksum.
   */
  downloadUrl: string | null;
  /** The manifest target in this feed: its path (relative to the targets URL), size and hash. */
  manifest: { path: string; size: number; sha256: string };
  components: Record<
    string,
    { version: string; artifact: string; size: number; sha256: string; required: boolean }
  >;
  /**
   * The keys whose signatures made the release count when the feed was built (primary
   * fingerprints, as `pinline verify` prints them, and user ids): what an installation can show
   * or pin. Empty in an answer computed from the repository itself, where nothing was verified.
   */
  signedBy: ReleaseSigner[];
}

/** A channel index, the JSON of channels/<channel>.json. */
export interface ChannelIndex {
  channel: string;
  /**
   * The blockedVersions entries (exact versions or ranges) of the policies that govern the
   * channel: those listing it in allowedChannels, or allowing every channel. Releases they
   * match are marked `blocked`; a client may apply them to versions the index does not list.
   */
  blockedVersions: string[];
  /** Newest first. */
  releases: FeedRelease[];
}

/** The target files by path (relative to the targets URL), and their bytes. */
export type FeedTargets = Map<string, Buffer>;

/** Where a channel's index is: "channels/stable.json", "channels/custom/acme.json". */
export function channelIndexPath(channel: string): string {
  if (channel.startsWith("custom:"))
    return `channels/custom/${channel.slice("custom:".length)}.json`;
  return `channels/${channel}.json`;
}

/** Where a release's manifest is: "manifests/2.4.1.yaml". */
export function manifestPath(version: string): string {
  return `manifests/${version}.yaml`;
}

/** JSON with object keys sorted at every level, two-space indent and a final newline. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

interface Release {
  version: ParsedVersion;
  manifest: ReleaseManifest;
  bytes: Buffer;
  signedBy: ReleaseSigner[];
}

/** The policies that govern installations on the channel. */
function policiesOfChannel(policies: readonly Policy[], channel: string): Policy[] {
  return policies.filter(
    (policy) => !policy.allowedChannels || policy.allowedChannels.includes(channel),
  );
}

function toFeedRelease(release: Release, blockedVersions: readonly string[]): FeedRelease {
  const { manifest, version, bytes, signedBy } = release;
  const components: FeedRelease["components"] = {};
  for (const [name, component] of Object.entries(manifest.components)) {
    if (!component) continue;
    components[name] = {
      version: component.version,
      artifact: component.artifact,
      size: parseSize(component.size),
      sha256: component.sha256,
      required: component.required ?? true,
    };
  }
  const first = Object.values(manifest.components).find((c) => c !== undefined);
  return {
    version: version.canonical,
    channel: version.channel,
    releaseDate: manifest.releaseDate,
    mandatory: manifest.mandatory ?? false,
    blocked: blockedVersions.some((entry) => entryMayBlock(entry, version.canonical)),
    minimumVersion: manifest.minimumVersion ?? null,
    releaseNotes: manifest.releaseNotes ?? null,
    downloadUrl: first?.artifact ?? null,
    manifest: { path: manifestPath(version.canonical), size: bytes.length, sha256: sha256(bytes) },
    components,
    signedBy,
  };
}

/**
 * The feed's targets for a loaded tree: each manifest's bytes exactly as in git, and an index
 * for stable, beta, early-access and every custom channel any policy defines. With `verified`
 * (verifyFeedReleases' signers), only the releases it names are listed, each with its signers;
 * without it, every release whose manifest passed its schema (the unsigned answer from the
 * repository, what a feed would say).
 */
export function feedTargets(
  tree: RepositoryTree,
  verified?: ReadonlyMap<string, readonly ReleaseSigner[]>,
): FeedTargets {
  const catalog = buildCatalog(tree);
  const releases: Release[] = [];
  for (const { folder, version } of catalog.releases.values()) {
    if (!folder.data) continue;
    const signedBy = verified ? verified.get(version.canonical) : [];
    if (!signedBy) continue;
    const bytes = readFileSync(join(tree.root, "releases", folder.folder, RELEASE_FILE));
    releases.push({ version, manifest: folder.data, bytes, signedBy: [...signedBy] });
  }
  releases.sort((a, b) => compareVersions(b.version.canonical, a.version.canonical));

  const targets: FeedTargets = new Map();
  for (const release of releases)
    targets.set(manifestPath(release.version.canonical), release.bytes);

  const policies = tree.policies.flatMap((p) => (p.data ? [p.data] : []));
  const custom = mergeCustomChannels(policies);
  const channels = [
    ...BUILT_IN_CHANNELS,
    ...Object.keys(custom)
      .sort()
      .map((name) => `custom:${name}`),
  ];
  for (const channel of channels) {
    const blockedVersions = [
      ...new Set(policiesOfChannel(policies, channel).flatMap((p) => p.blockedVersions ?? [])),
    ];
    const index: ChannelIndex = {
      channel,
      blockedVersions,
      releases: releases
        .filter((r) => channelReceives(channel, r.version, custom))
        .map((r) => toFeedRelease(r, blockedVersions)),
    };
    targets.set(channelIndexPath(channel), Buffer.from(stableJson(index)));
  }
  return targets;
}
