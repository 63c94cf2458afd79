/**
 * Where the files of a feed are (TUF's consistent snapshots, specification section 5.5 / 6.2):
 *
 *   metadata/1.root.json … N.root.json   every root version, so clients walk rotations
 *   metadata/root.json                   a copy of the newest root (for people; clients skip it)
 *   metadata/timestamp.json              the only file whose name never changes
 *   metadata/<v>.snapshot.json           the snapshot of version v, never rewritten
 *   metadata/<v>.targets.json            the targets of version v, never rewritten
 *   targets/<dir>/<sha256>.<name>        each target under its own hash: channels/<h>.stable.json
 *
 * A version's files never change once written, so a reader that read an older timestamp.json
 * (from a cache, or just before a deploy) reads the snapshot, targets and target files that
 * timestamp names — never a mix of two versions. A feed whose root says consistent_snapshot
 * false (built before pinline turned them on) has plain `snapshot.json`, `targets.json` and
 * `<path>` names; readers follow whatever the root says.
 */

export const METADATA_DIR = "metadata";
export const TARGETS_DIR = "targets";

/** "3.snapshot.json", or "snapshot.json" for a feed without consistent snapshots. */
export function metadataFileName(
  role: "snapshot" | "targets",
  version: number,
  consistent: boolean,
): string {
  return consistent ? `${version}.${role}.json` : `${role}.json`;
}

/**
 * The file of a target under targets/: "channels/<sha256>.stable.json" with consistent
 * snapshots (what tuf-js fetches with its default prefixTargetsWithHash), else the path itself.
 */
export function targetFileName(path: string, sha256: string, consistent: boolean): string {
  if (!consistent) return path;
  const slash = path.lastIndexOf("/");
  return slash === -1
    ? `${sha256}.${path}`
    : `${path.slice(0, slash + 1)}${sha256}.${path.slice(slash + 1)}`;
}
