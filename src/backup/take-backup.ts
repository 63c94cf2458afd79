/**
 * The pre-update backup (DESIGN §2 step 2), by the best method this machine has for this
 * server, each tried in turn:
 *
 * 1. `pg_dump --format=custom` by a pg_dump of the server's major version (find-postgres-tool);
 * 2. otherwise pinline's COPY archive of every application table (write-data-archive), which
 *    restores on any server major;
 * 3. otherwise the schema alone, which holds NO data — and says so, with why.
 *
 * The file is `<environment>-<version>-<stamp>.<kind>` in `dir`, written whole or not at all,
 * and its sidecar `<file>.json` (backup-metadata) is written last.
 */
import { mkdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import type pg from "pg";
import { PinlineError } from "../core/errors.js";
import {
  type BackupMetadata,
  type BackupMethod,
  sidecarOf,
  sidecarText,
} from "./backup-metadata.js";
import { connectDatabase, serverVersion } from "./connect-database.js";
import { dumpCustomFormat } from "./dump-custom-format.js";
import { findPostgresTool } from "./find-postgres-tool.js";
import { writeDataArchive } from "./write-data-archive.js";
import { writeSchemaSnapshot } from "./write-schema-snapshot.js";
import { type WrittenFile, writeWholeFile } from "./write-whole-file.js";

export interface BackupInput {
  databaseUrl: string;
  dir: string;
  environment: string;
  /** The version running now. */
  from: string;
  /** The version the update goes to. */
  to: string;
  /** The schema version before the update (the migration runner's dry run says it). */
  schemaVersion: string | null;
  at: Date;
  /** Where PINLINE_PG_BIN_DIR and PATH are read (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** How pg_dump is looked for (default findPostgresTool; a test can say there is none). */
  findTool?: typeof findPostgresTool | undefined;
}

export interface BackupResult {
  file: string;
  method: BackupMethod;
  holdsData: boolean;
  /** One line for the step: the schema version, which method ran and why, the file. */
  detail: string;
  metadata: BackupMetadata;
}

const EXTENSION: Record<BackupMethod, string> = {
  pg_dump: "dump",
  "copy-archive": "copy-archive",
  "schema-only": "schema.json",
};

function message(error: unknown): string {
  const text = error instanceof PinlineError ? error.describe() : (error as Error).message;
  return String(text ?? error).split("\n")[0] ?? "";
}

function size(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

interface Attempt {
  input: BackupInput;
  client: pg.Client;
  server: { version: string; major: string };
  file: string;
  /** Why the better methods did not run, one clause each. */
  failures: readonly string[];
}

/** What a method wrote, what goes in its sidecar besides, and the step's words for it. */
interface Taken {
  written: WrittenFile;
  reason: string;
  extra?: Partial<BackupMetadata>;
  /** After "schema X; ", before the size. */
  says: string;
}

/** A method: what it took, or why it cannot run here (a string); it throws when it failed. */
type Method = (attempt: Attempt) => Promise<Taken | string>;

const METHODS: [BackupMethod, Method][] = [
  [
    "pg_dump",
    async ({ input, server, file }) => {
      const find = input.findTool ?? findPostgresTool;
      const search = await find("pg_dump", server.major, input.env ?? process.env);
      if (!search.found) return search.why;
      const written = await dumpCustomFormat({
        databaseUrl: input.databaseUrl,
        tool: search.found,
        file,
      });
      const reason = `${search.found.version} matches the PostgreSQL ${server.version} server`;
      return {
        written,
        reason,
        extra: { tool: search.found.version },
        says: `pg_dump custom format (${reason}) → ${file}`,
      };
    },
  ],
  [
    "copy-archive",
    async ({ client, file, failures }) => {
      const archive = await writeDataArchive(client, file);
      const { layout, tables, sequences } = archive;
      const rows = tables.reduce((sum, table) => sum + table.rows, 0);
      const reason = failures.join("; ");
      return {
        written: archive,
        reason,
        extra: { archive: { layout, tables, sequences } },
        says: `pinline's COPY archive (${reason}): ${tables.length} tables, ${rows} rows, ${sequences.length} sequences → ${file}`,
      };
    },
  ],
  [
    "schema-only",
    async ({ client, file, failures }) => {
      const reason = failures.join("; ");
      return {
        written: await writeSchemaSnapshot(client, file, reason),
        reason,
        says: `the data is NOT backed up (${reason}); only the schema → ${file}`,
      };
    },
  ],
];

/** The sidecar, written last: without it the backup is not complete, so the file goes too. */
async function recordBackup(
  input: BackupInput,
  server: Attempt["server"],
  method: BackupMethod,
  taken: Taken,
): Promise<BackupMetadata> {
  const metadata: BackupMetadata = {
    format: "pinline-backup",
    formatVersion: 1,
    environment: input.environment,
    from: input.from,
    to: input.to,
    schemaVersion: input.schemaVersion,
    server,
    method,
    holdsData: method !== "schema-only",
    reason: taken.reason,
    takenAt: input.at.toISOString(),
    file: basename(taken.written.path),
    bytes: taken.written.bytes,
    sha256: taken.written.sha256,
    ...taken.extra,
  };
  try {
    await writeWholeFile(sidecarOf(taken.written.path), sidecarText(metadata));
  } catch (error) {
    rmSync(taken.written.path, { force: true });
    throw error;
  }
  return metadata;
}

export async function takeBackup(input: BackupInput): Promise<BackupResult> {
  mkdirSync(input.dir, { recursive: true });
  const stamp = input.at.toISOString().replace(/[:.]/g, "-");
  const client = await connectDatabase(input.databaseUrl, "pinline backup");
  try {
    const server = await serverVersion(client);
    const failures: string[] = [];
    for (const [method, take] of METHODS) {
      const file = join(
        input.dir,
        `${input.environment}-${input.to}-${stamp}.${EXTENSION[method]}`,
      );
      let taken: Taken | string;
      try {
        taken = await take({ input, client, server, file, failures });
      } catch (error) {
        if (method === "schema-only") throw error;
        failures.push(
          `${method === "pg_dump" ? "pg_dump" : "the COPY archive"} failed: ${message(error)}`,
        );
        continue;
      }
      if (typeof taken === "string") {
        failures.push(taken);
        continue;
      }
      const metadata = await recordBackup(input, server, method, taken);
      return {
        file,
        method,
        holdsData: metadata.holdsData,
        detail: `schema ${input.schemaVersion ?? "empty"}; ${taken.says} (${size(taken.written.bytes)})`,
        metadata,
      };
    }
    throw new PinlineError("no backup method ran"); // unreachable: schema-only returns or throws
  } finally {
    await client.end().catch(() => {});
  }
}
