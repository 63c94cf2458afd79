/**
 * The specification's update-check answer (section 2.3) from a channel index of the feed: the
 * next version an installation running `current` should install. Blocked versions are never
 * offered; when the newest release cannot be reached directly (its minimumVersion), the answer
 * is the first step of the path; a mandatory release anywhere up to the newest makes the answer
 * mandatory, and so does running a blocked version. The reasons are read by whoever runs the
 * installation: a blocked running version is told to update, or to roll back or ask the vendor.
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

  const runningBlocked = blockOfRunning(index, extra, currentVersion);
  const newer = index.releases.filter((r) => compareVersions(r.version, currentVersion) > 0);
  const candidates = newer.filter((r) => !isBlocked(r));
  const newest = candidates.sort((a, b) => compareVersions(b.version, a.version))[0];
  /** For an installation stuck on a blocked version: what its operator can do. */
  const stuck = (blocked: string, why: string) => {
    const older = index.releases
      .filter((r) => compareVersions(r.version, currentVersion) < 0 && !isBlocked(r))
      .sort((a, b) => compareVersions(b.version, a.version))[0];
    const advice = older
      ? `roll back to ${older.version} (the newest release on ${index.channel} before ${currentVersion} that is not blocked), or contact the vendor`
      : `contact the vendor: ${index.channel} offers no release to update or roll back to`;
    return `${blocked}, and ${why}: ${advice}`;
  };
  if (!newest) {
    const list = newer
      .map((r) => r.version)
      .sort(compareVersions)
      .join(", ");
    const reason = runningBlocked
      ? stuck(
          runningBlocked,
          newer.length > 0
            ? `so is every newer release on ${index.channel} (${list})`
            : `${index.channel} offers nothing newer`,
        )
      : newer.length > 0
        ? `every newer release on ${index.channel} is blocked (${list})`
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
    const reason = runningBlocked
      ? stuck(runningBlocked, `no update reaches a newer release (${error.message})`)
      : error.message;
    return { updateAvailable: false, ...base, newest: newest.version, reason };
  }
  const next = candidates.find((r) => r.version === path[0]) ?? newest;
  const mandatoryRelease = candidates.find((r) => r.mandatory);
  const reasons = [
    ...(runningBlocked ? [`${runningBlocked}: update to ${next.version} now`] : []),
    ...(mandatoryRelease ? [`${mandatoryRelease.version} is mandatory`] : []),
    ...(path.length > 1
      ? [`${newest.version} needs ${path.slice(0, -1).join(" then ")} first (minimumVersion)`]
      : []),
  ];
  return {
    updateAvailable: true,
    version: next.version,
    mandatory: runningBlocked !== undefined || mandatoryRelease !== undefined,
    releaseNotes: next.releaseNotes,
    downloadUrl: next.downloadUrl,
    signature: `sha256:${next.manifest.sha256}`,
    ...base,
    newest: newest.version,
    path,
    ...(reasons.length > 0 ? { reason: reasons.join("; ") } : {}),
  };
}

/**
 * "the version this installation runs, 2.4.2, is blocked (the vendor blocks 2.4.2 on stable)",
 * naming the entry that blocks it and whose list it is on (the installation's own --blocked
 * entries first); undefined when the running version is not blocked. Addressed to whoever
 * runs the installation, not to the release engineers.
 */
function blockOfRunning(
  index: ChannelIndex,
  extra: readonly string[],
  currentVersion: string,
): string | undefined {
  const own = extra.find((entry) => entryMayBlock(entry, currentVersion));
  const vendor = index.blockedVersions.find((entry) => entryMayBlock(entry, currentVersion));
  const why =
    own !== undefined
      ? `this installation blocks ${own}`
      : vendor !== undefined
        ? `the vendor blocks ${vendor} on ${index.channel}`
        : undefined;
  return why && `the version this installation runs, ${currentVersion}, is blocked (${why})`;
}
