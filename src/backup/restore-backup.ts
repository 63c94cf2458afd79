/**
 * `pinline restore <backup>`: puts a pre-update backup back. Read and check first — the sidecar,
 * the file's sha256 against it, that the backup holds data, that this machine has what the
 * method needs for this server — then ask (`confirm`), then restore: a pg_dump archive with the
 * matching pg_restore, a COPY archive over the protocol. Nothing changes before `confirm`
 * agrees, and a restore that fails is rolled back whole.
 */
import { existsSync } from "node:fs";
import { RefusedError, UsageError } from "../core/errors.js";
import { type BackupMetadata, readBackupMetadata, sha256OfFile } from "./backup-metadata.js";
import { connectDatabase, databaseLabel, serverVersion } from "./connect-database.js";
import { findPostgresTool } from "./find-postgres-tool.js";
import { restoreCustomFormat } from "./restore-custom-format.js";
import { type RestoredData, restoreDataArchive } from "./restore-data-archive.js";

export interface RestoreInput {
  file: string;
  databaseUrl: string;
  /** The environment whose database this is (--environment): the backup must be its own. */
  environment?: string | undefined;
  /** Where PINLINE_PG_BIN_DIR and PATH are read (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * Asked once everything is checked and before anything changes, with the backup and the
   * database (without credentials); resolves false (or throws) to stop.
   */
  confirm?: (restore: { backup: string; database: string }) => Promise<boolean>;
}

export interface RestoreResult {
  file: string;
  method: BackupMetadata["method"];
  environment: string;
  schemaVersion: string | null;
  takenAt: string;
  /** The database restored into, without credentials. */
  database: string;
  /** For a COPY archive: the tables and their rows, and the materialized views refreshed. */
  tables?: RestoredData["tables"];
  refreshed?: RestoredData["refreshed"];
  durationMs: number;
  summary: string;
}

export async function restoreBackup(input: RestoreInput): Promise<RestoreResult> {
  const { file, metadata } = readBackupMetadata(input.file);
  if (!existsSync(file)) {
    throw new UsageError(`${file} does not exist (only its sidecar does)`, {
      hint: "pass the path of the backup file itself, next to its .json",
    });
  }
  const sha256 = await sha256OfFile(file);
  if (sha256 !== metadata.sha256) {
    throw new RefusedError(
      `${file} is not the file that was backed up: its sha256 is ${sha256}, its sidecar says ${metadata.sha256}; nothing was restored`,
      {
        hint: "it was changed or damaged since: restore another copy (the workflow's artifact) or another backup",
      },
    );
  }
  if (!metadata.holdsData) {
    throw new RefusedError(`this backup holds no data: ${metadata.reason}`, {
      where: { file },
      hint: "it is only a snapshot of the schema; restore a backup taken by pg_dump or a COPY archive",
    });
  }
  if (input.environment !== undefined && input.environment !== metadata.environment) {
    throw new RefusedError(
      `${file} is ${metadata.environment}'s backup, not ${input.environment}'s; nothing was restored`,
      {
        hint: "to put it into another database on purpose, name that database with --database-url",
      },
    );
  }
  const database = databaseLabel(input.databaseUrl);
  const taken = `${metadata.environment}'s backup of ${metadata.takenAt} (schema ${metadata.schemaVersion ?? "empty"}, before ${metadata.from} → ${metadata.to})`;
  const client = await connectDatabase(input.databaseUrl, "pinline restore");
  try {
    const server = await serverVersion(client);
    const tool =
      metadata.method === "pg_dump"
        ? await findPostgresTool("pg_restore", server.major, input.env ?? process.env)
        : undefined;
    if (tool && !tool.found) {
      throw new RefusedError(
        `${file} is a pg_dump archive, and restoring it into PostgreSQL ${server.version} needs pg_restore ${server.major}: ${tool.why}; nothing was restored`,
        {
          hint: `install PostgreSQL ${server.major}'s client (Debian: postgresql-client-${server.major}) or name its bin folder in PINLINE_PG_BIN_DIR`,
        },
      );
    }
    if (input.confirm && !(await input.confirm({ backup: taken, database }))) {
      throw new RefusedError("restore cancelled: nothing was changed");
    }
    const started = performance.now();
    let restored: RestoredData | undefined;
    if (tool?.found) {
      await restoreCustomFormat({ databaseUrl: input.databaseUrl, tool: tool.found, file });
    } else {
      restored = await restoreDataArchive(client, file, metadata);
    }
    const durationMs = performance.now() - started;
    const how = tool?.found
      ? `with ${tool.found.version}`
      : `from the COPY archive: ${restored?.tables.length ?? 0} tables, ${(restored?.tables ?? []).reduce((sum, t) => sum + t.rows, 0)} rows${restored?.refreshed.length ? `, ${restored.refreshed.length} materialized view${restored.refreshed.length === 1 ? "" : "s"} refreshed` : ""}`;
    return {
      file,
      method: metadata.method,
      environment: metadata.environment,
      schemaVersion: metadata.schemaVersion,
      takenAt: metadata.takenAt,
      database,
      ...(restored ? { tables: restored.tables, refreshed: restored.refreshed } : {}),
      durationMs,
      summary: `restored ${taken} into ${database} ${how}, in ${(durationMs / 1000).toFixed(1)} s`,
    };
  } finally {
    await client.end().catch(() => {});
  }
}
