/**
 * Blocked versions (specification section 8.1): a policy's `blockedVersions` names exact
 * versions ("2.4.2") or semver ranges (">=2.6.0 <2.6.3").
 */
import { isVersionInRange, tryParseVersion } from "./version.js";

/**
 * Whether one entry blocks the version. An exact entry compares canonically ("2.4.1-stable"
 * blocks "2.4.1"). Throws InvalidValueError for an entry that is neither a version nor a range.
 */
export function entryBlocks(entry: string, version: string): boolean {
  const exact = tryParseVersion(entry);
  if (exact) return exact.canonical === tryParseVersion(version)?.canonical;
  return isVersionInRange(version, entry);
}

/**
 * entryBlocks for entries that may be malformed: such an entry blocks nothing here (the gate's
 * blocked-versions rule and validate report it where it is written).
 */
export function entryMayBlock(entry: string, version: string): boolean {
  try {
    return entryBlocks(entry, version);
  } catch {
    return false;
  }
}

/** Whether any of the policies blocks the version. */
export function policiesBlock(
  policies: readonly { blockedVersions?: readonly string[] | undefined }[],
  version: string,
): boolean {
  return policies.some((policy) =>
    (policy.blockedVersions ?? []).some((entry) => entryMayBlock(entry, version)),
  );
}
