import { type Dirent, existsSync, readdirSync, statSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { UsageError } from "../core/errors.js";
import type { EnvironmentPin, Policy, ReleaseManifest, Rollout } from "../core/schema-types.js";
import { checkSchema, type DocumentKind, schemaFileOf } from "./check-schema.js";
import { error, type Finding, warning } from "./findings.js";
import { parseYaml, type YamlFile } from "./parse-yaml.js";
import { readYamlSource } from "./read-yaml-source.js";

/** A YAML document of the tree: where it is, what it holds, and whether its schema holds. */
export interface Loaded<T> {
  /** Path relative to the root, forward slashes. */
  file: string;
  /** Absent when the file could not be read or parsed. */
  yaml?: YamlFile;
  /** Present only when the document satisfies its schema. */
  data?: T;
}

export interface ReleaseFolder extends Loaded<ReleaseManifest> {
  /** The folder's name under releases/, which must be the version. */
  folder: string;
  /** Every file in the folder, relative to it ("migrations/2.4.0-2.4.1.sql"). */
  contents: string[];
  /** Sub-folders of the folder, relative to it. */
  directories: string[];
}

export interface NamedDocument<T> extends Loaded<T> {
  /** The file name without .yaml. */
  name: string;
}

/** The GitOps data of a repository, loaded and schema-checked. */
export interface RepositoryTree {
  root: string;
  releases: ReleaseFolder[];
  policies: NamedDocument<Policy>[];
  rollout?: Loaded<Rollout>;
  environments: NamedDocument<EnvironmentPin>[];
  /** How many YAML files were read. */
  fileCount: number;
  findings: Finding[];
}

export const RELEASE_FILE = "release.yaml";
export const ROLLOUT_FILE = "policies/rollout.yaml";

/**
 * Reads releases/, policies/ and environments/ under `root`. Every YAML file is parsed with
 * positions and checked against its schema; problems become findings, never exceptions. Throws
 * UsageError only when `root` is not a pinline repository at all.
 */
export function loadTree(root: string): RepositoryTree {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(`${root} is not a directory`, { hint: "pass --root <repository>" });
  }
  const present = ["releases", "policies", "environments"].filter((d) => existsSync(join(root, d)));
  if (present.length === 0) {
    throw new UsageError(
      `${root} is not a pinline repository: it has none of releases/, policies/, environments/`,
      { hint: "run pinline in the repository, or pass --root <repository>" },
    );
  }

  const tree: RepositoryTree = {
    root,
    releases: [],
    policies: [],
    environments: [],
    fileCount: 0,
    findings: [],
  };
  const load = <T>(kind: DocumentKind, file: string): Loaded<T> => {
    tree.fileCount++;
    return loadDocument<T>(root, kind, file, tree.findings);
  };

  for (const entry of listDirectory(root, "releases")) {
    const file = `releases/${entry.name}`;
    if (!entry.isDirectory()) {
      if (!isIgnorable(entry.name))
        tree.findings.push(
          warning(
            "layout",
            at(file),
            "is not a release folder and is ignored",
            "a release lives in releases/<version>/release.yaml",
          ),
        );
      continue;
    }
    const { contents, directories } = listFolder(root, file);
    const manifest = `${file}/${RELEASE_FILE}`;
    let loaded: Loaded<ReleaseManifest>;
    if (contents.includes(RELEASE_FILE) || directories.includes(RELEASE_FILE)) {
      loaded = load<ReleaseManifest>("release", manifest);
    } else {
      loaded = { file: manifest };
      tree.findings.push(
        error(
          "layout",
          at(manifest),
          `is missing: the release folder ${file}/ has no ${RELEASE_FILE}`,
          "add the manifest, or remove the folder",
        ),
      );
    }
    tree.releases.push({ ...loaded, folder: entry.name, contents, directories });
  }

  for (const entry of listDirectory(root, "policies")) {
    const file = `policies/${entry.name}`;
    const name = yamlName(entry, file, tree.findings);
    if (name === undefined) continue;
    if (file === ROLLOUT_FILE) tree.rollout = load<Rollout>("rollout", file);
    else tree.policies.push({ ...load<Policy>("policy", file), name });
  }

  for (const entry of listDirectory(root, "environments")) {
    const file = `environments/${entry.name}`;
    const name = yamlName(entry, file, tree.findings);
    if (name === undefined) continue;
    tree.environments.push({ ...load<EnvironmentPin>("environment", file), name });
  }
  return tree;
}

function loadDocument<T>(
  root: string,
  kind: DocumentKind,
  file: string,
  findings: Finding[],
): Loaded<T> {
  const source = readYamlSource(join(root, file), file);
  if (source.finding) {
    findings.push(source.finding);
    return { file };
  }
  checkSchemaHeader(kind, file, source.text, findings);
  const parsed = parseYaml(source.text, file);
  findings.push(...parsed.findings);
  if (!parsed.yaml) return { file };
  // A value the parser already reported (`channel: no`) needs no second finding from the schema.
  const reported = new Set(parsed.findings.map((f) => `${f.line}:${f.column}`));
  const schemaFindings = checkSchema(kind, parsed.yaml).filter(
    (f) => !reported.has(`${f.line}:${f.column}`),
  );
  findings.push(...schemaFindings);
  const ok = schemaFindings.length === 0 && parsed.findings.length === 0;
  return { file, yaml: parsed.yaml, ...(ok ? { data: parsed.yaml.value as T } : {}) };
}

const HEADER = /^# yaml-language-server: \$schema=(\S+)/;

/** Editors find the schema through the first line; a wrong path silently disables checking. */
function checkSchemaHeader(kind: DocumentKind, file: string, text: string, findings: Finding[]) {
  const expected = posix.relative(posix.dirname(file), `schemas/${schemaFileOf(kind)}`);
  const match = HEADER.exec(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (!match) {
    findings.push(
      warning(
        "schema-header",
        at(file),
        "has no schema header, so editors cannot check it as you type",
        `make the first line: # yaml-language-server: $schema=${expected}`,
      ),
    );
  } else if (match[1] !== expected) {
    findings.push(
      warning(
        "schema-header",
        { file, line: 1, column: 33 },
        `the schema header names ${match[1]}, but a ${kind} document's schema is ${expected}`,
        `make the first line: # yaml-language-server: $schema=${expected}`,
      ),
    );
  }
}

function listDirectory(root: string, dir: string): Dirent[] {
  const path = join(root, dir);
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true }).sort((a, b) => compareNames(a.name, b.name));
}

/** All files and folders below a release folder, relative to it, in name order. */
function listFolder(root: string, folder: string): { contents: string[]; directories: string[] } {
  const base = join(root, folder);
  const contents: string[] = [];
  const directories: string[] = [];
  for (const entry of readdirSync(base, { withFileTypes: true, recursive: true })) {
    const parent = (entry as Dirent & { parentPath?: string }).parentPath ?? entry.path;
    const rel = relative(base, join(parent, entry.name)).split("\\").join("/");
    (entry.isDirectory() ? directories : contents).push(rel);
  }
  contents.sort(compareNames);
  directories.sort(compareNames);
  return { contents, directories };
}

/** Accepts `<name>.yaml`; a `.yml` file or a stray file gets a finding instead of being skipped. */
function yamlName(entry: Dirent, file: string, findings: Finding[]): string | undefined {
  if (entry.name.endsWith(".yaml")) return entry.name.slice(0, -".yaml".length);
  if (entry.name.endsWith(".yml")) {
    findings.push(
      error("layout", at(file), "is not read: pinline reads *.yaml files", "rename it to .yaml"),
    );
  } else if (!isIgnorable(entry.name)) {
    findings.push(warning("layout", at(file), "is not a .yaml document and is ignored"));
  }
  return undefined;
}

function isIgnorable(name: string): boolean {
  return name.startsWith(".") || /\.(md|txt)$/i.test(name);
}

/** Byte order of names, as git and `ls` with LC_ALL=C sort them. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function at(file: string) {
  return { file, line: 1, column: 1 };
}
