/**
 * `pinline release create <version> [--channel C] [--artifacts DIR]`: scaffolds
 * releases/<version>/ — release.yaml, and empty migrations/ and rollback/ folders — for the
 * engineer who opens the release pull request.
 *
 * What the manifest gets:
 * - version (canonical: "2.4.2-stable" is written "2.4.2"), channel from the version's suffix,
 *   releaseDate (now), mandatory: false;
 * - minimumVersion, compatibility and the component names from the previous release: the
 *   newest existing release older than the new one (by semver, any channel);
 * - database.from: the previous release on the chain — the newest older release whose manifest
 *   has a database section (the first release ever gets none); with --sql DIR, the .sql files of
 *   DIR/migrations and DIR/rollback are copied in and listed with their sha256 (what the
 *   signatures then cover), otherwise the lists are empty (`pinline release hash` fills them
 *   once the SQL is written);
 * - with --artifacts, one component per file in the folder, its sha256 and size computed;
 *   without, the previous release's components with sha256 and size left empty, so that
 *   validation fails until someone fills them in: nothing half-made can be merged;
 * - an empty changelog, with a comment asking for it.
 *
 * Component names come from the artifact file names: the name up to the first "-<digit>" (the
 * version), or else up to the first ".", lowercased, with anything but a-z, 0-9 and "-" turned
 * into "-": "cm-diagnostics-backend-2.4.2.tar" → "cm-diagnostics-backend",
 * "Frontend.tar.gz" → "frontend".
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync } from "node:fs";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Document, isMap, isScalar, isSeq, Scalar, type YAMLMap } from "yaml";
import { InvalidValueError, RefusedError, UsageError } from "../core/errors.js";
import type { Component, ReleaseChannel, ReleaseManifest } from "../core/schema-types.js";
import {
  compareVersions,
  type ParsedVersion,
  parseVersion,
  tryParseVersion,
} from "../core/version.js";
import { renderShippedList, replaceReleaseFile } from "./hash-release.js";
import { compareNames, RELEASE_FILE } from "./layout.js";
import { loadTree, type ReleaseFolder } from "./load-tree.js";
import { parseYaml } from "./parse-yaml.js";
import { checkDocument } from "./read-document.js";
import { IrregularFileError, readRegularFile } from "./read-regular-file.js";
import { shippedFileDigest } from "./shipped-file-digest.js";

export interface CreateReleaseInput {
  /** The repository root. */
  root: string;
  /** The new version, such as "2.4.2" or "2.5.0-beta.4". */
  version: string;
  /** When given, it must agree with the version's suffix. */
  channel?: string;
  /** A folder holding the release's artifact files, one per component. */
  artifactsDir?: string;
  /** A folder with migrations/ and rollback/ holding the release's SQL files. */
  sqlDir?: string;
  /** The release date written into the manifest (default: now). */
  now?: Date;
}

export interface CreatedRelease {
  /** The new release folder, `root`/releases/<version>. */
  dir: string;
  /** Its release.yaml. */
  file: string;
  /** What was written to it. */
  text: string;
}

const RELEASE_CHANNELS: readonly ReleaseChannel[] = ["stable", "beta", "rc", "nightly"];

/**
 * Scaffolds releases/<version>/. Refuses (RefusedError) a version that exists, in any spelling,
 * and one that does not sort after the latest release of its channel; a malformed version or a
 * channel that disagrees with it is an InvalidValueError. The folder appears whole or not at
 * all: release.yaml is written under a temporary name and renamed, and on any failure the new
 * folder is removed.
 */
export async function createRelease(input: CreateReleaseInput): Promise<CreatedRelease> {
  const version = parseVersion(input.version);
  checkChannel(version, input.channel);
  const tree = await loadTree(input.root);
  const existing = existingReleases(tree.releases);
  refuseExisting(version, existing, input.root);
  refuseOutOfOrder(version, existing);
  const { previous, chain } = previousReleases(version, existing);

  const components = input.artifactsDir
    ? await componentsFromArtifacts(input.artifactsDir, version, previous?.data)
    : componentsFromPrevious(version, previous);
  const sql = input.sqlDir ? readSqlFiles(input.sqlDir) : [];
  const text = renderManifest({
    version,
    releaseDate: (input.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    previous: previous?.data,
    from: chain?.version.canonical,
    components,
    sql,
  });
  const relativeFile = `releases/${version.canonical}/${RELEASE_FILE}`;
  assertWellFormed(text, relativeFile, input.artifactsDir !== undefined);

  const dir = join(input.root, "releases", version.canonical);
  const file = join(dir, RELEASE_FILE);
  await writeReleaseFolder(input.root, dir, file, text, version, sql);
  return { dir, file, text };
}

// ---------------------------------------------------------------------------------------------
// What exists

interface ExistingRelease {
  folder: string;
  version: ParsedVersion;
  /** The manifest, when it passes its schema. */
  data: ReleaseManifest | undefined;
}

function checkChannel(version: ParsedVersion, channel: string | undefined): void {
  if (channel === undefined || channel === version.channel) return;
  const known = (RELEASE_CHANNELS as readonly string[]).includes(channel);
  throw new InvalidValueError(
    `--channel ${channel} does not agree with ${version.raw}, which is a ${version.channel} version${
      known ? "" : ` (${channel} is not a release channel: ${RELEASE_CHANNELS.join(", ")})`
    }`,
    {
      hint: `the channel follows from the version's suffix: omit --channel, or pick a ${channel} version`,
    },
  );
}

/** Every release folder whose name, or whose manifest's version, is a version. */
function existingReleases(folders: readonly ReleaseFolder[]): ExistingRelease[] {
  const releases: ExistingRelease[] = [];
  for (const folder of folders) {
    const version =
      tryParseVersion(folder.folder) ??
      (typeof folder.yaml?.value === "object"
        ? tryParseVersion(String((folder.yaml.value as { version?: unknown }).version))
        : undefined);
    if (version) releases.push({ folder: folder.folder, version, data: folder.data });
  }
  return releases;
}

function refuseExisting(
  version: ParsedVersion,
  existing: readonly ExistingRelease[],
  root: string,
) {
  const twin = existing.find(
    (r) =>
      r.version.canonical === version.canonical ||
      (r.data !== undefined && tryParseVersion(r.data.version)?.canonical === version.canonical),
  );
  const spelling =
    version.raw === version.canonical
      ? ""
      : ` (${version.raw} is another spelling of ${version.canonical})`;
  if (twin) {
    throw new RefusedError(`${version.raw} already exists: releases/${twin.folder}/${spelling}`, {
      hint: "pick the next version, or edit the existing release",
    });
  }
  for (const name of new Set([version.raw, version.canonical])) {
    if (existsSync(join(root, "releases", name))) {
      throw new RefusedError(`releases/${name} already exists${spelling}`, {
        hint: "remove it, or pick another version",
      });
    }
  }
}

/** A new release must be the newest of its channel: the feed and the update check rely on it. */
function refuseOutOfOrder(version: ParsedVersion, existing: readonly ExistingRelease[]): void {
  const latest = existing
    .filter((r) => r.version.channel === version.channel)
    .reduce<ExistingRelease | undefined>(
      (best, r) =>
        best === undefined || compareVersions(r.version.canonical, best.version.canonical) > 0
          ? r
          : best,
      undefined,
    );
  if (latest && compareVersions(version.canonical, latest.version.canonical) <= 0) {
    throw new RefusedError(
      `${version.raw} must sort after ${latest.version.canonical}, the latest ${version.channel} release`,
      { hint: `pick a ${version.channel} version newer than ${latest.version.canonical}` },
    );
  }
}

/**
 * The newest release older than `version` (the template), and the newest older one with a
 * database section (where the migration chain continues from). A release the walk must look at
 * whose manifest does not pass its schema stops it: what it holds cannot be known.
 */
function previousReleases(
  version: ParsedVersion,
  existing: readonly ExistingRelease[],
): { previous?: ExistingRelease; chain?: ExistingRelease } {
  const older = existing
    .filter((r) => compareVersions(r.version.canonical, version.canonical) < 0)
    .sort((a, b) => compareVersions(b.version.canonical, a.version.canonical));
  for (const release of older) {
    if (release.data === undefined) {
      throw new RefusedError(
        `releases/${release.folder}/${RELEASE_FILE} does not pass validation, so ${version.raw} cannot be based on it`,
        { hint: "run pinline validate and fix it first" },
      );
    }
    if (release.data.database !== undefined) return { previous: older[0], chain: release };
  }
  return older[0] ? { previous: older[0] } : {};
}

// ---------------------------------------------------------------------------------------------
// Components

interface DraftComponent {
  name: string;
  version: string;
  artifact: string;
  sha256: string;
  /** Bytes; "" when unknown (fails validation on purpose). */
  size: number | "";
  required: boolean;
  /** Where the artifact was computed from (with --artifacts). */
  file?: string;
  /** The artifact the previous release had, as a hint for the engineer. */
  previousArtifact?: string;
}

/** The component name a file stands for (see the top of this file), or undefined. */
export function componentNameOf(fileName: string): string | undefined {
  const versionAt = fileName.search(/-\d/);
  const stem = versionAt !== -1 ? fileName.slice(0, versionAt) : fileName.split(".")[0];
  const name = (stem ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "");
  return name === "" ? undefined : name;
}

async function componentsFromArtifacts(
  artifactsDir: string,
  version: ParsedVersion,
  previous: ReleaseManifest | undefined,
): Promise<DraftComponent[]> {
  const files = await listArtifactFiles(artifactsDir);
  const byName = new Map<string, string>();
  for (const file of files) {
    const name = componentNameOf(file);
    if (name === undefined) {
      throw new RefusedError(`cannot name a component after the artifact file ${file}`, {
        hint: 'name artifact files "<component>-<version>.<extension>", such as backend-2.4.2.tar',
      });
    }
    const other = byName.get(name);
    if (other !== undefined) {
      throw new RefusedError(
        `${other} and ${file} in ${artifactsDir} would both be the component ${name}`,
        { hint: "keep one file per component in the artifacts folder" },
      );
    }
    byName.set(name, file);
  }
  const components: DraftComponent[] = [];
  for (const [name, file] of byName) {
    const { sha256, size } = await hashFile(join(artifactsDir, file));
    const before = previous?.components[name];
    components.push({
      name,
      version: version.canonical,
      artifact: file,
      sha256,
      size,
      required: before?.required ?? true,
      file,
      ...(before ? { previousArtifact: before.artifact } : {}),
    });
  }
  return components;
}

async function listArtifactFiles(artifactsDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(artifactsDir);
  } catch (cause) {
    throw new UsageError(`the artifacts folder ${artifactsDir} cannot be read`, {
      hint: "pass --artifacts with the folder that holds the release's artifact files",
      cause,
    });
  }
  const files: string[] = [];
  for (const entry of entries.sort(compareNames)) {
    if (entry.startsWith(".")) continue;
    if ((await stat(join(artifactsDir, entry))).isFile()) files.push(entry);
  }
  if (files.length === 0) {
    throw new RefusedError(`the artifacts folder ${artifactsDir} holds no files`, {
      hint: "put one artifact file per component in it",
    });
  }
  return files;
}

/** sha256 and size of a file, streamed; the size is what was hashed, not what stat said. */
async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    size += chunk.length;
    hash.update(chunk);
  }
  return { sha256: hash.digest("hex"), size };
}

function componentsFromPrevious(
  version: ParsedVersion,
  previous: ExistingRelease | undefined,
): DraftComponent[] {
  const template = previous?.data;
  if (!template) {
    throw new RefusedError(
      `${version.raw} would be the first release, so there are no components to copy`,
      { hint: "pass --artifacts <folder> with one artifact file per component" },
    );
  }
  const oldVersion = previous.version.canonical;
  return Object.entries(template.components).flatMap(([name, component]) =>
    component ? [placeholder(name, component, oldVersion, version.canonical)] : [],
  );
}

/** A component to be filled in: the artifact guessed from the previous one, no sha256, no size. */
function placeholder(
  name: string,
  component: Component,
  oldVersion: string,
  newVersion: string,
): DraftComponent {
  const guessed = component.artifact.includes(oldVersion)
    ? component.artifact.split(oldVersion).join(newVersion)
    : "";
  return {
    name,
    version: newVersion,
    artifact: guessed,
    sha256: "",
    size: "",
    required: component.required ?? true,
    previousArtifact: component.artifact,
  };
}

// ---------------------------------------------------------------------------------------------
// The manifest's text

/** Plain keys that YAML 1.1 tools read as booleans; pinline's loader refuses them unquoted. */
const YAML11_BOOLEAN_KEY = /^(?:y|n|yes|no|on|off)$/;

function renderManifest(input: {
  version: ParsedVersion;
  releaseDate: string;
  previous: ReleaseManifest | undefined;
  from: string | undefined;
  components: DraftComponent[];
  sql: readonly SqlFile[];
}): string {
  const { version, previous, components } = input;
  const scaffolded = components.every((c) => c.file !== undefined);
  const doc = new Document({
    version: version.canonical,
    channel: version.channel,
    releaseDate: input.releaseDate,
    ...(previous?.minimumVersion !== undefined ? { minimumVersion: previous.minimumVersion } : {}),
    mandatory: false,
    components: Object.fromEntries(
      components.map((c) => [
        c.name,
        {
          version: c.version,
          artifact: c.artifact,
          sha256: c.sha256,
          size: c.size,
          required: c.required,
        },
      ]),
    ),
    database: {
      ...(input.from !== undefined ? { from: input.from } : {}),
      migrations: [],
      rollback: [],
    },
    changelog: { features: [], fixes: [], security: [] },
    ...(previous?.compatibility ? { compatibility: previous.compatibility } : {}),
  });
  const root = doc.contents as YAMLMap;
  root.commentBefore = [
    " yaml-language-server: $schema=../../schemas/release.schema.json",
    ` ${version.canonical}: scaffolded by pinline release create.${
      scaffolded ? "" : " Fill in every TODO: validation fails until then."
    }`,
  ].join("\n");

  const channel = doc.get("channel", true);
  if (isScalar(channel)) channel.type = Scalar.PLAIN;
  for (const key of ["components", "database", "changelog", "compatibility"]) {
    const pair = pairOf(root, key);
    if (pair && isScalar(pair.key)) pair.key.spaceBefore = true;
  }

  const componentMap = doc.get("components", true);
  for (const c of components) {
    if (isMap(componentMap) && YAML11_BOOLEAN_KEY.test(c.name)) {
      const pair = pairOf(componentMap, c.name);
      if (pair && isScalar(pair.key)) pair.key.type = Scalar.QUOTE_DOUBLE;
    }
    const map = doc.getIn(["components", c.name], true);
    if (!isMap(map)) continue;
    const was = c.previousArtifact ? ` (the previous release had ${c.previousArtifact})` : "";
    if (c.file !== undefined) {
      commentOn(
        map,
        "artifact",
        ` TODO: replace the local file name with where the artifact is published: an image reference or a URL${was}`,
      );
    } else {
      commentOn(
        map,
        "artifact",
        ` TODO: check where the artifact is published${c.artifact === "" ? "" : `, guessed from the previous release`}`,
      );
      commentOn(
        map,
        "sha256",
        " TODO: the artifact's sha256 and size in bytes (pinline release create --artifacts DIR computes both)",
      );
    }
  }

  const database = doc.get("database", true);
  if (isMap(database)) {
    if (input.sql.length === 0) {
      commentOn(
        database,
        "migrations",
        ` add SQL files to migrations/ and the scripts that undo them to rollback/, then run pinline release hash releases/${version.canonical} to list them with their sha256`,
      );
    }
  }
  const changelog = doc.get("changelog", true);
  if (isMap(changelog)) {
    commentOn(changelog, "features", " TODO: fill in the changelog before the release is merged");
  }
  const compatibility = doc.get("compatibility", true);
  if (isMap(compatibility)) {
    for (const item of compatibility.items) if (isSeq(item.value)) item.value.flow = true;
  }
  const text = doc.toString({
    defaultStringType: "QUOTE_DOUBLE",
    defaultKeyType: "PLAIN",
    lineWidth: 0,
    flowCollectionPadding: false,
  });
  // The lists in the one layout `pinline release hash` writes and reads back.
  return SQL_LISTS.reduce(
    (out, list) =>
      out.replace(
        `\n  ${list}: []\n`,
        `\n  ${list}:${renderShippedList(shipped(input.sql, list), 4)}\n`,
      ),
    text,
  );
}

function pairOf(map: YAMLMap, key: string) {
  return map.items.find((item) => isScalar(item.key) && item.key.value === key);
}

function commentOn(map: YAMLMap, key: string, comment: string): void {
  const pair = pairOf(map, key);
  if (pair && isScalar(pair.key)) pair.key.commentBefore = comment;
}

/**
 * The text must read back as YAML without a finding, and, when every component was computed,
 * pass the schema: anything else is a bug here, not the engineer's problem.
 */
function assertWellFormed(text: string, file: string, complete: boolean): void {
  const parsed = parseYaml(text, file);
  const findings = (
    complete ? checkDocument("release", file, { text }).findings : parsed.findings
  ).filter((f) => f.severity === "error");
  if (findings.length > 0 || !parsed.yaml) {
    const first = findings[0];
    throw new Error(
      `pinline release create produced a manifest that does not read back: ${first ? `${first.line}:${first.column}: ${first.message}` : "no document"}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// SQL

interface SqlFile {
  /** Relative to the release folder: "migrations/2.4.1-2.4.2.sql". */
  file: string;
  bytes: Buffer;
}

const SQL_LISTS = ["migrations", "rollback"] as const;

/** The .sql files of `dir`/migrations and `dir`/rollback, regular files only, in name order. */
function readSqlFiles(dir: string): SqlFile[] {
  const files: SqlFile[] = [];
  for (const list of SQL_LISTS) {
    let names: string[];
    try {
      names = readdirSync(join(dir, list)).filter((n) => n.endsWith(".sql"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new UsageError(`--sql ${dir}: ${list}/ cannot be read`, { cause: error });
    }
    for (const name of names.sort(compareNames)) {
      let bytes: Buffer | undefined;
      try {
        bytes = readRegularFile(join(dir, list, name));
      } catch (error) {
        if (error instanceof IrregularFileError) {
          throw new RefusedError(`${join(dir, list, name)} is ${error.kind}, not a regular file`, {
            hint: "a release ships regular files only: copy the file itself",
          });
        }
        throw error;
      }
      if (bytes) files.push({ file: `${list}/${name}`, bytes });
    }
  }
  if (files.length === 0) {
    throw new RefusedError(`--sql ${dir} holds no .sql files in migrations/ or rollback/`, {
      hint: "put the migrations in <dir>/migrations and the scripts that undo them in <dir>/rollback",
    });
  }
  return files;
}

function shipped(sql: readonly SqlFile[], list: (typeof SQL_LISTS)[number]) {
  return sql
    .filter((f) => f.file.startsWith(`${list}/`))
    .map((f) => ({ file: f.file, sha256: shippedFileDigest(f.bytes) }));
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Creates the folder (refusing if it appeared meanwhile), the empty SQL folders, and
 * release.yaml through a temporary file renamed into place. On failure, whatever this call
 * created is removed again.
 */
async function writeReleaseFolder(
  root: string,
  dir: string,
  file: string,
  text: string,
  version: ParsedVersion,
  sql: readonly SqlFile[],
): Promise<void> {
  const releases = join(root, "releases");
  const createdReleases = !existsSync(releases);
  if (createdReleases) await mkdir(releases);
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new RefusedError(`${version.raw} already exists: releases/${version.canonical}/`, {
        hint: "pick the next version, or edit the existing release",
      });
    }
    throw error;
  }
  try {
    await mkdir(join(dir, "migrations"));
    await mkdir(join(dir, "rollback"));
    for (const { file: name, bytes } of sql)
      await writeFile(join(dir, name), bytes, { flag: "wx" });
    await replaceReleaseFile(file, text);
  } catch (error) {
    await rm(createdReleases ? releases : dir, { recursive: true, force: true });
    throw error;
  }
}
