/**
 * The specification's update-check answer (section 2.3) from a channel index of the feed: the
 * next version an installation running `current` should install. Blocked versions are never
 * offered; when the newest release cannot be reached directly (its minimumVersion), the answer
 * is the first step of the path; a mandatory release anywhere up to the newest makes the answer
 * mandatory, and so does running a blocked version.
 */
import { entryMayBlock } from "../core/blocked-versions.js";
import { PinlineError } from "../core/errors.js";
import { planUpgrade } from "../core/plan-upgrade.js";
import { compareVersions, parseVersion } from "../core/version.js";
import type { ChannelIndex, FeedRelease } from "./feed-targets.js";

/** The response of GET /api/v1/updates/check and `pinline check`. */
export interface UpdateCheckResponse {
  updateAvailable: boolean;
  /** The version to install now: the newest, or the first step towards it. */
  version?: string;
  mandatory?: boolean;
  releaseNotes?: string | null;
  downloadUrl?: string | null;
  /** The manifest's hash, "sha256:<hex>": the client checks the manifest it downloads against it. */
  signature?: string;
  currentVersion: string;
  channel: string;
  /** The newest release the channel offers the installation. */
  newest?: string;
  /** Versions to install in order, ending with `newest`. */
  path?: string[];
  /** Why there is no update, or why the answer is mandatory. */
  reason?: string;
}

export interface AnswerOptions {
  /** More blocked entries (exact versions or ranges), from the installation's own policy. */
  blockedVersions?: readonly string[];
}

/**
 * Answers an update check. Throws InvalidValueError when `current` is not a version.
 */
export function answerUpdateCheck(
  index: ChannelIndex,
  current: string,
  options: AnswerOptions = {},
): UpdateCheckResponse {
  const currentVersion = parseVersion(current).canonical;
  const extra = options.blockedVersions ?? [];
  const isBlocked = (release: FeedRelease) =>
    release.blocked || extra.some((entry) => entryMayBlock(entry, release.version));
  const base = { currentVersion, channel: index.channel };

  const runningBlocked = [...extra, ...index.blockedVersions].some((entry) =>
    entryMayBlock(entry, currentVersion),
  );
  const newer = index.releases.filter((r) => compareVersions(r.version, currentVersion) > 0);
  const candidates = newer.filter((r) => !isBlocked(r));
  const newest = candidates.sort((a, b) => compareVersions(b.version, a.version))[0];
  if (!newest) {
    const reason =
      newer.length > 0
        ? `every newer release on ${index.channel} is blocked (${newer.map((r) => r.version).join(", ")})`
        : runningBlocked
          ? `${currentVersion} is blocked, and ${index.channel} offers nothing newer: roll back (pinline revert)`
          : `${currentVersion} is up to date on ${index.channel}`;
    return { updateAvailable: false, ...base, reason };
  }

  let path: string[];
  try {
    path = planUpgrade({
      from: currentVersion,
      to: newest.version,
      releases: candidates.map((r) => ({
        version: r.version,
        minimumVersion: r.minimumVersion ?? undefined,
      })),
    });
  } catch (error) {
    if (!(error instanceof PinlineError)) throw error;
    return { updateAvailable: false, ...base, newest: newest.version, reason: error.message };
  }
  const next = candidates.find((r) => r.version === path[0]) ?? newest;
  const mandatoryRelease = candidates.find((r) => r.mandatory);
  const reasons = [
    ...(runningBlocked ? [`${currentVersion} is blocked`] : []),
    ...(mandatoryRelease ? [`${mandatoryRelease.version} is mandatory`] : []),
    ...(path.length > 1
      ? [`${newest.version} needs ${path.slice(0, -1).join(" then ")} first (minimumVersion)`]
      : []),
  ];
  return {
    updateAvailable: true,
    version: next.version,
    mandatory: runningBlocked || mandatoryRelease !== undefined,
    releaseNotes: next.releaseNotes,
    downloadUrl: next.downloadUrl,
    signature: `sha256:${next.manifest.sha256}`,
    ...base,
    newest: newest.version,
    path,
    ...(reasons.length > 0 ? { reason: reasons.join("; ") } : {}),
  };
}
