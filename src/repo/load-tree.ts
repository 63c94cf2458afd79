import { type Dirent, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import type { EnvironmentPin, Policy, ReleaseManifest, Rollout } from "../core/schema-types.js";
import type { DocumentKind } from "./check-schema.js";
import { error, type Finding, warning } from "./findings.js";
import { compareNames, RELEASE_FILE, ROLLOUT_FILE } from "./layout.js";
import type { YamlFile } from "./parse-yaml.js";
import { readDocument, toLoaded } from "./read-document.js";
import { irregularKind, irregularReason } from "./read-regular-file.js";
import { type IrregularEntry, readReleases } from "./read-releases.js";

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
  /** Links, FIFOs and devices in the folder: refused by validate, never read. */
  irregular: IrregularEntry[];
  /** The digest of each SQL file in migrations/ and rollback/, by path in the folder. */
  digests: Record<string, string>;
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
  /** How many threads read the release folders. */
  threads: number;
  findings: Finding[];
}

export interface LoadOptions {
  /** Threads that may read release folders at once (default 1: this thread only). */
  jobs?: number;
}

/**
 * Reads releases/, policies/ and environments/ under `root`. Every YAML file is parsed with
 * positions and checked against its schema; problems become findings, never exceptions. Throws
 * UsageError only when `root` is not a pinline repository at all.
 */
export async function loadTree(root: string, options: LoadOptions = {}): Promise<RepositoryTree> {
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
    threads: 1,
    findings: [],
  };
  const load = <T>(kind: DocumentKind, file: string): Loaded<T> => {
    tree.fileCount++;
    const record = readDocument(root, kind, file);
    tree.findings.push(...record.findings);
    return toLoaded<T>(record);
  };

  const folders: string[] = [];
  for (const entry of listDirectory(root, "releases")) {
    const kind = irregularKind(entry);
    if (kind !== undefined) {
      tree.findings.push(
        error(
          "layout",
          at(`releases/${entry.name}`),
          irregularReason(kind),
          "commit the folder itself",
        ),
      );
    } else if (entry.isDirectory()) folders.push(entry.name);
    else if (!isIgnorable(entry.name))
      tree.findings.push(
        warning(
          "layout",
          at(`releases/${entry.name}`),
          "is not a release folder and is ignored",
          "a release lives in releases/<version>/release.yaml",
        ),
      );
  }
  const { records, threads } = await readReleases(root, folders, options.jobs ?? 1);
  tree.threads = threads;
  for (const record of records) {
    tree.findings.push(...record.findings, ...(record.manifest?.findings ?? []));
    if (record.manifest) tree.fileCount++;
    const loaded = record.manifest
      ? toLoaded<ReleaseManifest>(record.manifest)
      : { file: `releases/${record.folder}/${RELEASE_FILE}` };
    const { folder, contents, directories, irregular, digests } = record;
    tree.releases.push({ ...loaded, folder, contents, directories, irregular, digests });
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

function listDirectory(root: string, dir: string): Dirent[] {
  const path = join(root, dir);
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true }).sort((a, b) => compareNames(a.name, b.name));
}

/** A `.yml` file where pinline reads `.yaml` only: never silently skipped. */
export function ymlNotRead(file: string): Finding {
  return error("layout", at(file), "is not read: pinline reads *.yaml files", "rename it to .yaml");
}

/** Accepts `<name>.yaml`; a `.yml` file or a stray file gets a finding instead of being skipped. */
function yamlName(entry: Dirent, file: string, findings: Finding[]): string | undefined {
  if (entry.name.endsWith(".yaml")) return entry.name.slice(0, -".yaml".length);
  if (entry.name.endsWith(".yml")) {
    findings.push(ymlNotRead(file));
  } else if (!isIgnorable(entry.name)) {
    findings.push(warning("layout", at(file), "is not a .yaml document and is ignored"));
  }
  return undefined;
}

function isIgnorable(name: string): boolean {
  return name.startsWith(".") || /\.(md|txt)$/i.test(name);
}

function at(file: string) {
  return { file, line: 1, column: 1 };
}
