/**
 * The metadata files of a feed folder as they are on disk, found the way a TUF client finds
 * them: every N.root.json, timestamp.json, then the snapshot that timestamp names and the
 * targets that snapshot names (versioned names when the newest root has consistent snapshots).
 * Nothing here is trusted yet: verifyFeedMetadata judges it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import { METADATA_DIR, metadataFileName } from "./feed-layout.js";

/** One metadata file: its name under metadata/ and its bytes. */
export interface MetadataFile {
  name: string;
  bytes: Buffer;
}

export interface FeedMetadataFiles {
  /** The feed folder, for messages. */
  feed: string;
  /** N.root.json by version, ascending. */
  roots: Map<number, Buffer>;
  timestamp: MetadataFile;
  snapshot: MetadataFile;
  targets: MetadataFile;
  /** What the newest root says (unverified): are snapshot and targets named by version? */
  consistent: boolean;
}

interface LooseSigned {
  signed?: {
    version?: unknown;
    consistent_snapshot?: unknown;
    meta?: Record<string, { version?: unknown } | undefined>;
  };
}

function parse(bytes: Buffer, path: string): LooseSigned {
  try {
    return JSON.parse(bytes.toString("utf8")) as LooseSigned;
  } catch (error) {
    throw new UsageError(`${path} is not readable TUF metadata: it is not JSON`, { cause: error });
  }
}

function versionNamed(meta: LooseSigned, entry: string, path: string): number {
  const version = meta.signed?.meta?.[entry]?.version;
  if (typeof version === "number" && Number.isSafeInteger(version) && version >= 1) return version;
  throw new UsageError(`${path} does not name the version of ${entry}`, {
    hint: "it is not metadata pinline wrote",
  });
}

/** Reads the metadata of the feed at `feed`. Throws UsageError when it is not a feed. */
export function readFeedMetadata(feed: string): FeedMetadataFiles {
  const dir = join(feed, METADATA_DIR);
  const read = (name: string): MetadataFile => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      throw new UsageError(`${feed} is not a complete feed: it has no ${METADATA_DIR}/${name}`, {
        hint: "leave out the previous feed for a first build, or copy the whole published feed",
      });
    }
    return { name, bytes: readFileSync(path) };
  };
  if (!existsSync(join(dir, "timestamp.json"))) {
    throw new UsageError(
      `${feed} is not a feed built by pinline: it has no ${METADATA_DIR}/timestamp.json`,
      { hint: "leave out the previous feed for a first build" },
    );
  }
  const roots = new Map<number, Buffer>();
  for (const name of readdirSync(dir)) {
    const match = /^([1-9]\d{0,8})\.root\.json$/.exec(name);
    if (match) roots.set(Number(match[1]), readFileSync(join(dir, name)));
  }
  const sorted = new Map([...roots.entries()].sort(([a], [b]) => a - b));
  const newest = [...sorted.values()].at(-1);
  if (!newest) {
    throw new UsageError(
      `${feed} is not a feed built by pinline: it has no ${METADATA_DIR}/1.root.json`,
    );
  }
  const consistent = parse(newest, `${dir}/root.json`).signed?.consistent_snapshot === true;
  const timestamp = read("timestamp.json");
  const snapshotVersion = versionNamed(
    parse(timestamp.bytes, join(dir, timestamp.name)),
    "snapshot.json",
    join(dir, timestamp.name),
  );
  const snapshot = read(metadataFileName("snapshot", snapshotVersion, consistent));
  const targetsVersion = versionNamed(
    parse(snapshot.bytes, join(dir, snapshot.name)),
    "targets.json",
    join(dir, snapshot.name),
  );
  const targets = read(metadataFileName("targets", targetsVersion, consistent));
  return { feed, roots: sorted, timestamp, snapshot, targets, consistent };
}
