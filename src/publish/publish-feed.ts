/**
 * What actions/publish does: the feed for a static site that is replaced as a whole on every
 * deploy (GitHub Pages), continuing the versions of the feed published there now.
 *
 * mode "build" writes a new version of targets, snapshot and timestamp from the tree.
 *
 * mode "timestamp" (the schedule) must still hand the site a whole feed, targets included, so it
 * also builds from the tree; when that build lists exactly the targets the published feed lists,
 * under the same root, the published targets.json and snapshot.json are kept byte for byte and
 * only timestamp.json is re-signed (version + 1, a new expiry). Otherwise it publishes the new
 * build instead, and says why: the releases or policies changed since the last publication (a
 * push whose publish failed), the root is renewed, or the published snapshot or targets expire
 * before the next scheduled run could re-sign them — re-signing the timestamp alone would then
 * leave installations with an expired feed.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseDuration } from "../core/duration.js";
import { UsageError } from "../core/errors.js";
import { buildFeed, DEFAULT_EXPIRY, METADATA_DIR, resignTimestamp } from "../feed/build-feed.js";
import { stableJson } from "../feed/feed-targets.js";
import type { FeedKeys } from "../feed/keys.js";
import { downloadPublishedFeed } from "./download-published-feed.js";

export const PUBLISH_MODES = ["build", "timestamp"] as const;
export type PublishMode = (typeof PUBLISH_MODES)[number];

export interface PublishFeedOptions {
  /** The pinline repository whose releases and policies make the feed. */
  root: string;
  /** The feed folder to write; replaced as a whole, only once everything has succeeded. */
  out: string;
  keys: FeedKeys;
  mode: PublishMode;
  /** A local folder holding the feed as it is published now (its metadata/ at least). */
  previous?: string;
  /** The site where the feed is published now; its metadata is downloaded. */
  previousUrl?: string;
  now?: Date;
  fetch?: typeof globalThis.fetch;
}

export interface PublishedFeed {
  /** "built": every role has a new version; "timestamp": only timestamp.json was re-signed. */
  done: "built" | "timestamp";
  /** Why mode "timestamp" built a whole new version instead. */
  rebuiltBecause?: string;
  /** False when there was no published feed to continue: versions start at 1. */
  continued: boolean;
  /** The version of timestamp.json. */
  version: number;
  rootVersion: number;
  /** The feed folder, absolute. */
  out: string;
}

export async function publishFeed(options: PublishFeedOptions): Promise<PublishedFeed> {
  if (options.previous && options.previousUrl) {
    throw new UsageError("give previous or previous-url, not both", {
      hint: "previous-url reads the published feed from its site; previous from a local folder",
    });
  }
  const now = options.now ?? new Date();
  const out = resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  // Everything happens beside `out` and is swapped in at the end: a failure leaves `out` as it was.
  const staging = mkdtempSync(join(dirname(out), `.${basename(out)}.publishing-`));
  try {
    const previous = await findPrevious(options, join(staging, "previous"));
    const feed = join(staging, "feed");
    const built = await buildFeed({
      root: options.root,
      out: feed,
      keys: options.keys,
      now,
      ...(previous ? { previous } : {}),
    });
    let published: PublishedFeed = {
      done: "built",
      continued: previous !== undefined,
      version: built.version,
      rootVersion: built.rootVersion,
      out,
    };
    if (options.mode === "timestamp") {
      const refusal = previous
        ? whyNotTimestampOnly(readFeedState(previous), readFeedState(feed), now)
        : "nothing is published yet";
      if (refusal === undefined) {
        for (const name of ["targets.json", "snapshot.json", "timestamp.json"]) {
          copyFileSync(
            join(previous as string, METADATA_DIR, name),
            join(feed, METADATA_DIR, name),
          );
        }
        const resigned = resignTimestamp({
          out: feed,
          keys: { timestamp: options.keys.timestamp },
          now,
        });
        published = { ...published, done: "timestamp", version: resigned.version };
      } else {
        published = { ...published, rebuiltBecause: refusal };
      }
    }
    if (existsSync(out)) renameSync(out, join(staging, "replaced"));
    renameSync(feed, out);
    return published;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The folder holding the published feed's metadata, or undefined when nothing is published. */
async function findPrevious(
  options: PublishFeedOptions,
  downloadInto: string,
): Promise<string | undefined> {
  if (options.previous) return resolve(options.previous);
  if (!options.previousUrl) return undefined;
  const found = await downloadPublishedFeed({
    url: options.previousUrl,
    into: downloadInto,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return found ? downloadInto : undefined;
}

/** What decides whether re-signing the timestamp alone is enough. */
export interface FeedState {
  rootVersion: number;
  /** targets.json's `signed.targets` (path, length, hashes of every target), as stable JSON. */
  targets: string;
  expires: { targets: string; snapshot: string };
}

interface SignedJson {
  signed: { version: number; expires: string; targets?: unknown };
}

export function readFeedState(feed: string): FeedState {
  const read = (name: string) =>
    JSON.parse(readFileSync(join(feed, METADATA_DIR, name), "utf8")) as SignedJson;
  const targets = read("targets.json");
  return {
    rootVersion: read("root.json").signed.version,
    targets: stableJson(targets.signed.targets ?? {}),
    expires: { targets: targets.signed.expires, snapshot: read("snapshot.json").signed.expires },
  };
}

/**
 * Why the published feed cannot simply get a new timestamp (undefined: it can). The published
 * snapshot and targets must outlive the new timestamp by one more timestamp lifetime, so that
 * the next scheduled run still finds them valid and can rebuild in time.
 */
export function whyNotTimestampOnly(
  published: FeedState,
  rebuilt: FeedState,
  now: Date,
): string | undefined {
  if (rebuilt.rootVersion !== published.rootVersion) {
    return `the root is renewed (version ${published.rootVersion} → ${rebuilt.rootVersion})`;
  }
  if (rebuilt.targets !== published.targets) {
    return "the releases or policies differ from the published feed";
  }
  const mustOutlive = now.getTime() + 2 * parseDuration(DEFAULT_EXPIRY.timestamp);
  for (const role of ["snapshot", "targets"] as const) {
    const expires = published.expires[role];
    if (!(Date.parse(expires) > mustOutlive)) {
      return `the published ${role}.json expires at ${expires}, too soon to re-sign only the timestamp`;
    }
  }
  return undefined;
}
