/**
 * `pinline feed build`: the static update feed as a TUF repository (issue 7, DESIGN §6), built
 * and signed with @tufjs/models, listing only the releases that verify.
 *
 * The layout (src/feed/feed-layout.ts) uses consistent snapshots: versioned snapshot and targets
 * metadata, every target under its own sha256, timestamp.json the only name that is rewritten.
 * The files of the previous version (its snapshot, targets and target files) are kept beside
 * the new ones, so an installation that read the previous timestamp.json just before a deploy,
 * or from a cache, still finds everything it names. A TUF client uses `<base>/metadata/` as its
 * metadata URL and `<base>/targets/` as its target URL.
 */

import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  Metadata,
  MetadataKind,
  MetaFile,
  Root,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
} from "@tufjs/models";
import { parseDuration } from "../core/duration.js";
import { PinlineError, RefusedError, UsageError } from "../core/errors.js";
import { loadTree } from "../repo/load-tree.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { METADATA_DIR, metadataFileName, TARGETS_DIR, targetFileName } from "./feed-layout.js";
import { feedTargets, manifestPath, stableJson } from "./feed-targets.js";
import {
  type FeedKeys,
  type FeedPrivateKey,
  type SigningKey,
  signerFor,
  signingKey,
} from "./keys.js";
import { readFeedMetadata } from "./read-feed-metadata.js";
import {
  type TrustedRootKey,
  type VerifiedFeedMetadata,
  verifyFeedMetadata,
} from "./verify-feed-metadata.js";
import {
  describeUnverified,
  type UnverifiedRelease,
  verifyFeedReleases,
} from "./verify-feed-releases.js";

export { METADATA_DIR, TARGETS_DIR } from "./feed-layout.js";

const SPEC_VERSION = "1.0.31";

/** How long each role's metadata stays valid: a duration ("7d", "24h") or milliseconds. */
export interface FeedExpiry {
  root?: string | number;
  targets?: string | number;
  snapshot?: string | number;
  timestamp?: string | number;
}

/**
 * The feed's clock. An installation refuses a feed any of whose metadata has expired, and a feed
 * that nobody re-signs looks exactly like that, so the expiries are chosen against the schedule
 * that re-signs them stopping for days:
 *
 * - timestamp.json: 7 days. Every scheduled run (every 6 hours, .github/workflows/publish.yml)
 *   re-signs it, so it normally has more than 6½ days left, and GitHub can delay or drop the
 *   scheduled runs for days before an installation freezes: GitHub documents that "the schedule
 *   event can be delayed during periods of high loads of GitHub Actions workflow runs … If the
 *   load is sufficiently high enough, some queued jobs may be dropped" (docs.github.com/en/
 *   actions/reference/workflows-and-actions/events-that-trigger-workflows#schedule). The run
 *   fails loudly long before a freeze (actions/publish's expiry-margin: under 5 days left).
 *   Sigstore's TUF repository does the same: a 7-day timestamp re-signed once less than 6 days
 *   are left, from a cron at 17 past every 6th hour (sigstore/root-signing metadata/root.json,
 *   x-tuf-on-ci-expiry-period 7 and x-tuf-on-ci-signing-period 6; .github/workflows/
 *   online-sign.yml "17 1,7,13,19 * * *"). tuf-on-ci's default, 2 days re-signed 1 day before
 *   expiry (theupdateframework/tuf-on-ci signer/tuf_on_ci_sign/delegate.py), leaves a day of
 *   dropped runs no room. The cost of 7 days: whoever can serve a stale feed can hold an
 *   installation on it for up to a week.
 * - snapshot.json and targets.json: 90 days, renewed by the first scheduled run that finds less
 *   than RENEW_WITHIN left (tuf-on-ci signs its snapshot for 365 days and re-signs 60 days
 *   before; Sigstore signs it for 3650 days). Freshness comes from the timestamp; these only
 *   have to outlast any outage by a wide margin.
 * - root.json: 365 days (tuf-on-ci's default), renewed by a build when it would expire before
 *   the targets it comes with.
 */
export const DEFAULT_EXPIRY = {
  root: "365d",
  targets: "90d",
  snapshot: "90d",
  timestamp: "7d",
} as const satisfies Required<FeedExpiry>;

/**
 * A scheduled run that finds the published snapshot or targets expiring within this publishes
 * a whole new version instead of re-signing the timestamp alone.
 */
export const RENEW_WITHIN = "30d";

export interface BuildFeedOptions {
  /** The pinline repository whose releases and policies make the feed. */
  root: string;
  /** Where the feed goes; replaced as a whole. */
  out: string;
  keys: FeedKeys;
  /**
   * The signing time, from which expiries count (default: now). The releases are verified at
   * the real time of the build whatever this says: a feed lists what verifies today.
   */
  now?: Date;
  expires?: FeedExpiry;
  /**
   * The output directory of the last build (often `out` itself), or the published feed's
   * metadata. It is verified first (its roots, signatures and the root key given: see
   * verify-feed-metadata.ts); then its versions are continued (every role's version goes up),
   * its root is kept when the keys have not changed, its N.root.json files are carried over,
   * and so are its snapshot, targets and the target files it has. Without it, versions start
   * at 1.
   */
  previous?: string;
  /**
   * Leave out the releases that do not verify (listed in `skipped`) instead of refusing to
   * build. Off by default: a release that does not verify is a mistake someone must see (an
   * unsigned or edited manifest, a key that was revoked); building without it silently would
   * withdraw it from every installation.
   */
  skipUnverified?: boolean;
}

/** A previous target file the build did not have, to be fetched from the published feed. */
export interface MissingPreviousTarget {
  /** Its file under targets/: "channels/<sha256>.stable.json". */
  file: string;
  length: number;
  sha256: string;
}

export interface BuiltFeed {
  /** Every file written, relative to `out`, sorted. */
  files: string[];
  /** The version of targets, snapshot and timestamp metadata. */
  version: number;
  /** The version of the newest root. */
  rootVersion: number;
  /** Releases left out because they do not verify (only with skipUnverified). */
  skipped: UnverifiedRelease[];
  /**
   * Target files of the previous version that neither the build nor the previous folder had
   * (a previous folder with metadata only): whoever publishes should add them from the
   * published feed, so readers of the previous version still find them.
   */
  missingPrevious: MissingPreviousTarget[];
}

/** A JSON value, as @tufjs/models types custom metadata (not exported from its index). */
type JSONValue = NonNullable<
  ConstructorParameters<typeof TargetFile>[0]["unrecognizedFields"]
>[string];

/** TUF's expiry form: ISO 8601 UTC without fractional seconds. */
function expiryAt(now: Date, duration: string | number): string {
  const ms = typeof duration === "number" ? duration : parseDuration(duration);
  return new Date(now.getTime() + ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function sha256(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function serialize(metadata: Metadata<Root | Targets | Snapshot | Timestamp>): Buffer {
  return Buffer.from(stableJson(metadata.toJSON()));
}

/** The highest version among the timestamp, snapshot and targets of a verified feed. */
function versionOf(feed: VerifiedFeedMetadata): number {
  return Math.max(
    feed.timestamp.signed.version,
    feed.snapshot.signed.version,
    feed.targets.signed.version,
  );
}

function signAll(
  metadata: Metadata<Root | Targets | Snapshot | Timestamp>,
  keys: SigningKey[],
): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.keyId)) continue;
    seen.add(key.keyId);
    metadata.sign(signerFor(key));
  }
}

function rootSigned(
  keys: Record<"root" | "targets" | "snapshot" | "timestamp", SigningKey>,
  version: number,
  expires: string,
): Root {
  const root = new Root({ version, specVersion: SPEC_VERSION, expires, consistentSnapshot: true });
  for (const role of ["root", "targets", "snapshot", "timestamp"] as const) {
    root.addKey(keys[role].key, role);
  }
  return root;
}

/** Whether two roots trust the same keys for the same roles. */
function sameTrust(a: Root, b: Root): boolean {
  const trust = (r: Root) =>
    stableJson({
      keys: Object.fromEntries(Object.entries(r.keys).map(([id, k]) => [id, k.toJSON()])),
      roles: Object.fromEntries(Object.entries(r.roles).map(([n, role]) => [n, role.toJSON()])),
      consistentSnapshot: r.consistentSnapshot,
    });
  return trust(a) === trust(b);
}

/** The root keys a previous feed must be signed by: the root key, or the previous one. */
function trustedRootKeys(root: SigningKey, previous: readonly SigningKey[]): TrustedRootKey[] {
  return [
    { keyId: root.keyId, label: "the root key" },
    ...previous.map((k) => ({ keyId: k.keyId, label: "the previous root key" })),
  ];
}

/** The previous feed's files to carry: its roots, and its snapshot, targets and target files. */
function carryPrevious(
  previousDir: string,
  previous: VerifiedFeedMetadata,
  files: Map<string, Buffer>,
): MissingPreviousTarget[] {
  const { files: metadata } = previous;
  if (!metadata.consistent) return []; // plain names: the new version rewrites them
  for (const file of [metadata.snapshot, metadata.targets]) {
    const path = `${METADATA_DIR}/${file.name}`;
    if (!files.has(path)) files.set(path, file.bytes);
  }
  const missing: MissingPreviousTarget[] = [];
  for (const [path, target] of Object.entries(previous.targets.signed.targets)) {
    const hash = target.hashes.sha256;
    if (!hash) continue;
    const file = targetFileName(path, hash, true);
    if (files.has(`${TARGETS_DIR}/${file}`)) continue;
    const local = join(previousDir, TARGETS_DIR, ...file.split("/"));
    const bytes = existsSync(local) ? readFileSync(local) : undefined;
    if (bytes && bytes.length === target.length && sha256(bytes) === hash) {
      files.set(`${TARGETS_DIR}/${file}`, bytes);
    } else {
      missing.push({ file, length: target.length, sha256: hash });
    }
  }
  return missing;
}

/** The feed's refusal of releases that do not verify, naming every one. */
function refuseUnverified(unverified: readonly UnverifiedRelease[]): never {
  const lines = describeUnverified(unverified);
  throw new RefusedError(
    `the feed lists only releases that verify, and ${unverified.length === 1 ? "1 release does" : `${unverified.length} releases do`} not, so no feed was built:\n${lines.map((l) => `  - ${l}`).join("\n")}\n`,
    {
      hint: "sign each with pinline sign releases/<version> --key <private key> (as many keys as its policy's threshold), fix what pinline verify releases/<version> reports, or remove it; --skip-unverified (skip-unverified: true in actions/publish) builds the feed without them",
    },
  );
}

/**
 * Builds the signed feed of the repository at `root` into `out`. The result is deterministic
 * apart from versions and expiries. Throws RefusedError when a release does not verify (without
 * skipUnverified) or the previous feed does not verify, and UsageError for unreadable keys or a
 * root rotation the clients would refuse (new root keys without `keys.previousRoot`).
 */
export async function buildFeed(options: BuildFeedOptions): Promise<BuiltFeed> {
  const now = options.now ?? new Date();
  const expiry = { ...DEFAULT_EXPIRY, ...options.expires };
  const keys = {
    root: signingKey(options.keys.root, "root key"),
    targets: signingKey(options.keys.targets, "targets key"),
    snapshot: signingKey(options.keys.snapshot, "snapshot key"),
    timestamp: signingKey(options.keys.timestamp, "timestamp key"),
  };
  const previousRootKeys = (options.keys.previousRoot ?? []).map((k: FeedPrivateKey) =>
    signingKey(k, "previous root key"),
  );

  const tree = await loadTree(options.root);
  requireSoundGovernance(tree, "feed build");
  const previous = options.previous
    ? verifyFeedMetadata(readFeedMetadata(options.previous), {
        rootKeys: trustedRootKeys(keys.root, previousRootKeys),
      })
    : undefined;
  const releases = await verifyFeedReleases(tree);
  if (releases.unverified.length > 0 && !options.skipUnverified) {
    refuseUnverified(releases.unverified);
  }
  const targetFiles = feedTargets(tree, releases.signers);

  const version = (previous ? versionOf(previous) : 0) + 1;
  const out = resolve(options.out);

  // Root: kept while it trusts the same keys and outlives the targets; otherwise a new version,
  // signed by the new root key and (for a rotation) the keys of the root clients trust now.
  const files = new Map<string, Buffer>();
  let rootVersion: number;
  const wanted = rootSigned(keys, 1, expiryAt(now, expiry.root));
  const targetsExpiry = expiryAt(now, expiry.targets);
  const previousRoots = previous?.files.roots ?? new Map<number, Buffer>();
  for (const [n, bytes] of previousRoots) files.set(`${METADATA_DIR}/${n}.root.json`, bytes);
  if (
    previous &&
    sameTrust(previous.root.signed, wanted) &&
    new Date(previous.root.signed.expires) > new Date(targetsExpiry)
  ) {
    rootVersion = previous.root.signed.version;
    files.set(`${METADATA_DIR}/root.json`, previousRoots.get(rootVersion) as Buffer);
  } else {
    rootVersion = (previous?.root.signed.version ?? 0) + 1;
    const root = new Metadata(rootSigned(keys, rootVersion, expiryAt(now, expiry.root)));
    signAll(root, [keys.root, ...previousRootKeys]);
    try {
      root.verifyDelegate(MetadataKind.Root, root);
      previous?.root.verifyDelegate(MetadataKind.Root, root);
    } catch (error) {
      throw new UsageError(
        `root version ${rootVersion} would not be trusted by clients of root version ${rootVersion - 1}: ${(error as Error).message}`,
        {
          hint: "when the root key changes, pass the current root key as previousRoot so the new root is signed by both",
          cause: error,
        },
      );
    }
    const bytes = serialize(root);
    files.set(`${METADATA_DIR}/${rootVersion}.root.json`, bytes);
    files.set(`${METADATA_DIR}/root.json`, bytes);
  }

  const targets = new Metadata(
    new Targets({ version, specVersion: SPEC_VERSION, expires: targetsExpiry }),
  );
  // Each manifest's target says which keys signed the release (custom metadata, signed with
  // targets.json), as its channel index entries do.
  const manifestCustom = new Map<string, JSONValue>(
    [...releases.signers].map(([v, signedBy]) => [
      manifestPath(v),
      {
        version: v,
        signedBy: signedBy.map((s) => ({ fingerprint: s.fingerprint, userId: s.userId })),
      },
    ]),
  );
  for (const path of [...targetFiles.keys()].sort()) {
    const bytes = targetFiles.get(path) as Buffer;
    const hash = sha256(bytes);
    const custom = manifestCustom.get(path);
    targets.signed.addTarget(
      new TargetFile({
        path,
        length: bytes.length,
        hashes: { sha256: hash },
        ...(custom ? { unrecognizedFields: { custom } } : {}),
      }),
    );
    files.set(`${TARGETS_DIR}/${targetFileName(path, hash, true)}`, bytes);
  }
  signAll(targets, [keys.targets]);
  const targetsBytes = serialize(targets);
  files.set(`${METADATA_DIR}/${metadataFileName("targets", version, true)}`, targetsBytes);

  const snapshot = new Metadata(
    new Snapshot({
      version,
      specVersion: SPEC_VERSION,
      expires: expiryAt(now, expiry.snapshot),
      meta: {
        "targets.json": new MetaFile({
          version,
          length: targetsBytes.length,
          hashes: { sha256: sha256(targetsBytes) },
        }),
      },
    }),
  );
  signAll(snapshot, [keys.snapshot]);
  const snapshotBytes = serialize(snapshot);
  files.set(`${METADATA_DIR}/${metadataFileName("snapshot", version, true)}`, snapshotBytes);

  const timestamp = new Metadata(
    new Timestamp({
      version,
      specVersion: SPEC_VERSION,
      expires: expiryAt(now, expiry.timestamp),
      snapshotMeta: new MetaFile({
        version,
        length: snapshotBytes.length,
        hashes: { sha256: sha256(snapshotBytes) },
      }),
    }),
  );
  signAll(timestamp, [keys.timestamp]);
  files.set(`${METADATA_DIR}/timestamp.json`, serialize(timestamp));

  const missingPrevious =
    previous && options.previous ? carryPrevious(options.previous, previous, files) : [];
  writeWhole(out, files);
  return {
    files: [...files.keys()].sort(),
    version,
    rootVersion,
    skipped: releases.unverified,
    missingPrevious,
  };
}

/** Writes the files to a temporary sibling of `out`, then swaps it into place. */
function writeWhole(out: string, files: Map<string, Buffer>): void {
  mkdirSync(dirname(out), { recursive: true });
  const staging = mkdtempSync(join(dirname(out), `.${basename(out)}.building-`));
  try {
    chmodSync(staging, 0o755); // mkdtemp makes it private; a feed is published
    for (const [path, bytes] of files) {
      mkdirSync(dirname(join(staging, path)), { recursive: true });
      writeFileSync(join(staging, path), bytes);
    }
    if (existsSync(out)) {
      const old = `${staging}.old`;
      renameSync(out, old);
      renameSync(staging, out);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(staging, out);
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

export interface ResignTimestampOptions {
  /** A feed built by buildFeed. */
  out: string;
  keys: Pick<FeedKeys, "timestamp">;
  now?: Date;
  /** How long the new timestamp is valid (default DEFAULT_EXPIRY.timestamp). */
  expires?: string | number;
}

/**
 * Re-signs only metadata/timestamp.json: the same snapshot, version + 1, a new expiry (run on a
 * schedule so clients never see an expired feed). The feed's metadata is verified first, so
 * only a version its own keys signed is continued. Throws PinlineError when the key is not the
 * one the feed's root trusts for the timestamp, RefusedError when the feed does not verify.
 */
export function resignTimestamp(options: ResignTimestampOptions): {
  version: number;
  expires: string;
} {
  const now = options.now ?? new Date();
  const current = verifyFeedMetadata(readFeedMetadata(options.out));
  const key = signingKey(options.keys.timestamp, "timestamp key");
  const expires = expiryAt(now, options.expires ?? DEFAULT_EXPIRY.timestamp);
  const next = new Metadata(
    new Timestamp({
      version: current.timestamp.signed.version + 1,
      specVersion: current.timestamp.signed.specVersion,
      expires,
      snapshotMeta: current.timestamp.signed.snapshotMeta,
    }),
  );
  signAll(next, [key]);
  try {
    current.root.verifyDelegate(MetadataKind.Timestamp, next);
  } catch (error) {
    throw new PinlineError("the timestamp key is not the one the feed's root trusts", {
      cause: error,
    });
  }
  const path = join(options.out, METADATA_DIR, "timestamp.json");
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, serialize(next));
  renameSync(staging, path);
  return { version: next.signed.version, expires };
}
