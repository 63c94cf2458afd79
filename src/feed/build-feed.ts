/**
 * `pinline feed build`: the static update feed as a TUF repository (issue 7, DESIGN §6), built
 * and signed with @tufjs/models.
 *
 * Layout of the output directory (serve it as static files):
 *
 *   metadata/1.root.json … N.root.json   every root version, so clients can walk rotations
 *   metadata/root.json                   a copy of the newest root
 *   metadata/targets.json                the manifests and channel indexes, with length + sha256
 *   metadata/snapshot.json               targets.json's version, length and sha256
 *   metadata/timestamp.json              snapshot.json's version, length and sha256
 *   targets/manifests/<version>.yaml     release.yaml, byte for byte
 *   targets/channels/<channel>.json      stable, beta, early-access; custom:<n> → channels/custom/<n>.json
 *
 * A TUF client uses `<base>/metadata/` as its metadata URL and `<base>/targets/` as its target URL.
 * Consistent snapshots are off: files keep their plain names (tuf-js then fetches
 * `timestamp.json`, `snapshot.json`, `targets.json` and `<path>` rather than hash-prefixed names),
 * and the feed is swapped into place as a whole directory instead.
 */

import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
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
import { PinlineError, UsageError } from "../core/errors.js";
import { loadTree } from "../repo/load-tree.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { feedTargets, stableJson } from "./feed-targets.js";
import {
  type FeedKeys,
  type FeedPrivateKey,
  type SigningKey,
  signerFor,
  signingKey,
} from "./keys.js";

export const METADATA_DIR = "metadata";
export const TARGETS_DIR = "targets";
const SPEC_VERSION = "1.0.31";

/** How long each role's metadata stays valid: a duration ("7d", "24h") or milliseconds. */
export interface FeedExpiry {
  root?: string | number;
  targets?: string | number;
  snapshot?: string | number;
  timestamp?: string | number;
}

export const DEFAULT_EXPIRY = {
  root: "365d",
  targets: "90d",
  snapshot: "7d",
  timestamp: "1d",
} as const satisfies Required<FeedExpiry>;

export interface BuildFeedOptions {
  /** The pinline repository whose releases and policies make the feed. */
  root: string;
  /** Where the feed goes; replaced as a whole. */
  out: string;
  keys: FeedKeys;
  /** The signing time, from which expiries count (default: now). */
  now?: Date;
  expires?: FeedExpiry;
  /**
   * The output directory of the last build (often `out` itself). Its versions are continued
   * (every role's version goes up), its root is kept when the keys have not changed, and its
   * earlier `N.root.json` files are carried over. Without it, versions start at 1.
   */
  previous?: string;
}

export interface BuiltFeed {
  /** Every file written, relative to `out`, sorted. */
  files: string[];
  /** The version of targets.json, snapshot.json and timestamp.json. */
  version: number;
  /** The version of the newest root. */
  rootVersion: number;
}

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

interface PreviousFeed {
  root: Metadata<Root>;
  /** root.json's bytes as they were written. */
  rootBytes: Buffer;
  /** The highest version of targets, snapshot and timestamp. */
  version: number;
  /** N.root.json files by version. */
  roots: Map<number, Buffer>;
}

function readJson(path: string): JSONObject {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as JSONObject;
  } catch (error) {
    throw new UsageError(`${path} is not readable TUF metadata`, { cause: error });
  }
}

/** The JSON object type of @tufjs/models (not exported from its index). */
type JSONObject = Parameters<typeof Root.fromJSON>[0];
type AnyMetadata = Metadata<Root | Targets | Snapshot | Timestamp>;

function readMetadata(dir: string, kind: MetadataKind.Root): Metadata<Root>;
function readMetadata(dir: string, kind: MetadataKind.Timestamp): Metadata<Timestamp>;
function readMetadata(dir: string, kind: MetadataKind): AnyMetadata;
function readMetadata(dir: string, kind: MetadataKind): AnyMetadata {
  const json = readJson(join(dir, `${kind}.json`));
  try {
    // The overloads of fromJSON are per kind; the kind is checked by the call at runtime.
    return (Metadata.fromJSON as (k: MetadataKind, d: typeof json) => AnyMetadata)(kind, json);
  } catch (error) {
    throw new UsageError(`${join(dir, `${kind}.json`)} is not valid TUF metadata`, {
      cause: error,
    });
  }
}

function readPrevious(previous: string): PreviousFeed {
  const dir = join(previous, METADATA_DIR);
  if (!existsSync(join(dir, "timestamp.json"))) {
    throw new UsageError(
      `${previous} is not a feed built by pinline: it has no ${METADATA_DIR}/timestamp.json`,
      {
        hint: "leave out the previous feed for a first build",
      },
    );
  }
  const root = readMetadata(dir, MetadataKind.Root);
  const version = Math.max(
    ...[MetadataKind.Targets, MetadataKind.Snapshot, MetadataKind.Timestamp].map(
      (kind) => readMetadata(dir, kind).signed.version,
    ),
  );
  const roots = new Map<number, Buffer>();
  for (const name of readdirSync(dir)) {
    const match = /^([1-9]\d*)\.root\.json$/.exec(name);
    if (match) roots.set(Number(match[1]), readFileSync(join(dir, name)));
  }
  return { root, rootBytes: readFileSync(join(dir, "root.json")), version, roots };
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
  const root = new Root({ version, specVersion: SPEC_VERSION, expires, consistentSnapshot: false });
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

/**
 * Builds the signed feed of the repository at `root` into `out`. The result is deterministic
 * apart from versions and expiries. Throws UsageError for unreadable keys or a root rotation the
 * clients would refuse (new root keys without `keys.previousRoot`).
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
  const previous = options.previous ? readPrevious(options.previous) : undefined;

  const tree = await loadTree(options.root);
  requireSoundGovernance(tree, "feed build");
  const targetFiles = feedTargets(tree);

  const version = (previous?.version ?? 0) + 1;
  const out = resolve(options.out);

  // Root: kept while it trusts the same keys and outlives the targets; otherwise a new version,
  // signed by the new root key and (for a rotation) the keys of the root clients trust now.
  const files = new Map<string, Buffer>();
  let rootVersion: number;
  const wanted = rootSigned(keys, 1, expiryAt(now, expiry.root));
  const targetsExpiry = expiryAt(now, expiry.targets);
  if (
    previous &&
    sameTrust(previous.root.signed, wanted) &&
    new Date(previous.root.signed.expires) > new Date(targetsExpiry)
  ) {
    rootVersion = previous.root.signed.version;
    for (const [n, bytes] of previous.roots) files.set(`${METADATA_DIR}/${n}.root.json`, bytes);
    files.set(`${METADATA_DIR}/root.json`, previous.rootBytes);
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
    if (previous)
      for (const [n, old] of previous.roots)
        if (n < rootVersion) files.set(`${METADATA_DIR}/${n}.root.json`, old);
    files.set(`${METADATA_DIR}/${rootVersion}.root.json`, bytes);
    files.set(`${METADATA_DIR}/root.json`, bytes);
  }

  const targets = new Metadata(
    new Targets({ version, specVersion: SPEC_VERSION, expires: targetsExpiry }),
  );
  for (const path of [...targetFiles.keys()].sort()) {
    const bytes = targetFiles.get(path) as Buffer;
    targets.signed.addTarget(
      new TargetFile({ path, length: bytes.length, hashes: { sha256: sha256(bytes) } }),
    );
    files.set(`${TARGETS_DIR}/${path}`, bytes);
  }
  signAll(targets, [keys.targets]);
  const targetsBytes = serialize(targets);
  files.set(`${METADATA_DIR}/targets.json`, targetsBytes);

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
  files.set(`${METADATA_DIR}/snapshot.json`, snapshotBytes);

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

  writeWhole(out, files);
  return { files: [...files.keys()].sort(), version, rootVersion };
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
  /** How long the new timestamp is valid (default 1 day). */
  expires?: string | number;
}

/**
 * Re-signs only metadata/timestamp.json: the same snapshot, version + 1, a new expiry (run on a
 * schedule so clients never see an expired feed). Throws PinlineError when the key is not the
 * one the feed's root trusts for the timestamp.
 */
export function resignTimestamp(options: ResignTimestampOptions): {
  version: number;
  expires: string;
} {
  const now = options.now ?? new Date();
  const dir = join(options.out, METADATA_DIR);
  if (!existsSync(join(dir, "timestamp.json"))) {
    throw new UsageError(
      `${options.out} is not a feed built by pinline: it has no ${METADATA_DIR}/timestamp.json`,
    );
  }
  const root = readMetadata(dir, MetadataKind.Root);
  const current = readMetadata(dir, MetadataKind.Timestamp);
  const key = signingKey(options.keys.timestamp, "timestamp key");
  const expires = expiryAt(now, options.expires ?? DEFAULT_EXPIRY.timestamp);
  const next = new Metadata(
    new Timestamp({
      version: current.signed.version + 1,
      specVersion: current.signed.specVersion,
      expires,
      snapshotMeta: current.signed.snapshotMeta,
    }),
  );
  signAll(next, [key]);
  try {
    root.verifyDelegate(MetadataKind.Timestamp, next);
  } catch (error) {
    throw new PinlineError("the timestamp key is not the one the feed's root trusts", {
      cause: error,
    });
  }
  const path = join(dir, "timestamp.json");
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, serialize(next));
  renameSync(staging, path);
  return { version: next.signed.version, expires };
}
