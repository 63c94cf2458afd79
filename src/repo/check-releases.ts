import { parseCompatibilityRange } from "../core/compatibility.js";
import { PinlineError } from "../core/errors.js";
import type { ReleaseManifest } from "../core/schema-types.js";
import { parseSize } from "../core/size.js";
import { compareVersions, parseVersion, tryParseVersion } from "../core/version.js";
import type { Catalog } from "./catalog.js";
import { error, type Finding, warning } from "./findings.js";
import { compareNames, RELEASE_FILE, SIGNATURE_FILE } from "./layout.js";
import type { ReleaseFolder } from "./load-tree.js";
import type { PathSegment, YamlFile } from "./parse-yaml.js";
import { irregularReason } from "./read-regular-file.js";

/** Files a release folder may hold besides its SQL. */
const RELEASE_EXTRAS = new Set([RELEASE_FILE, SIGNATURE_FILE, "README.md", "CHANGELOG.md"]);

/**
 * Checks one release against itself: the folder is the version, the version agrees with the
 * channel, minimumVersion and database.from come before it, and the SQL on disk is exactly
 * what the manifest lists, migrations and rollbacks paired. It needs nothing but the folder,
 * so it runs in whichever thread read the folder.
 */
export function checkRelease(release: ReleaseFolder): Finding[] {
  const findings = checkFolder(release);
  const { yaml, data } = release;
  if (!yaml || !data) return findings;
  const finding = (path: PathSegment[], message: string, hint?: string) =>
    findings.push(error("release", yaml.at(path), message, hint));

  const version = parseOr(data.version, (e) => finding(["version"], e.message, e.hint));
  if (!version) return findings;
  if (data.version !== release.folder) {
    finding(
      ["version"],
      `version is ${data.version}, but the folder is releases/${release.folder}/`,
      `the folder must be named after the version: releases/${data.version}/`,
    );
  }
  if (data.channel !== version.channel) {
    finding(
      ["channel"],
      `channel is ${data.channel}, but ${data.version} is a ${version.channel} version`,
      `the version's suffix and the channel must agree: set channel: ${version.channel}`,
    );
  }
  if (data.minimumVersion !== undefined) {
    const minimum = parseOr(data.minimumVersion, (e) =>
      finding(["minimumVersion"], e.message, e.hint),
    );
    if (minimum && compareVersions(minimum.canonical, version.canonical) > 0) {
      finding(
        ["minimumVersion"],
        `minimumVersion ${data.minimumVersion} is newer than the release itself (${data.version})`,
        "minimumVersion names an older release installations must already run",
      );
    }
  }
  const shipped = new Set(
    [...(data.database?.migrations ?? []), ...(data.database?.rollback ?? [])].map((e) => e.file),
  );
  for (const [name, component] of Object.entries(data.components)) {
    if (!component) continue;
    parseOr(component.version, (e) => finding(["components", name, "version"], e.message));
    const artifactProblem = shipped.has(component.artifact)
      ? undefined // the component is a file the release itself ships, hashed above
      : describeArtifactProblem(component.artifact);
    if (artifactProblem) {
      finding(
        ["components", name, "artifact"],
        artifactProblem,
        `write where the artifact is published: an https URL, or an image reference with its registry and a tag or digest, such as ghcr.io/acme/${name}:${data.version}`,
      );
    }
    try {
      parseSize(component.size);
    } catch (e) {
      if (e instanceof PinlineError) finding(["components", name, "size"], e.message, e.hint);
      else throw e;
    }
  }
  for (const [platform, ranges] of Object.entries(data.compatibility ?? {})) {
    (ranges ?? []).forEach((range, index) => {
      try {
        parseCompatibilityRange(range);
      } catch (e) {
        if (e instanceof PinlineError) {
          finding(["compatibility", platform, index], e.message, e.hint);
        } else throw e;
      }
    });
  }
  findings.push(...checkDatabase(release, yaml, data, version.canonical));
  return findings;
}

/**
 * The checks that need every release: one version in two folders, a `database.from` that
 * names no release, more than one release creating the schema.
 */
export function checkReleases(releases: readonly ReleaseFolder[], catalog: Catalog): Finding[] {
  const findings: Finding[] = [];
  const seen = new Map<string, ReleaseFolder>();
  for (const release of releases) {
    const { yaml, data } = release;
    const version = data && tryParseVersion(data.version);
    if (!yaml || !data || !version) continue;
    const twin = seen.get(version.canonical);
    if (twin) {
      findings.push(
        error(
          "release",
          yaml.at(["version"]),
          `${data.version} is the same version as releases/${twin.folder}/`,
          "remove one of the two folders",
        ),
      );
    }
    seen.set(version.canonical, release);
    const from =
      data.database?.from !== undefined ? tryParseVersion(data.database.from) : undefined;
    if (
      from &&
      compareVersions(from.canonical, version.canonical) < 0 &&
      !catalog.releases.has(from.canonical)
    ) {
      findings.push(
        error(
          "database",
          yaml.at(["database", "from"]),
          `database.from ${data.database?.from} names no release in releases/`,
          "the migration chain must be walkable: name an existing earlier release",
        ),
      );
    }
  }
  findings.push(...checkSchemaRoots(releases));
  return findings;
}

/** Reports a stray file or folder, or SQL outside migrations/ and rollback/. */
function checkFolder(release: ReleaseFolder): Finding[] {
  const findings: Finding[] = [];
  const base = `releases/${release.folder}`;
  for (const { file, kind } of release.irregular) {
    findings.push(
      error(
        "file",
        { file: `${base}/${file}`, line: 1, column: 1 },
        irregularReason(kind),
        "a release ships regular files only: commit the file itself, not a link to it",
      ),
    );
  }
  for (const file of release.contents) {
    if (RELEASE_EXTRAS.has(file)) continue;
    if (/^(migrations|rollback)\/[^/]+\.sql$/.test(file)) continue;
    const where = { file: `${base}/${file}`, line: 1, column: 1 };
    if (file.endsWith(".sql")) {
      findings.push(
        error(
          "database",
          where,
          "is SQL outside migrations/ and rollback/, so it would never run",
          "move it into migrations/ or rollback/ and list it in release.yaml",
        ),
      );
    } else if (!file.split("/").some((part) => part.startsWith("."))) {
      findings.push(warning("layout", where, "is not part of a release and is ignored"));
    }
  }
  for (const dir of release.directories) {
    if (dir === "migrations" || dir === "rollback" || dir === RELEASE_FILE) continue;
    if (dir.startsWith(".")) continue;
    findings.push(
      warning(
        "layout",
        { file: `${base}/${dir}`, line: 1, column: 1 },
        "is not part of a release (only migrations/ and rollback/ are read)",
      ),
    );
  }
  return findings;
}

const SQL_NAME = /^(migrations|rollback)\/(.+)\.sql$/;

function checkDatabase(
  release: ReleaseFolder,
  yaml: YamlFile,
  data: ReleaseManifest,
  version: string,
): Finding[] {
  const findings: Finding[] = [];
  const finding = (path: PathSegment[], message: string, hint?: string) =>
    findings.push(error("database", yaml.at(path), message, hint));
  const onDisk = release.contents.filter((f) => SQL_NAME.test(f));
  const database = data.database;

  if (!database) {
    for (const file of onDisk) {
      findings.push(
        error(
          "database",
          { file: `releases/${release.folder}/${file}`, line: 1, column: 1 },
          "is not listed: release.yaml has no database section, so it would never run",
          "add a database section with from, migrations and rollback",
        ),
      );
    }
    return findings;
  }

  if (database.from !== undefined) {
    const from = parseOr(database.from, (e) => finding(["database", "from"], e.message, e.hint));
    if (from && compareVersions(from.canonical, version) >= 0) {
      finding(
        ["database", "from"],
        `database.from ${database.from} is not older than the release (${data.version})`,
        "from names the schema version these migrations start from: an earlier release",
      );
    }
  }

  const listed = new Set<string>();
  const present = new Set(release.contents);
  const irregular = new Set(release.irregular.map((entry) => entry.file));
  for (const list of ["migrations", "rollback"] as const) {
    const entries = database[list];
    entries.forEach(({ file, sha256 }, i) => {
      const at: PathSegment[] = ["database", list, i];
      if (!file.startsWith(`${list}/`)) {
        finding(
          [...at, "file"],
          `${file} is listed under database.${list}, but it is not in ${list}/`,
          `list ${list === "migrations" ? "forward migrations under database.migrations" : "rollback scripts under database.rollback"}, each from its own folder`,
        );
      }
      if (listed.has(file)) {
        finding([...at, "file"], `${file} is listed twice`, "list each file once");
      }
      listed.add(file);
      if (irregular.has(file)) return; // reported at the file: it is never read
      if (!present.has(file)) {
        const isDir = release.directories.includes(file);
        finding(
          [...at, "file"],
          isDir
            ? `${file} is a directory, not an SQL file`
            : `${file} does not exist in releases/${release.folder}/`,
          "add the file, or fix the path (relative to the release folder)",
        );
      } else {
        const actual = release.digests[file];
        if (actual !== undefined && actual !== sha256.toLowerCase()) {
          finding(
            [...at, "sha256"],
            `${file} does not match its sha256: the manifest lists ${sha256}, the file hashes to ${actual}`,
            `if the change is intended, run pinline release hash releases/${release.folder} and sign the release again; otherwise restore the file (git checkout)`,
          );
        }
      }
      const previous = entries[i - 1]?.file;
      if (previous !== undefined && compareNames(previous, file) > 0) {
        finding(
          [...at, "file"],
          `${file} is listed after ${previous}, but ${list === "migrations" ? "migrations" : "rollback scripts"} run in name order`,
          `list them in name order, or rename them so their names sort in the order they must run`,
        );
      }
    });
  }
  for (const file of onDisk) {
    if (listed.has(file)) continue;
    findings.push(
      error(
        "database",
        { file: `releases/${release.folder}/${file}`, line: 1, column: 1 },
        `is not listed in release.yaml's database.${file.startsWith("migrations/") ? "migrations" : "rollback"}, so it would never run`,
        "list it, or delete it",
      ),
    );
  }
  findings.push(
    ...checkPairs(
      yaml,
      database.migrations.map((entry) => entry.file),
      database.rollback.map((entry) => entry.file),
      data.version,
    ),
  );
  return findings;
}

/**
 * Each migration needs the script that undoes it. Rollbacks run in name order, newest
 * migration first, so rollback[i] undoes migrations[n-1-i]; where file names follow the
 * `<from>-<to>` convention, the rollback's must be `<to>-<from>`.
 */
function checkPairs(
  yaml: YamlFile,
  migrations: readonly string[],
  rollbacks: readonly string[],
  version: string,
): Finding[] {
  const findings: Finding[] = [];
  if (migrations.length !== rollbacks.length) {
    const path: PathSegment[] = [
      "database",
      rollbacks.length < migrations.length ? "rollback" : "migrations",
    ];
    findings.push(
      error(
        "database",
        yaml.at(path),
        `${version} has ${count(migrations.length, "migration")} but ${count(rollbacks.length, "rollback script")}`,
        "every migration needs the script that undoes it, so that a failed update can be rolled back",
      ),
    );
    return findings;
  }
  const n = migrations.length;
  for (let i = 0; i < n; i++) {
    const rollback = rollbacks[i] as string;
    const migration = migrations[n - 1 - i] as string;
    const forward = versionPair(migration);
    const backward = versionPair(rollback);
    if (!forward || !backward) continue;
    if (forward.from !== backward.to || forward.to !== backward.from) {
      findings.push(
        error(
          "database",
          yaml.at(["database", "rollback", i, "file"]),
          `${rollback} should undo ${migration} (rollbacks run newest first), but it goes ${backward.from} → ${backward.to} instead of ${forward.to} → ${forward.from}`,
          "name each rollback after the migration it undoes, versions swapped",
        ),
      );
    }
  }
  return findings;
}

/** `migrations/2.4.0-2.4.1_index.sql` → {from: 2.4.0, to: 2.4.1}; versions may hold dashes. */
function versionPair(file: string): { from: string; to: string } | undefined {
  const stem = SQL_NAME.exec(file)?.[2];
  if (!stem) return undefined;
  const base = stem.split("_")[0] as string;
  for (let i = base.indexOf("-"); i !== -1; i = base.indexOf("-", i + 1)) {
    const from = tryParseVersion(base.slice(0, i));
    const to = tryParseVersion(base.slice(i + 1));
    if (from && to) return { from: from.canonical, to: to.canonical };
  }
  return undefined;
}

/** Only the first release of the chain may create the schema (a database without `from`). */
function checkSchemaRoots(releases: readonly ReleaseFolder[]): Finding[] {
  const roots = releases
    .filter((r) => r.data?.database && r.data.database.from === undefined)
    .map((r) => ({ r, v: tryParseVersion(r.folder) }))
    .filter((x) => x.v !== undefined)
    .sort((a, b) => compareVersions(a.r.folder, b.r.folder));
  return roots
    .slice(1)
    .map(({ r }) =>
      error(
        "database",
        (r.yaml as YamlFile).at(["database"], "key"),
        `database has no \`from\`, but only the first release (${roots[0]?.r.folder}) creates the schema`,
        "set database.from to the release whose schema these migrations start from",
      ),
    );
}

/**
 * Where a component is fetched from must say where: an https (or http, oci) URL, an image
 * reference with a registry or namespace and a tag or digest, or a file the release ships. A bare file name is what
 * `release create --artifacts` writes until the engineer fills in where it was published.
 */
function describeArtifactProblem(artifact: string): string | undefined {
  if (/^(https?|oci):\/\/[^/\s]+/i.test(artifact)) return undefined;
  if (/\s/.test(artifact))
    return `artifact "${artifact}" holds whitespace, so it is neither a URL nor an image reference`;
  if (IMAGE_REFERENCE.test(artifact)) return undefined;
  if (!artifact.includes("/")) {
    return `artifact "${artifact}" is a bare file name, not where the artifact is published`;
  }
  return `artifact "${artifact}" is neither an https URL nor an image reference with a tag or digest`;
}

/** `host[:port]/path[:tag]` or `…@sha256:<64 hex>` (the distribution reference grammar, tag or digest required). */
const IMAGE_REFERENCE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\.[a-z0-9-]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64}|:[\w][\w.-]{0,127}@sha256:[0-9a-f]{64})$/;

function parseOr(text: string, report: (e: PinlineError) => void) {
  try {
    return parseVersion(text);
  } catch (e) {
    if (e instanceof PinlineError) {
      report(e);
      return undefined;
    }
    throw e;
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
