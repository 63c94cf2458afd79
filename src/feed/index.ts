/** The static signed update feed (issue 7): build, re-sign the timestamp, keys, verification. */
export {
  type BuildFeedOptions,
  type BuiltFeed,
  buildFeed,
  DEFAULT_EXPIRY,
  type FeedExpiry,
  RENEW_WITHIN,
  type ResignTimestampOptions,
  resignTimestamp,
} from "./build-feed.js";
export { METADATA_DIR, metadataFileName, TARGETS_DIR, targetFileName } from "./feed-layout.js";
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
export { readFeedMetadata } from "./read-feed-metadata.js";
export { type VerifiedFeedMetadata, verifyFeedMetadata } from "./verify-feed-metadata.js";
export {
  type ReleaseSigner,
  type UnverifiedRelease,
  verifyFeedReleases,
} from "./verify-feed-releases.js";
