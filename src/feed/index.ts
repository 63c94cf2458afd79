/** The static signed update feed (issue 7): build, re-sign the timestamp, keys. */
export {
  type BuildFeedOptions,
  type BuiltFeed,
  buildFeed,
  DEFAULT_EXPIRY,
  type FeedExpiry,
  METADATA_DIR,
  type ResignTimestampOptions,
  resignTimestamp,
  TARGETS_DIR,
} from "./build-feed.js";
export {
  BUILT_IN_CHANNELS,
  type ChannelIndex,
  channelIndexPath,
  type FeedRelease,
  feedTargets,
  manifestPath,
} from "./feed-targets.js";
export {
  type FeedKeys,
  type FeedPrivateKey,
  feedKeyId,
  generateFeedKeys,
  signingKey,
} from "./keys.js";
