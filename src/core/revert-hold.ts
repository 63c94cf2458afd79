/**
 * Hold after revert (DESIGN §6): once an environment's pin was moved back from a version — by
 * an automatic rollback or by hand — that version is held there. plan, update-check and the
 * gate never propose or pass it for that environment again until a promotion re-allows it
 * explicitly (its head commit carries `Pinline-Retry: <version>`); a new release is never held.
 *
 * What counts is the environment's latest run of the version: if it ended with the pin moving
 * to an older version, the version is held; if a retry then ran it and it was replaced by a
 * newer one, the hold is gone.
 */
import type { PinPeriod } from "./gates/gate-input.js";
import { compareVersions, sameVersion, tryParseVersion } from "./version.js";

export interface RevertRecord {
  /** The version as the pin named it. */
  version: string;
  /** The version the pin was moved back to. */
  revertedTo: string;
  /** When the revert landed. */
  at: Date;
  /** The commit that had set the reverted version. */
  commit: string;
}

/** The trailer a promotion's head commit carries to try a reverted version again. */
export const RETRY_TRAILER = "Pinline-Retry";

/** The revert that holds `version` in an environment with this pin history, if any. */
export function revertHolding(
  periods: readonly PinPeriod[],
  version: string,
): RevertRecord | undefined {
  const latest = periods.filter((period) => sameVersion(period.version, version)).at(-1);
  if (!latest || latest.until === undefined || latest.next === undefined) return undefined;
  if (!tryParseVersion(latest.next) || compareVersions(latest.next, latest.version) >= 0) {
    return undefined;
  }
  return {
    version: latest.version,
    revertedTo: latest.next,
    at: latest.until,
    commit: latest.commit,
  };
}

/** Every version an environment holds after a revert, oldest revert first. */
export function heldVersions(periods: readonly PinPeriod[]): RevertRecord[] {
  const held: RevertRecord[] = [];
  for (const period of periods) {
    if (held.some((record) => sameVersion(record.version, period.version))) continue;
    const record = revertHolding(periods, period.version);
    if (record) held.push(record);
  }
  return held.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/**
 * The versions a commit message re-allows: `Pinline-Retry: 2.4.2` lines in its last paragraph
 * (git's trailer block), several versions separated by commas or spaces.
 */
export function retriedVersions(message: string): string[] {
  const paragraphs = message
    .replace(/\r\n?/g, "\n")
    .trim()
    .split(/\n\s*\n/);
  const last = paragraphs.length > 1 ? (paragraphs.at(-1) ?? "") : "";
  const versions: string[] = [];
  const pattern = new RegExp(`^${RETRY_TRAILER}:\\s*(.+)$`, "i");
  for (const line of last.split("\n")) {
    const match = pattern.exec(line.trim());
    if (!match?.[1]) continue;
    for (const word of match[1].split(/[\s,]+/)) {
      if (tryParseVersion(word)) versions.push(word);
    }
  }
  return versions;
}

/** Whether `retry` names `version` (any spelling of it). */
export function isRetried(retry: readonly string[] | undefined, version: string): boolean {
  return (retry ?? []).some((entry) => sameVersion(entry, version));
}
