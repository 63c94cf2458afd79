/**
 * The verified feed as the server holds it between reloads: every channel index read (and
 * checked against the signed targets) once, and update-check answers memoised per
 * (channel, current version), ready-serialised — so the hot path of GET /api/v1/updates/check is
 * two map look-ups, with no TUF, no parsing and no database per request.
 */

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

/** Answers kept per snapshot; past this the memo starts over (junk versions cannot grow it). */
const MEMO_LIMIT = 10_000;

export class FeedSnapshot {
  private readonly answers = new Map<string, CheckAnswer>();
  private readonly manifests = new Map<string, Promise<Buffer>>();

  constructor(
    readonly feed: VerifiedFeed,
    /** The version of the feed's timestamp metadata. */
    readonly version: number,
    readonly channels: ReadonlyMap<string, ChannelIndex>,
  ) {}

  /** A channel's index; ApiError 400 when the text is no channel or the feed has no index for it. */
  channel(channel: string): ChannelIndex {
    const index = this.channels.get(channel);
    if (index) return index;
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
    if (this.answers.size >= MEMO_LIMIT) this.answers.clear();
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
export async function loadFeedSnapshot(feed: VerifiedFeed): Promise<FeedSnapshot> {
  const channels = new Map<string, ChannelIndex>();
  for (const channel of feed.channels()) channels.set(channel, await feed.readChannel(channel));
  return new FeedSnapshot(feed, feed.version(), channels);
}
