/**
 * A feed's metadata judged the way a TUF client judges it (specification section 5), before a
 * build continues its versions: the roots form a chain from 1.root.json, each signed by the
 * keys of the one before and by its own; the timestamp, snapshot and targets are signed by the
 * keys the newest root names and point at each other by version, length and hash. When the
 * caller holds the feed's root key, the newest root must also carry that key's signature — so
 * a site that serves metadata these keys never signed (a timestamp of version 2^31 signed by
 * nobody) cannot choose the versions of the next feed.
 *
 * Expiry is not judged: a feed that froze because scheduled runs stopped must still be
 * continued, not started again at version 1.
 */
import {
  Metadata,
  MetadataKind,
  type MetaFile,
  type Root,
  type Snapshot,
  type Targets,
  type Timestamp,
} from "@tufjs/models";
import { RefusedError } from "../core/errors.js";
import { METADATA_DIR } from "./feed-layout.js";
import type { FeedMetadataFiles } from "./read-feed-metadata.js";

/** The feed's metadata, verified. */
export interface VerifiedFeedMetadata {
  files: FeedMetadataFiles;
  /** The newest root. */
  root: Metadata<Root>;
  timestamp: Metadata<Timestamp>;
  snapshot: Metadata<Snapshot>;
  targets: Metadata<Targets>;
}

/** A root key the caller holds, and how to name it in a message. */
export interface TrustedRootKey {
  keyId: string;
  /** "the root key (PINLINE_FEED_ROOT_KEY)". */
  label: string;
}

export interface VerifyFeedMetadataOptions {
  /**
   * The root keys the caller holds (the root key, and the previous one during a rotation): the
   * newest root must carry a valid signature of one of them. Leave out to judge the feed only
   * against its own roots (a folder the caller built itself).
   */
  rootKeys?: readonly TrustedRootKey[];
  /** What to tell the user to check when the feed is not the one these keys published. */
  hint?: string;
}

type JSONObject = Parameters<typeof Metadata.fromJSON>[1];
type Kinds = {
  root: Root;
  timestamp: Timestamp;
  snapshot: Snapshot;
  targets: Targets;
};

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Verifies the metadata read from a feed folder. Throws RefusedError naming the file and what
 * is wrong with it.
 */
export function verifyFeedMetadata(
  files: FeedMetadataFiles,
  options: VerifyFeedMetadataOptions = {},
): VerifiedFeedMetadata {
  const where = files.feed;
  const hint =
    options.hint ??
    "nothing was built: a feed must continue only metadata its own keys signed; check where the previous feed comes from";
  const refuse = (file: string, problem: string, cause?: unknown): never => {
    throw new RefusedError(
      `the feed at ${where} does not verify: ${METADATA_DIR}/${file} ${problem}`,
      { hint, cause },
    );
  };
  const parse = <K extends keyof Kinds>(
    kind: K,
    file: string,
    bytes: Buffer,
  ): Metadata<Kinds[K]> => {
    try {
      const json = JSON.parse(bytes.toString("utf8")) as JSONObject;
      return (Metadata.fromJSON as (k: MetadataKind, d: JSONObject) => Metadata<Kinds[K]>)(
        kind as MetadataKind,
        json,
      );
    } catch (error) {
      return refuse(file, `is not TUF ${kind} metadata: ${reason(error)}`, error);
    }
  };

  // The chain of roots, 1.root.json first: each signed by its predecessor's root keys and its own.
  let root: Metadata<Root> | undefined;
  let expected = 1;
  for (const [version, bytes] of files.roots) {
    const file = `${version}.root.json`;
    if (version !== expected) {
      refuse(
        `${expected}.root.json`,
        `is missing (the feed has ${file}): the roots must form a chain from 1.root.json`,
      );
    }
    const next = parse("root", file, bytes);
    if (next.signed.version !== version) {
      refuse(file, `holds root version ${next.signed.version}, not ${version}`);
    }
    try {
      (root ?? next).verifyDelegate(MetadataKind.Root, next);
      next.verifyDelegate(MetadataKind.Root, next);
    } catch (error) {
      refuse(
        file,
        root
          ? `is not signed by the root keys of ${version - 1}.root.json and its own (${reason(error)}): an installation that trusts root version ${version - 1} would refuse it`
          : `is not signed by its own root keys (${reason(error)})`,
        error,
      );
    }
    root = next;
    expected = version + 1;
  }
  if (!root) return refuse("1.root.json", "is missing");
  const newest = root;
  const rootFile = `${newest.signed.version}.root.json`;

  if (options.rootKeys) {
    const signedByUs = options.rootKeys.some((trusted) => {
      const key = newest.signed.keys[trusted.keyId];
      if (!key || !newest.signed.roles.root?.keyIDs.includes(trusted.keyId)) return false;
      try {
        key.verifySignature(newest);
        return true;
      } catch {
        return false;
      }
    });
    if (!signedByUs) {
      const held = options.rootKeys.map((k) => `${k.label} ${k.keyId.slice(0, 12)}…`).join(", ");
      const trusted = (newest.signed.roles.root?.keyIDs ?? []).map((id) => `${id.slice(0, 12)}…`);
      throw new RefusedError(
        `the feed at ${where} is not signed by the root key given: its newest root, ${METADATA_DIR}/${rootFile}, trusts root key ${trusted.join(", ") || "(none)"} and carries no valid signature of ${held}`,
        {
          hint: "when the root key changes, give the key that signed that root as the previous root key (PINLINE_FEED_PREVIOUS_ROOT_KEY, or previous-root.pem in the --keys folder) for the publication that rotates it; installations trust a new root only when the old key signed it. If the feed is not yours, check where the previous feed comes from: nothing was built",
        },
      );
    }
  }

  const verifyRole = (
    kind: "timestamp" | "snapshot" | "targets",
    file: string,
    md: Metadata<Timestamp | Snapshot | Targets>,
  ) => {
    try {
      newest.verifyDelegate(kind, md);
    } catch (error) {
      refuse(
        file,
        `(version ${md.signed.version}) is not signed by the ${kind} key of the feed's root (${rootFile}): ${reason(error)}; refusing to continue its versions`,
        error,
      );
    }
  };
  const matches = (meta: MetaFile, bytes: Buffer, version: number, file: string, by: string) => {
    if (meta.version !== version) {
      refuse(file, `is version ${version}, but ${by} names version ${meta.version}`);
    }
    try {
      meta.verify(bytes);
    } catch (error) {
      refuse(file, `differs from the length or hash ${by} gives it: ${reason(error)}`, error);
    }
  };

  const timestamp = parse("timestamp", files.timestamp.name, files.timestamp.bytes);
  verifyRole("timestamp", files.timestamp.name, timestamp);
  const snapshot = parse("snapshot", files.snapshot.name, files.snapshot.bytes);
  verifyRole("snapshot", files.snapshot.name, snapshot);
  matches(
    timestamp.signed.snapshotMeta,
    files.snapshot.bytes,
    snapshot.signed.version,
    files.snapshot.name,
    "timestamp.json",
  );
  const targets = parse("targets", files.targets.name, files.targets.bytes);
  verifyRole("targets", files.targets.name, targets);
  const targetsMeta = snapshot.signed.meta["targets.json"];
  if (!targetsMeta) return refuse(files.snapshot.name, "does not list targets.json");
  matches(
    targetsMeta,
    files.targets.bytes,
    targets.signed.version,
    files.targets.name,
    files.snapshot.name,
  );
  return { files, root: newest, timestamp, snapshot, targets };
}
