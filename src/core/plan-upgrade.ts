/**
 * Upgrade paths (DESIGN §1): going from A to B is allowed directly only if
 * A >= B.minimumVersion; otherwise the path steps through the lowest intermediate release that
 * both can reach B and can itself be reached from A.
 */
import type { SemVer } from "semver";
import semver from "semver";
import { InvalidValueError, RefusedError } from "./errors.js";
import { parseVersion } from "./version.js";

/** A release the plan may step through: already filtered by channel and blocked versions. */
export interface UpgradeCandidate {
  version: string;
  /** Installations older than this must step through an intermediate release first. */
  minimumVersion?: string | undefined;
}

interface Release {
  version: string;
  semver: SemVer;
  minimumText: string | undefined;
  minimum: SemVer | undefined;
}

/** Marks a release that A reaches in one step. */
const DIRECT = -1;

const ELIGIBLE_HINT =
  "a plan only steps through eligible releases: on the environment's channel and not blocked";

function toRelease(candidate: UpgradeCandidate): Release {
  const minimum =
    candidate.minimumVersion === undefined ? undefined : parseVersion(candidate.minimumVersion);
  return {
    version: candidate.version,
    semver: parseVersion(candidate.version).semver,
    minimumText: minimum?.canonical,
    minimum: minimum?.semver,
  };
}

function checkSameRelease(kept: Release, duplicate: Release): void {
  const same =
    kept.minimum === undefined || duplicate.minimum === undefined
      ? kept.minimum === duplicate.minimum
      : semver.eq(kept.minimum, duplicate.minimum);
  if (!same) {
    throw new InvalidValueError(
      `release ${kept.version} is listed twice (as "${kept.version}" and "${duplicate.version}") with different minimumVersion values`,
    );
  }
}

/** Parses and sorts the releases ascending, once; a version listed twice counts once. */
function sortReleases(candidates: readonly UpgradeCandidate[]): Release[] {
  const sorted = candidates.map(toRelease).sort((a, b) => semver.compare(a.semver, b.semver));
  const unique: Release[] = [];
  for (const release of sorted) {
    const last = unique.at(-1);
    if (last && semver.eq(last.semver, release.semver)) checkSameRelease(last, release);
    else unique.push(release);
  }
  return unique;
}

/** The first index whose item is not `isBelow` the sought value (binary search over a sorted list). */
function lowerBound<T>(list: readonly T[], isBelow: (item: T) => boolean): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isBelow(list[middle] as T)) low = middle + 1;
    else high = middle;
  }
  return low;
}

function firstAtLeast(releases: readonly Release[], version: SemVer): number {
  return lowerBound(releases, (release) => semver.lt(release.semver, version));
}

function firstAbove(releases: readonly Release[], version: SemVer): number {
  return lowerBound(releases, (release) => semver.lte(release.semver, version));
}

function reachesDirectly(from: SemVer, release: Release): boolean {
  return release.minimum === undefined || semver.gte(from, release.minimum);
}

/**
 * For every release above `from` up to the target, the release to step from: DIRECT, the index
 * of the lowest reachable release at or above its minimumVersion; absent when it cannot
 * be reached. One ascending pass with binary searches: O(n log n).
 */
function findPreviousSteps(
  releases: readonly Release[],
  from: SemVer,
  targetIndex: number,
): Map<number, number> {
  const previous = new Map<number, number>();
  const reachable: number[] = [];
  for (let index = firstAbove(releases, from); index <= targetIndex; index++) {
    const release = releases[index] as Release;
    if (reachesDirectly(from, release)) {
      previous.set(index, DIRECT);
      reachable.push(index);
      continue;
    }
    const lowestUsable = firstAtLeast(releases, release.minimum as SemVer);
    const step = reachable[lowerBound(reachable, (candidate) => candidate < lowestUsable)];
    if (step !== undefined) {
      previous.set(index, step);
      reachable.push(index);
    }
  }
  return previous;
}

function followSteps(
  releases: readonly Release[],
  previous: Map<number, number>,
  targetIndex: number,
): string[] {
  const path: string[] = [];
  let index: number | undefined = targetIndex;
  while (index !== undefined && index !== DIRECT) {
    path.push((releases[index] as Release).version);
    index = previous.get(index);
  }
  return path.reverse();
}

/** Why nothing can step to `release`: its minimumVersion is above itself, or nothing lies between. */
function describeGap(release: Release): string {
  if (semver.gt(release.minimum as SemVer, release.semver)) {
    return " (a minimumVersion above the release itself)";
  }
  return `, and no eligible release at or above ${release.minimumText} and below ${release.version} exists to step through`;
}

/**
 * Why no path reaches the target: follows the lowest candidate down to the release whose
 * minimumVersion nothing can meet.
 */
function explainNoPath(
  releases: readonly Release[],
  from: string,
  targetIndex: number,
): RefusedError {
  const target = releases[targetIndex] as Release;
  let index = targetIndex;
  let lowest = firstAtLeast(releases, target.minimum as SemVer);
  while (lowest < index) {
    index = lowest;
    lowest = firstAtLeast(releases, (releases[index] as Release).minimum as SemVer);
  }
  const root = releases[index] as Release;
  const requirement = `${target.version} requires minimumVersion ${target.minimumText}, which ${from} does not meet`;
  const cause =
    root === target
      ? describeGap(target)
      : `; going back through the lowest intermediate releases ends at ${root.version}, which requires minimumVersion ${root.minimumText}${describeGap(root)}`;
  return new RefusedError(
    `no upgrade path from ${from} to ${target.version}: ${requirement}${cause}`,
    {
      hint: ELIGIBLE_HINT,
    },
  );
}

/**
 * The versions to install, in order, to go from `from` to `to`; the list ends with `to` and
 * versions are spelled as in `releases`. A release is reached directly when `from` meets its
 * minimumVersion; otherwise through the lowest release R (from < R < B, R >= B.minimumVersion)
 * that is itself reachable. `releases` must already be the eligible ones (channel, blocked).
 * Throws RefusedError when `to` is not among them, when it is not an upgrade, or when no path
 * exists; InvalidValueError for malformed versions.
 */
export function planUpgrade(input: {
  from: string;
  to: string;
  releases: readonly UpgradeCandidate[];
}): string[] {
  const from = parseVersion(input.from);
  const to = parseVersion(input.to);
  const order = semver.compare(from.semver, to.semver);
  if (order === 0) {
    throw new RefusedError(`${input.from} → ${input.to} is not an upgrade: it is already there`);
  }
  if (order > 0) {
    throw new RefusedError(
      `${input.from} → ${input.to} is not an upgrade: use a rollback (revert the pin) to go back to an older version`,
    );
  }
  const releases = sortReleases(input.releases);
  const targetIndex = firstAtLeast(releases, to.semver);
  const target = releases[targetIndex];
  if (!target || !semver.eq(target.semver, to.semver)) {
    throw new RefusedError(`${input.to} is not an eligible release`, {
      hint: "it is not released, is blocked, or is not on the environment's channel",
    });
  }
  if (reachesDirectly(from.semver, target)) return [target.version];
  const previous = findPreviousSteps(releases, from.semver, targetIndex);
  if (!previous.has(targetIndex)) throw explainNoPath(releases, input.from, targetIndex);
  return followSteps(releases, previous, targetIndex);
}
