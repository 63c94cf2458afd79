/**
 * What actions/publish does: the feed for a static site that is replaced as a whole on every
 * deploy (GitHub Pages), continuing the versions of the feed published there now — once that
 * feed's metadata has verified against the root key (buildFeed verifies its `previous`).
 *
 * mode "build" writes a new version of targets, snapshot and timestamp from the tree.
 *
 * mode "timestamp" (the schedule) must still hand the site a whole feed, targets included, so it
 * also builds from the tree; when that build lists exactly the targets the published feed lists,
 * under the same root, the published snapshot and targets are kept byte for byte and only
 * timestamp.json is re-signed (version + 1, a new expiry). Otherwise it publishes the new build
 * instead, and says why: the releases or policies changed since the last publication (a push
 * whose publish failed), the root is renewed, or the published snapshot or targets expire
 * within RENEW_WITHIN — re-signing the timestamp alone would then leave installations with a
 * feed that expires before anyone looks.
 *
 * Either way the run reports how much time the PUBLISHED feed had left: less than the expiry
 * margin means the runs before this one did not re-sign it (GitHub delayed or dropped them, or
 * they failed), which the action turns into a failure after writing the new feed.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseDuration } from "../core/duration.js";
import { InvalidValueError, UsageError } from "../core/errors.js";
import {
  buildFeed,
  DEFAULT_EXPIRY,
  METADATA_DIR,
  RENEW_WITHIN,
  resignTimestamp,
} from "../feed/build-feed.js";
import { metadataFileName } from "../feed/feed-layout.js";
import { stableJson } from "../feed/feed-targets.js";
import type { FeedKeys } from "../feed/keys.js";
import { readFeedMetadata } from "../feed/read-feed-metadata.js";
import type { UnverifiedRelease } from "../feed/verify-feed-releases.js";
import { downloadPublishedFeed, downloadPublishedTargets } from "./download-published-feed.js";

export const PUBLISH_MODES = ["build", "timestamp"] as const;
export type PublishMode = (typeof PUBLISH_MODES)[number];

/**
 * How much time the published feed must have left, or the run fails (after publishing): 5 days
 * of the timestamp's 7. Every scheduled run re-signs the timestamp, so the published one has
 * less than 5 days left only when no run has re-signed it for 2 days — 8 scheduled runs in a
 * row lost or failed — and a human still has 5 days, a long weekend and more, before any
 * installation refuses the feed.
 */
export const DEFAULT_EXPIRY_MARGIN = "5d";

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
  /** Leave out releases that do not verify, instead of failing (buildFeed's skipUnverified). */
  skipUnverified?: boolean;
  /** A duration ("5d"): the published feed must have at least this left (default 5d). */
  expiryMargin?: string;
}

/** When the published feed expires, and whether that is too soon. */
export interface PublishedExpiry {
  /** The published metadata file that expires first ("timestamp.json"). */
  file: string;
  expires: string;
  /** Milliseconds from the run to that expiry; negative once it has passed. */
  leftMs: number;
  margin: string;
  /** Less than `margin` was left: the runs before this one did not re-sign the feed. */
  tooSoon: boolean;
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
  /** Releases left out because they do not verify (skipUnverified). */
  skipped: UnverifiedRelease[];
  /** The expiry of the feed that was published before this run (absent for a first one). */
  published?: PublishedExpiry;
  /** Target files of the published version that could not be kept for its readers, and why. */
  notKept: { file: string; reason: string }[];
}

/** The margin as milliseconds; UsageError when it is no duration or leaves no room. */
function marginOf(margin: string): number {
  let ms: number;
  try {
    ms = parseDuration(margin);
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    throw new UsageError(`expiry-margin: ${error.message}`);
  }
  const lifetime = parseDuration(DEFAULT_EXPIRY.timestamp);
  if (ms >= lifetime) {
    throw new UsageError(
      `expiry-margin ${margin} is not less than the timestamp's lifetime (${DEFAULT_EXPIRY.timestamp}): every run would fail`,
      { hint: `use less, such as the default ${DEFAULT_EXPIRY_MARGIN}` },
    );
  }
  return ms;
}

export async function publishFeed(options: PublishFeedOptions): Promise<PublishedFeed> {
  if (options.previous && options.previousUrl) {
    throw new UsageError("give previous or previous-url, not both", {
      hint: "previous-url reads the published feed from its site; previous from a local folder",
    });
  }
  const margin = options.expiryMargin ?? DEFAULT_EXPIRY_MARGIN;
  const marginMs = marginOf(margin);
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
      ...(options.skipUnverified ? { skipUnverified: true } : {}),
    });
    const notKept =
      options.previousUrl && built.missingPrevious.length > 0
        ? await downloadPublishedTargets({
            url: options.previousUrl,
            targets: built.missingPrevious,
            into: feed,
            ...(options.fetch ? { fetch: options.fetch } : {}),
          })
        : built.missingPrevious.map((t) => ({
            file: t.file,
            reason: "the previous folder lacks it",
          }));
    let published: PublishedFeed = {
      done: "built",
      continued: previous !== undefined,
      version: built.version,
      rootVersion: built.rootVersion,
      out,
      skipped: built.skipped,
      notKept,
    };
    if (previous) {
      published.published = expiryOf(readFeedState(previous), now, margin, marginMs);
    }
    if (options.mode === "timestamp") {
      const refusal = previous
        ? whyNotTimestampOnly(readFeedState(previous), readFeedState(feed), now)
        : "nothing is published yet";
      if (refusal === undefined) {
        keepPublishedVersion(previous as string, feed, built.version);
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

/**
 * Turns the new build back into the published version: its snapshot and targets (carried over
 * by the build) stay, the build's own go, and the published timestamp comes back to be
 * re-signed. The target files are the same: the targets are.
 */
function keepPublishedVersion(previous: string, feed: string, builtVersion: number): void {
  for (const role of ["snapshot", "targets"] as const) {
    rmSync(join(feed, METADATA_DIR, metadataFileName(role, builtVersion, true)), { force: true });
  }
  copyFileSync(
    join(previous, METADATA_DIR, "timestamp.json"),
    join(feed, METADATA_DIR, "timestamp.json"),
  );
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

/** What decides whether re-signing the timestamp alone is enough, and when the feed expires. */
export interface FeedState {
  rootVersion: number;
  /** The targets metadata's `signed.targets` (every target's length, hashes, custom), stable JSON. */
  targets: string;
  /** Each metadata file the feed serves, by name, with its expiry. */
  expires: { root: string; targets: string; snapshot: string; timestamp: string };
  /** The names of those files ("3.root.json", "3.snapshot.json", …). */
  names: { root: string; targets: string; snapshot: string; timestamp: string };
}

interface SignedJson {
  signed: { version: number; expires: string; targets?: unknown };
}

export function readFeedState(feed: string): FeedState {
  const files = readFeedMetadata(feed);
  const parse = (bytes: Buffer) => JSON.parse(bytes.toString("utf8")) as SignedJson;
  const [rootVersion, rootBytes] = [...files.roots.entries()].at(-1) as [number, Buffer];
  const root = parse(rootBytes);
  const targets = parse(files.targets.bytes);
  return {
    rootVersion,
    targets: stableJson(targets.signed.targets ?? {}),
    expires: {
      root: root.signed.expires,
      targets: targets.signed.expires,
      snapshot: parse(files.snapshot.bytes).signed.expires,
      timestamp: parse(files.timestamp.bytes).signed.expires,
    },
    names: {
      root: `${rootVersion}.root.json`,
      targets: files.targets.name,
      snapshot: files.snapshot.name,
      timestamp: files.timestamp.name,
    },
  };
}

/** The first expiry among the feed's metadata, and whether it is within the margin. */
export function expiryOf(
  state: FeedState,
  now: Date,
  margin: string,
  marginMs: number,
): PublishedExpiry {
  const roles = ["timestamp", "snapshot", "targets", "root"] as const;
  const first = roles
    .map((role) => ({ role, at: Date.parse(state.expires[role]) }))
    .sort((a, b) => a.at - b.at)[0] as { role: (typeof roles)[number]; at: number };
  const leftMs = first.at - now.getTime();
  return {
    file: state.names[first.role],
    expires: state.expires[first.role],
    leftMs,
    margin,
    tooSoon: !(leftMs >= marginMs),
  };
}

/**
 * Why the published feed cannot simply get a new timestamp (undefined: it can). The published
 * snapshot and targets must outlive RENEW_WITHIN, so that a run that finds them closer to their
 * expiry renews them while there is a month to spare.
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
  const mustOutlive = now.getTime() + parseDuration(RENEW_WITHIN);
  for (const role of ["snapshot", "targets"] as const) {
    const expires = published.expires[role];
    if (!(Date.parse(expires) > mustOutlive)) {
      return `the published ${published.names[role]} expires at ${expires}, within ${RENEW_WITHIN}: it is renewed now`;
    }
  }
  return undefined;
}
