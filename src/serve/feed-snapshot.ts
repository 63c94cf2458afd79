/**
 * The verified feed as the server holds it between reloads: every channel index read (and
 * checked against the signed targets) once, and update-check answers memoised per
 * (channel, current version), ready-serialised — so the hot path of GET /api/v1/updates/check is
 * one cache look-up, with no TUF, no parsing and no database per request.
 *
 * The memo is bounded twice, in entries and in bytes (ANSWER_CACHE), least recently used first
 * out, and holds only answers to valid requests: a request with a bad channel or version is
 * answered 400 without being remembered, so no stream of made-up versions can grow it.
 */
import { LRUCache } from "lru-cache";
import { parseUpdateChannel } from "../core/channels.js";
import { InvalidValueError } from "../core/errors.js";
import { answerUpdateCheck, type UpdateCheckResponse } from "../feed/answer-check.js";
import type { VerifiedFeed } from "../feed/feed-client.js";
import { type ChannelIndex, channelIndexPath, manifestPath } from "../feed/feed-targets.js";
import { ApiError } from "./api-error.js";

/** An answer, and its JSON as it goes on the wire. */
export interface CheckAnswer {
  response: UpdateCheckResponse;
  json: string;
}

/** How many answers a snapshot keeps, and how many bytes of keys and JSON at most. */
export interface AnswerCacheLimits {
  entries: number;
  bytes: number;
}

/**
 * The default bound of the memo: 10,000 answers or 8 MiB, whichever comes first. An answer is
 * about 500 bytes; the versions in service on a channel are a few dozen, so the memo is
 * never full in normal service and a full one costs a recomputation, not an outage.
 */
export const ANSWER_CACHE: AnswerCacheLimits = { entries: 10_000, bytes: 8 * 1024 * 1024 };

/** The longest channel name or version a request may send (the status schema's bound too). */
export const MAX_INPUT_LENGTH = 100;

/** The bytes an answer takes in the memo: its key and JSON, UTF-16 in memory. */
function answerBytes(answer: CheckAnswer, key: string): number {
  return 2 * (key.length + answer.json.length) + 64;
}

export class FeedSnapshot {
  private readonly answers: LRUCache<string, CheckAnswer>;
  private readonly manifests = new Map<string, Promise<Buffer>>();
  /** When the feed stops being valid (ms since the epoch): from then on it is never served. */
  readonly expiresAt: number;

  constructor(
    readonly feed: VerifiedFeed,
    /** The version of the feed's timestamp metadata. */
    readonly version: number,
    readonly channels: ReadonlyMap<string, ChannelIndex>,
    cache: AnswerCacheLimits = ANSWER_CACHE,
  ) {
    this.expiresAt = feed.expires().getTime();
    this.answers = new LRUCache({
      max: cache.entries,
      maxSize: cache.bytes,
      sizeCalculation: answerBytes,
    });
  }

  /** How many answers the memo holds, and their bytes (for /metrics and the tests). */
  get cached(): { entries: number; bytes: number } {
    return { entries: this.answers.size, bytes: this.answers.calculatedSize };
  }

  /** A channel's index; ApiError 400 when the text is no channel or the feed has no index for it. */
  channel(channel: string): ChannelIndex {
    const index = this.channels.get(channel);
    if (index) return index;
    if (channel.length > MAX_INPUT_LENGTH) {
      throw new ApiError(
        400,
        "invalid_channel",
        `the channel is longer than ${MAX_INPUT_LENGTH} characters`,
        {
          hint: "send X-Channel: stable, beta, early-access or custom:<name>",
        },
      );
    }
    try {
      parseUpdateChannel(channel);
    } catch (error) {
      if (!(error instanceof InvalidValueError)) throw error;
      throw new ApiError(400, "invalid_channel", error.message, {
        hint: "send X-Channel: stable, beta, early-access or custom:<name>",
      });
    }
    throw new ApiError(400, "unknown_channel", `this server's feed has no channel "${channel}"`, {
      hint: `use one of ${[...this.channels.keys()].join(", ")}`,
    });
  }

  /** The update-check answer for an installation; ApiError 400 for a bad channel or version. */
  answer(channel: string, current: string): CheckAnswer {
    const key = `${channel}\u0000${current}`;
    const known = this.answers.get(key);
    if (known) return known;
    const index = this.channel(channel);
    if (current.length > MAX_INPUT_LENGTH) {
      throw new ApiError(
        400,
        "invalid_version",
        `X-Current-Version is longer than ${MAX_INPUT_LENGTH} characters`,
        { hint: 'send the installed version, such as "2.4.0"' },
      );
    }
    let response: UpdateCheckResponse;
    try {
      response = answerUpdateCheck(index, current);
    } catch (error) {
      if (!(error instanceof InvalidValueError)) throw error;
      throw new ApiError(400, "invalid_version", `X-Current-Version: ${error.message}`, {
        hint: error.hint ?? 'send the installed version, such as "2.4.0"',
      });
    }
    const answer = { response, json: JSON.stringify(response) };
    this.answers.set(key, answer);
    return answer;
  }

  /** A release's manifest, verified against the feed's targets (read once per snapshot). */
  manifest(version: string): Promise<Buffer> {
    let bytes = this.manifests.get(version);
    if (!bytes) {
      bytes = this.feed.readManifest(version);
      bytes.catch(() => this.manifests.delete(version));
      this.manifests.set(version, bytes);
    }
    return bytes;
  }

  /**
   * The files under targets/ of the targets the channel indexes name, as the verified targets
   * metadata names them (hash-prefixed with consistent snapshots), each with the target's own
   * path: what /feed/targets/ may serve.
   */
  targetPaths(): Map<string, string> {
    const files = new Map<string, string>(); // file under targets/ → the target's path
    const add = (path: string) => {
      const file = this.feed.targetFile(path);
      if (file) files.set(file, path);
    };
    for (const [channel, index] of this.channels) {
      add(channelIndexPath(channel));
      for (const release of index.releases) add(manifestPath(release.version));
    }
    return files;
  }
}

/** Reads every channel index of a verified feed. */
export async function loadFeedSnapshot(
  feed: VerifiedFeed,
  cache: AnswerCacheLimits = ANSWER_CACHE,
): Promise<FeedSnapshot> {
  const channels = new Map<string, ChannelIndex>();
  for (const channel of feed.channels()) channels.set(channel, await feed.readChannel(channel));
  return new FeedSnapshot(feed, feed.version(), channels, cache);
}
