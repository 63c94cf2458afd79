/**
 * What a built feed offers, read back from its files: each channel index's releases and the
 * version and expiry of each metadata file. For the job summary of actions/publish.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { METADATA_DIR, TARGETS_DIR } from "../feed/build-feed.js";
import { BUILT_IN_CHANNELS, type ChannelIndex } from "../feed/feed-targets.js";

export interface FeedDescription {
  channels: { channel: string; releases: number; newest?: string; newestBlocked: boolean }[];
  metadata: { file: string; version: number; expires: string }[];
}

interface SignedJson {
  signed: { version: number; expires: string; targets?: Record<string, unknown> };
}

export function describeFeed(feed: string): FeedDescription {
  const read = (path: string) => JSON.parse(readFileSync(join(feed, path), "utf8"));
  const metadata = ["root.json", "targets.json", "snapshot.json", "timestamp.json"].map((file) => {
    const { signed } = read(join(METADATA_DIR, file)) as SignedJson;
    return { file, version: signed.version, expires: signed.expires };
  });
  const targets = (read(join(METADATA_DIR, "targets.json")) as SignedJson).signed.targets ?? {};
  const order = (channel: string) => {
    const builtIn = (BUILT_IN_CHANNELS as readonly string[]).indexOf(channel);
    return builtIn === -1 ? BUILT_IN_CHANNELS.length : builtIn;
  };
  const channels = Object.keys(targets)
    .filter((path) => path.startsWith("channels/"))
    .map((path) => read(join(TARGETS_DIR, path)) as ChannelIndex)
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
