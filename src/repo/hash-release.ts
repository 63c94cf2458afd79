/**
 * `pinline release hash <release-dir>`: lists every SQL file the release ships in its manifest
 * with its sha256, so that the manifest's signatures cover what migrate and deploy run. Run it
 * after adding or editing a migration and before `pinline sign`.
 *
 * database.migrations becomes exactly the .sql files in migrations/, and database.rollback
 * those in rollback/, in name order, each `{ file, sha256 }`; entries written the old way (a
 * bare path) are converted. Only those two lists change: the rest of release.yaml — comments,
 * quoting, order — comes out byte for byte, because the new lists are spliced into the source.
 * The file is written under a temporary name and renamed: it is whole or unchanged.
 */
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import {
  InvalidValueError,
  RefusedError,
  type SourceLocation,
  UsageError,
} from "../core/errors.js";
import { compareNames, RELEASE_FILE, SIGNATURE_FILE } from "./layout.js";
import { IrregularFileError, irregularKind, readRegularFile } from "./read-regular-file.js";
import { shippedFileDigest } from "./shipped-file-digest.js";

export type ShippedList = "migrations" | "rollback";

export interface HashedFile {
  list: ShippedList;
  /** Relative to the release folder: "migrations/2.4.0-2.4.1.sql". */
  file: string;
  sha256: string;
  /** Against what the manifest listed before. */
  change: "added" | "updated" | "unchanged";
  /** The sha256 listed before, when it changed. */
  previous?: string;
}

export interface HashedRelease {
  /** release.yaml, relative to the repository root. */
  file: string;
  files: HashedFile[];
  /** Whether release.yaml was rewritten. */
  changed: boolean;
  /** Whether release.yaml.asc exists: its signatures no longer match a changed manifest. */
  signed: boolean;
}

const LISTS: readonly ShippedList[] = ["migrations", "rollback"];

/**
 * Refreshes the sha256 of every file the release ships. Throws UsageError when the folder has
 * no manifest, InvalidValueError (with file:line:col) when the manifest cannot be read or
 * lists a file that does not exist, RefusedError for a link, FIFO or device among the SQL.
 */
export async function hashRelease(input: {
  root: string;
  releaseDir: string;
}): Promise<HashedRelease> {
  const dir = resolve(input.releaseDir);
  const path = join(dir, RELEASE_FILE);
  const file = relative(input.root, path).split("\\").join("/");
  const source = readManifestText(path, file);
  const lines = new LineCounter();
  const where = (offset: number): SourceLocation => {
    const position = lines.linePos(offset);
    return { file, line: position.line, column: position.col };
  };
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const [problem] = doc.errors;
  if (problem) {
    throw new InvalidValueError(
      `${file} cannot be read as YAML: ${problem.message.split(" at line ")[0]}`,
      {
        where: where(problem.pos[0]),
        hint: "fix the YAML first, then hash again",
      },
    );
  }
  const onDisk = Object.fromEntries(
    LISTS.map((list) => [list, listSql(dir, list, file)]),
  ) as Record<ShippedList, string[]>;
  const database = doc.get("database", true);
  if (!isMap(database)) {
    const stray = [...onDisk.migrations, ...onDisk.rollback];
    if (stray.length > 0) {
      throw new RefusedError(
        `${file} has no database section, but the folder holds ${stray.join(", ")}`,
        {
          where: { file },
          hint: "add `database:` with `from:` (the release whose schema the migrations expect), then hash again",
        },
      );
    }
    return { file, files: [], changed: false, signed: false };
  }

  const listed = readListed(database, where);
  for (const [entry, at] of listed.locations) {
    if (!onDisk.migrations.includes(entry) && !onDisk.rollback.includes(entry)) {
      throw new InvalidValueError(
        `${entry} is listed, but releases/${relative(join(input.root, "releases"), dir)}/${entry} does not exist`,
        {
          where: at,
          hint: "add the file, or remove its entry from the list",
        },
      );
    }
  }
  const files: HashedFile[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  for (const list of LISTS) {
    const entries = onDisk[list].map((name): HashedFile => {
      const bytes = readRegularFile(join(dir, name)) as Buffer; // listed just now as a regular file
      const sha256 = shippedFileDigest(bytes);
      const before = listed.sha256.get(name);
      const change = !listed.sha256.has(name)
        ? "added"
        : before === sha256
          ? "unchanged"
          : "updated";
      return {
        list,
        file: name,
        sha256,
        change,
        ...(change === "updated" && before ? { previous: before } : {}),
      };
    });
    files.push(...entries);
    edits.push(listEdit(source, database, list, entries));
  }
  const text = applyEdits(source, edits);
  const changed = text !== source;
  if (changed) await replaceReleaseFile(path, text);
  const signed = readdirSync(dir).includes(SIGNATURE_FILE);
  return { file, files, changed, signed };
}

function readManifestText(path: string, file: string): string {
  let bytes: Buffer | undefined;
  try {
    bytes = readRegularFile(path);
  } catch (error) {
    if (error instanceof IrregularFileError) {
      throw new RefusedError(`${file} is ${error.kind}, not a regular file`, { where: { file } });
    }
    throw error;
  }
  if (bytes === undefined) {
    throw new UsageError(`${file} does not exist`, {
      hint: "pass a release folder, such as releases/2.4.1",
    });
  }
  return bytes.toString("utf8");
}

/** The .sql files of migrations/ or rollback/, relative to the release folder, in name order. */
function listSql(dir: string, list: ShippedList, manifest: string): string[] {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(join(dir, list), { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    if (code === "ENOTDIR") {
      throw new RefusedError(`${list}/ beside ${manifest} is not a folder`, {
        where: { file: manifest },
      });
    }
    throw error;
  }
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.name.endsWith(".sql")) continue;
    const kind = irregularKind(entry);
    if (kind !== undefined || entry.isDirectory()) {
      throw new RefusedError(
        `${list}/${entry.name} is ${kind ?? "a folder"}, not a regular file: a release ships regular files only`,
        { where: { file: manifest }, hint: "commit the file itself in the release folder" },
      );
    }
    names.push(`${list}/${entry.name}`);
  }
  return names.sort(compareNames);
}

interface Listed {
  sha256: Map<string, string | undefined>;
  locations: [string, SourceLocation][];
}

function readListed(database: YAMLMap, where: (offset: number) => SourceLocation): Listed {
  const listed: Listed = { sha256: new Map(), locations: [] };
  for (const list of LISTS) {
    const seq = database.get(list, true);
    if (seq === undefined || seq === null) continue;
    if (!isSeq(seq)) {
      throw new InvalidValueError(`database.${list} must be a list`, {
        where: where((seq as Node).range?.[0] ?? 0),
      });
    }
    for (const item of seq.items) {
      const node = item as Node;
      const name = isScalar(node)
        ? node.value
        : isMap(node)
          ? (node.get("file") as unknown)
          : undefined;
      if (typeof name !== "string") {
        throw new InvalidValueError(`an entry of database.${list} names no file`, {
          where: where(node.range?.[0] ?? 0),
          hint: "write each entry as { file: migrations/<name>.sql, sha256: ... }",
        });
      }
      const sha256 = isMap(node) ? node.get("sha256") : undefined;
      listed.sha256.set(name, typeof sha256 === "string" ? sha256.toLowerCase() : undefined);
      listed.locations.push([name, where(node.range?.[0] ?? 0)]);
    }
  }
  return listed;
}

/** The replacement of one list's value in the source (or the insertion of the key). */
function listEdit(
  source: string,
  database: YAMLMap,
  list: ShippedList,
  entries: readonly HashedFile[],
): { start: number; end: number; text: string } {
  const pair = database.items.find((p) => isScalar(p.key) && p.key.value === list);
  const key = pair?.key as Node | undefined;
  const value = pair?.value as YAMLSeq | null | undefined;
  const keyStart = key?.range?.[0];
  if (pair === undefined || keyStart === undefined) {
    // No such key: add it after the last entry of the database map.
    const end = database.range?.[1] ?? source.length;
    const indent = columnOf(
      source,
      (database.items[0]?.key as Node | undefined)?.range?.[0] ?? end,
    );
    const at = source.lastIndexOf("\n", end - 1) + 1 === end ? end : lineEnd(source, end);
    return {
      start: at,
      end: at,
      text: `${" ".repeat(indent)}${list}:${renderShippedList(entries, indent + 2)}\n`,
    };
  }
  const indent = columnOf(source, keyStart);
  const range = value?.range;
  if (!value || !range) {
    const colon = source.indexOf(":", key?.range?.[1] ?? keyStart);
    return {
      start: colon + 1,
      end: lineEnd(source, colon),
      text: renderShippedList(entries, indent + 2),
    };
  }
  const block = !value.flow;
  const itemIndent = block ? columnOf(source, range[0]) : indent + 2;
  // Replace from just after "key:" to the end of the value, so the layout is ours.
  const colon = source.indexOf(":", key?.range?.[1] ?? keyStart);
  const end = block ? trimTrailing(source, range[1]) : range[1];
  return { start: colon + 1, end, text: renderShippedList(entries, itemIndent) };
}

/**
 * A list value as it follows `key:`: ` []` when empty, otherwise a block list of one-line flow
 * maps, `- { file: migrations/2.4.0-2.4.1.sql, sha256: "…" }`, one file a line for review.
 */
export function renderShippedList(
  entries: readonly { file: string; sha256: string }[],
  indent: number,
): string {
  if (entries.length === 0) return " []";
  const pad = " ".repeat(indent);
  return entries.map((e) => `\n${pad}- { file: ${e.file}, sha256: "${e.sha256}" }`).join("");
}

function columnOf(source: string, offset: number): number {
  return offset - (source.lastIndexOf("\n", offset - 1) + 1);
}

function lineEnd(source: string, offset: number): number {
  const newline = source.indexOf("\n", offset);
  return newline === -1 ? source.length : newline;
}

/** A block value's range runs over the newline and any blank lines after it: keep those. */
function trimTrailing(source: string, end: number): number {
  let at = end;
  while (at > 0 && /\s/.test(source[at - 1] as string)) at--;
  return at;
}

function applyEdits(source: string, edits: { start: number; end: number; text: string }[]): string {
  let text = source;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  }
  return text;
}

/**
 * Writes a release.yaml whole or not at all: a hidden temporary file beside it, synced, then
 * renamed over it (removed again when the rename fails).
 */
export async function replaceReleaseFile(path: string, text: string): Promise<void> {
  const temporary = join(path, "..", `.${RELEASE_FILE}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx");
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
