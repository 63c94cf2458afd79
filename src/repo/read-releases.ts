import { type Dirent, existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { checkRelease } from "./check-releases.js";
import { error, type Finding } from "./findings.js";
import { compareNames, RELEASE_FILE } from "./layout.js";
import { type DocumentRecord, readDocument, toLoaded } from "./read-document.js";
import { IrregularFileError, irregularKind, readRegularFile } from "./read-regular-file.js";
import { shippedFileDigest } from "./shipped-file-digest.js";

/** A release folder as read: plain data, so that a worker thread can hand it over. */
export interface ReleaseRecord {
  folder: string;
  /** Every file in the folder, relative to it ("migrations/2.4.0-2.4.1.sql"), in name order. */
  contents: string[];
  /** Sub-folders, relative to the folder, in name order. */
  directories: string[];
  /** Entries that are neither regular files nor folders (links, FIFOs, devices): never read. */
  irregular: IrregularEntry[];
  /** The digest of every SQL file in migrations/ and rollback/ (see shipped-file-digest.ts). */
  digests: Record<string, string>;
  /** The manifest, or undefined when the folder has none (a finding says so). */
  manifest?: DocumentRecord;
  findings: Finding[];
}

export interface IrregularEntry {
  /** Relative to the release folder. */
  file: string;
  /** "a symbolic link", "a FIFO (named pipe)", "a device". */
  kind: string;
}

/** Below this many releases, starting worker threads costs more than it saves. */
export const PARALLEL_THRESHOLD = 500;

/**
 * Reads the release folders, in the order given. With `jobs` > 1 and a large tree, the folders
 * are shared out between this thread and `jobs - 1` worker threads: reading, parsing and
 * schema checks are independent per release, and 10,000 of them take seconds on one core.
 */
export async function readReleases(
  root: string,
  folders: readonly string[],
  jobs: number,
): Promise<{ records: ReleaseRecord[]; threads: number }> {
  const workers = Math.min(jobs, Math.floor(folders.length / (PARALLEL_THRESHOLD / 2))) - 1;
  if (workers < 1) return { records: folders.map((f) => readReleaseFolder(root, f)), threads: 1 };
  const size = Math.ceil(folders.length / (workers + 1));
  const chunks = Array.from({ length: workers + 1 }, (_, i) =>
    folders.slice(i * size, (i + 1) * size),
  );
  const [own = [], ...others] = chunks;
  const pending = others.map((chunk) => readInWorker(root, chunk));
  const mine = own.map((f) => readReleaseFolder(root, f));
  const theirs = await Promise.all(pending);
  return {
    records: [mine, ...theirs.map((t) => t.records)].flat(),
    threads: 1 + theirs.filter((t) => t.inWorker).length,
  };
}

/** A worker's share; if the worker cannot run, this thread reads the share itself. */
function readInWorker(
  root: string,
  folders: string[],
): Promise<{ records: ReleaseRecord[]; inWorker: boolean }> {
  return new Promise((resolve) => {
    let settled = false;
    const fallback = (reason: unknown) => {
      if (settled) return;
      settled = true;
      process.emitWarning(
        `pinline: a worker thread failed (${String(reason)}); reading its share here`,
      );
      resolve({ records: folders.map((f) => readReleaseFolder(root, f)), inWorker: false });
    };
    let worker: Worker;
    try {
      worker = new Worker(workerScript(), {
        workerData: { root, folders },
      });
    } catch (cause) {
      fallback(cause);
      return;
    }
    worker.once("message", (records: ReleaseRecord[]) => {
      settled = true;
      resolve({ records, inWorker: true });
    });
    worker.once("error", fallback);
    worker.once("exit", (code) => fallback(`exit code ${code}`));
  });
}

/**
 * The worker's bundle sits beside the bundle that starts it: dist/read-releases-worker.js next
 * to dist/validate.js, or one folder up from the CLI's code-split dist/chunks/.
 */
function workerScript(): URL {
  const beside = new URL("./read-releases-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL("../read-releases-worker.js", import.meta.url);
}

export function readReleaseFolder(root: string, folder: string): ReleaseRecord {
  const listing = listFolder(root, `releases/${folder}`);
  digestSql(root, folder, listing);
  const file = `releases/${folder}/${RELEASE_FILE}`;
  return toRecord(
    folder,
    listing,
    hasManifest(listing) ? readDocument(root, "release", file) : undefined,
  );
}

function hasManifest({ contents, directories }: Listing): boolean {
  return contents.includes(RELEASE_FILE) || directories.includes(RELEASE_FILE);
}

/** The digests of the SQL files, read as regular files only (a swapped-in link is irregular). */
function digestSql(root: string, folder: string, listing: Listing): void {
  for (const file of listing.contents) {
    if (!file.endsWith(".sql") || !file.includes("/")) continue;
    try {
      const bytes = readRegularFile(`${root}/releases/${folder}/${file}`);
      if (bytes) listing.digests[file] = shippedFileDigest(bytes);
    } catch (error) {
      if (!(error instanceof IrregularFileError)) throw error;
      listing.irregular.push({ file, kind: error.kind });
    }
  }
}

/**
 * The folder's record, with the checks that need nothing but the folder itself already run:
 * they then run in whichever thread read the folder.
 */
function toRecord(
  folder: string,
  listing: Listing,
  manifest: DocumentRecord | undefined,
): ReleaseRecord {
  const { contents, directories, irregular, digests } = listing;
  const file = `releases/${folder}/${RELEASE_FILE}`;
  if (manifest !== undefined) {
    const findings = checkRelease({
      ...toLoaded(manifest),
      folder,
      contents,
      directories,
      irregular,
      digests,
    });
    return { folder, contents, directories, irregular, digests, manifest, findings };
  }
  return {
    folder,
    contents,
    directories,
    irregular,
    digests,
    findings: [
      error(
        "layout",
        { file, line: 1, column: 1 },
        `is missing: the release folder releases/${folder}/ has no ${RELEASE_FILE}`,
        "add the manifest, or remove the folder",
      ),
    ],
  };
}

interface Listing {
  contents: string[];
  directories: string[];
  irregular: IrregularEntry[];
  digests: Record<string, string>;
}

const SQL_FOLDERS = new Set(["migrations", "rollback"]);

/**
 * The files and folders of a release folder, relative to it, in name order. Only migrations/
 * and rollback/ are read further: anything else is a stray folder, reported as such. Paths
 * are joined by hand: for 10,000 releases, path.join is measurable.
 */
function listFolder(root: string, folder: string): Listing {
  const base = `${root}/${folder}`;
  const top = readdirSync(base, { withFileTypes: true });
  const inner = top
    .filter((e) => e.isDirectory() && SQL_FOLDERS.has(e.name))
    .map((e) => ({
      name: e.name,
      entries: readdirSync(`${base}/${e.name}`, { withFileTypes: true }),
    }));
  return toListing(top, inner);
}

function toListing(
  top: readonly Dirent[],
  inner: readonly { name: string; entries: readonly Dirent[] }[],
): Listing {
  const contents: string[] = [];
  const directories: string[] = [];
  const irregular: IrregularEntry[] = [];
  const sort = (entry: Dirent, file: string) => {
    const kind = irregularKind(entry);
    if (kind !== undefined) irregular.push({ file, kind });
    else (entry.isDirectory() ? directories : contents).push(file);
  };
  for (const entry of top) sort(entry, entry.name);
  for (const { name, entries } of inner) {
    for (const entry of entries) sort(entry, `${name}/${entry.name}`);
  }
  contents.sort(compareNames);
  directories.sort(compareNames);
  return { contents, directories, irregular, digests: {} };
}
