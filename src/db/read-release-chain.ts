/**
 * The releases that change the database, as the migration runner sees them: each release's
 * `database.from` links it to the release whose schema it expects, so the releases form chains
 * back to a first release (no `from`) that creates the schema on an empty database. Releases
 * without a database section are not on any chain.
 */
import { UsageError } from "../core/errors.js";
import { compareVersions, tryParseVersion } from "../core/version.js";
import type { RepositoryTree } from "../repo/load-tree.js";

/** The version of an empty database (before the first release's migrations). */
export const EMPTY_DATABASE = "none";

export interface ChainRelease {
  /** Canonical version ("2.4.1-stable" is "2.4.1"). */
  version: string;
  /** The release whose schema the migrations expect; null for a first release. */
  from: string | null;
  /** The folder under releases/. */
  folder: string;
  /** Files relative to the folder ("migrations/2.4.0-2.4.1.sql"), in the manifest's order. */
  migrations: readonly string[];
  rollback: readonly string[];
  /** The sha256 the manifest lists for each of those files (see shipped-file-digest.ts). */
  sha256: ReadonlyMap<string, string>;
  /** Every file of the folder, relative to it. */
  contents: ReadonlySet<string>;
}

export type ReleaseChains = ReadonlyMap<string, ChainRelease>;

/** The releases of the tree that have a database section, by canonical version. */
export function readReleaseChains(tree: RepositoryTree): ReleaseChains {
  const releases = new Map<string, ChainRelease>();
  for (const folder of tree.releases) {
    const database = folder.data?.database;
    const version = folder.data ? tryParseVersion(folder.data.version)?.canonical : undefined;
    if (!database || !version) continue;
    const twin = releases.get(version);
    if (twin) {
      throw new UsageError(
        `releases/${twin.folder} and releases/${folder.folder} are both release ${version}`,
        { hint: "run pinline validate" },
      );
    }
    const from = database.from === undefined ? null : tryParseVersion(database.from)?.canonical;
    if (from === undefined) continue; // schema-valid data has valid versions
    releases.set(version, {
      version,
      from,
      folder: folder.folder,
      migrations: database.migrations.map((entry) => entry.file),
      rollback: database.rollback.map((entry) => entry.file),
      sha256: new Map(
        [...database.migrations, ...database.rollback].map((e) => [e.file, e.sha256.toLowerCase()]),
      ),
      contents: new Set(folder.contents),
    });
  }
  return releases;
}

/**
 * Finds the release a run migrates to: by version ("2.4.1", "2.4.1-stable") or folder name, or
 * EMPTY_DATABASE. Throws UsageError when it is not a release with a database section.
 */
export function findTargetRelease(
  tree: RepositoryTree,
  chains: ReleaseChains,
  target: string,
): ChainRelease | null {
  if (target === EMPTY_DATABASE) return null;
  const canonical = tryParseVersion(target)?.canonical;
  const byVersion = canonical === undefined ? undefined : chains.get(canonical);
  if (byVersion) return byVersion;
  const folder = tree.releases.find(
    (f) => f.folder === target || (canonical !== undefined && f.folder === canonical),
  );
  const byFolder = [...chains.values()].find((r) => r.folder === folder?.folder);
  if (byFolder) return byFolder;
  if (folder && !folder.data) {
    throw new UsageError(`${folder.file} does not pass validation`, {
      hint: "run pinline validate",
    });
  }
  if (folder) {
    throw new UsageError(
      `release ${target} has no database section: it changes no schema, so there is nothing to migrate to`,
      { hint: "migrate to the release whose schema it runs on" },
    );
  }
  throw new UsageError(`there is no release ${target} in releases/`, {
    hint: `name a release folder, such as releases/${[...chains.values()].at(-1)?.folder ?? "<version>"}, or ${EMPTY_DATABASE} for an empty database`,
  });
}

/**
 * The chain that leads to a release, first release first: [2.0.0, 2.3.0, 2.4.0, 2.4.1].
 * Throws UsageError when a `from` names no release with a database section, is not older than
 * its release, or loops.
 */
export function chainTo(chains: ReleaseChains, version: string): ChainRelease[] {
  const chain: ChainRelease[] = [];
  const seen = new Set<string>();
  let current = chains.get(version);
  if (!current) throw new UsageError(`release ${version} has no database section in releases/`);
  for (;;) {
    if (seen.has(current.version)) {
      throw new UsageError(`the database.from links of releases/${current.folder} form a loop`);
    }
    seen.add(current.version);
    chain.push(current); // newest first, reversed at the end: unshift would be quadratic
    if (current.from === null) return chain.reverse();
    const previous = chains.get(current.from);
    if (!previous) {
      throw new UsageError(
        `releases/${current.folder}/release.yaml: database.from is ${current.from}, which is not a release with a database section in releases/`,
        { hint: "name the release whose schema these migrations expect" },
      );
    }
    if (compareVersions(previous.version, current.version) >= 0) {
      throw new UsageError(
        `releases/${current.folder}/release.yaml: database.from is ${current.from}, which is not older than ${current.version}`,
      );
    }
    current = previous;
  }
}
