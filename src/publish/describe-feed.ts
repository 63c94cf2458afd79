/**
 * What a built feed offers, read back from its files: each channel index's releases and the
 * version and expiry of each metadata file (the ones timestamp.json leads to, by version). For
 * the job summary of actions/publish.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TARGETS_DIR, targetFileName } from "../feed/feed-layout.js";
import { BUILT_IN_CHANNELS, type ChannelIndex } from "../feed/feed-targets.js";
import { readFeedMetadata } from "../feed/read-feed-metadata.js";

export interface FeedDescription {
  channels: { channel: string; releases: number; newest?: string; newestBlocked: boolean }[];
  /** root.json (the newest root), then the targets, snapshot and timestamp the feed serves. */
  metadata: { file: string; version: number; expires: string }[];
}

interface SignedJson {
  signed: {
    version: number;
    expires: string;
    targets?: Record<string, { hashes: { sha256: string } }>;
  };
}

export function describeFeed(feed: string): FeedDescription {
  const files = readFeedMetadata(feed);
  const newestRoot = [...files.roots.entries()].at(-1) as [number, Buffer];
  const parse = (bytes: Buffer) => JSON.parse(bytes.toString("utf8")) as SignedJson;
  const entries: [string, Buffer][] = [
    [`${newestRoot[0]}.root.json`, newestRoot[1]],
    [files.targets.name, files.targets.bytes],
    [files.snapshot.name, files.snapshot.bytes],
    [files.timestamp.name, files.timestamp.bytes],
  ];
  const metadata = entries.map(([file, bytes]) => {
    const { signed } = parse(bytes);
    return { file, version: signed.version, expires: signed.expires };
  });
  const targets = parse(files.targets.bytes).signed.targets ?? {};
  const order = (channel: string) => {
    const builtIn = (BUILT_IN_CHANNELS as readonly string[]).indexOf(channel);
    return builtIn === -1 ? BUILT_IN_CHANNELS.length : builtIn;
  };
  const channels = Object.entries(targets)
    .filter(([path]) => path.startsWith("channels/"))
    .map(([path, target]) => {
      const file = targetFileName(path, target.hashes.sha256, files.consistent);
      return JSON.parse(readFileSync(join(feed, TARGETS_DIR, file), "utf8")) as ChannelIndex;
    })
    .sort((a, b) => order(a.channel) - order(b.channel) || a.channel.localeCompare(b.channel))
    .map((index) => {
      const newest = index.releases[0];
      return {
        channel: index.channel,
        releases: index.releases.length,
        ...(newest ? { newest: newest.version } : {}),
        newestBlocked: newest?.blocked ?? false,
      };
    });
  return { channels, metadata };
}
