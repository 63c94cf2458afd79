/**
 * What a backup is, recorded beside it in `<file>.json` (the sidecar): whose database, before
 * which update, at which schema version, from which server, by which method, when, and the
 * sha256 of the file. The sidecar is written last, so a backup without one never completed;
 * restore verifies the file against it before anything is touched.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "../core/errors.js";
import type { DataLayout } from "./read-data-layout.js";

/**
 * pg_dump: a custom-format archive (pg_restore); copy-archive: pinline's own COPY archive of
 * every application table; schema-only: the catalogue alone — it holds no data.
 */
export type BackupMethod = "pg_dump" | "copy-archive" | "schema-only";

/** One table's rows in a COPY archive: COPY text format, at [offset, offset + bytes). */
export interface ArchivedTable {
  schema: string;
  name: string;
  /** The columns COPY wrote, in order (generated columns are left out: they are computed). */
  columns: string[];
  rows: number;
  offset: number;
  bytes: number;
}

export interface ArchivedSequence {
  schema: string;
  name: string;
  lastValue: string;
  isCalled: boolean;
}

export interface BackupMetadata {
  format: "pinline-backup";
  formatVersion: 1;
  environment: string;
  /** The version that ran when the backup was taken. */
  from: string;
  /** The version the update was going to. */
  to: string;
  /** The schema version the migration history gave at the time (null: an empty database). */
  schemaVersion: string | null;
  server: { version: string; major: string };
  method: BackupMethod;
  /** Whether the file holds the data (false only for schema-only). */
  holdsData: boolean;
  /** Why this method ran and not a better one, in words. */
  reason: string;
  /** "pg_dump (PostgreSQL) 15.14" for pg_dump. */
  tool?: string | undefined;
  takenAt: string;
  /** The backup's file name, in the sidecar's folder. */
  file: string;
  bytes: number;
  sha256: string;
  /** The COPY archive's tables and sequences. */
  archive?: { layout: DataLayout; tables: ArchivedTable[]; sequences: ArchivedSequence[] };
}

export const SIDECAR_SUFFIX = ".json";

export function sidecarOf(file: string): string {
  return `${file}${SIDECAR_SUFFIX}`;
}

export function sidecarText(metadata: BackupMetadata): string {
  return `${JSON.stringify(metadata, null, 2)}\n`;
}

const METHODS: readonly BackupMethod[] = ["pg_dump", "copy-archive", "schema-only"];

/**
 * The metadata of `file` (a backup, or its sidecar), read and checked; throws UsageError
 * saying what is missing or wrong.
 */
export function readBackupMetadata(file: string): { file: string; metadata: BackupMetadata } {
  // The backup's own name may end in .json too (a schema snapshot): a sidecar beside it decides.
  const backup =
    file.endsWith(SIDECAR_SUFFIX) && !existsSync(sidecarOf(file))
      ? file.slice(0, -SIDECAR_SUFFIX.length)
      : file;
  const sidecar = sidecarOf(backup);
  if (!existsSync(sidecar)) {
    throw new UsageError(
      `${sidecar} does not exist: without it, ${basename(backup)} cannot be verified`,
      {
        hint: "restore the backup with its .json beside it, as pinline wrote them (the workflow's artifact holds both)",
      },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(sidecar, "utf8"));
  } catch (error) {
    throw new UsageError(`${sidecar} is not JSON: ${(error as Error).message}`, {
      hint: "the sidecar must be the file pinline wrote",
    });
  }
  const metadata = data as Partial<BackupMetadata>;
  const problems: string[] = [];
  if (metadata.format !== "pinline-backup" || metadata.formatVersion !== 1) {
    problems.push("it is not a pinline backup's sidecar (format pinline-backup, version 1)");
  }
  if (!METHODS.includes(metadata.method as BackupMethod)) problems.push("its method is unknown");
  if (typeof metadata.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(metadata.sha256)) {
    problems.push("it has no sha256");
  }
  if (metadata.file !== basename(backup)) {
    problems.push(`it describes ${String(metadata.file)}, not ${basename(backup)}`);
  }
  if (metadata.method === "copy-archive" && !metadata.archive) {
    problems.push("it lists no archived tables");
  }
  if (problems.length > 0) {
    throw new UsageError(`${sidecar}: ${problems.join("; ")}`, {
      hint: "pass a backup pinline wrote, with its .json beside it",
    });
  }
  return { file: join(dirname(backup), basename(backup)), metadata: metadata as BackupMetadata };
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
