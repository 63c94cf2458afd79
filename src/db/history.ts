/**
 * pinline_schema_migrations: one row per file run, migrations and rollbacks alike, appended and
 * never rewritten except by `repair` (which deletes dirty rows) and by a non-transactional
 * migration finishing its own row. The database's version is derived from it
 * (derive-schema-version.ts); nothing else stores it.
 */
import type pg from "pg";
import { RefusedError } from "../core/errors.js";
import type { Direction, HistoryRow } from "./derive-schema-version.js";

export const HISTORY_TABLE = "pinline_schema_migrations";

/**
 * The table, qualified with the schema it lives in (the first schema of the search_path when the
 * run starts), so that a migration that sets search_path cannot send the history elsewhere.
 */
export interface HistoryTable {
  schema: string;
  /** "public"."pinline_schema_migrations", ready for SQL. */
  sql: string;
}

export async function locateHistoryTable(client: pg.ClientBase): Promise<HistoryTable> {
  const { rows } = await client.query<{ schema: string | null }>(
    "SELECT current_schema() AS schema",
  );
  const schema = rows[0]?.schema;
  if (!schema) {
    throw new RefusedError(
      `the database's search_path names no existing schema, so ${HISTORY_TABLE} has nowhere to live`,
      { hint: "set the role's search_path, or create the schema it names" },
    );
  }
  return {
    schema,
    sql: `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(HISTORY_TABLE)}`,
  };
}

const createTable = (table: HistoryTable) => `CREATE TABLE IF NOT EXISTS ${table.sql} (
  id          bigserial   PRIMARY KEY,
  version     text        NOT NULL,
  file        text        NOT NULL,
  direction   text        NOT NULL CHECK (direction IN ('migrate', 'rollback')),
  checksum    text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  duration_ms integer     NOT NULL DEFAULT 0,
  applied_by  text        NOT NULL,
  success     boolean     NOT NULL,
  error       text
)`;

/** What a new row records about the file; the rest comes from the server. */
export interface HistoryEntry {
  version: string;
  file: string;
  direction: Direction;
  checksum: string;
  /** Who ran it, beside the database role: "alice@runner-7" (GITHUB_ACTOR / hostname). */
  appliedBy: string | undefined;
}

/** Creates the table if it is missing; call it holding the migration lock. */
export async function ensureHistoryTable(
  client: pg.ClientBase,
  table: HistoryTable,
): Promise<void> {
  await client.query(createTable(table));
}

export async function historyTableExists(
  client: pg.ClientBase,
  table: HistoryTable,
): Promise<boolean> {
  const { rows } = await client.query<{ exists: boolean }>(
    "SELECT to_regclass($1) IS NOT NULL AS exists",
    [table.sql],
  );
  return rows[0]?.exists === true;
}

export async function readHistory(
  client: pg.ClientBase,
  table: HistoryTable,
): Promise<HistoryRow[]> {
  const { rows } = await client.query<{
    id: string;
    version: string;
    file: string;
    direction: Direction;
    checksum: string;
    applied_at: Date;
    duration_ms: number;
    applied_by: string;
    success: boolean;
    error: string | null;
  }>(
    `SELECT id, version, file, direction, checksum, applied_at, duration_ms, applied_by, success, error
       FROM ${table.sql} ORDER BY id`,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    version: row.version,
    file: row.file,
    direction: row.direction,
    checksum: row.checksum,
    appliedAt: row.applied_at,
    durationMs: row.duration_ms,
    appliedBy: row.applied_by,
    success: row.success,
    error: row.error,
  }));
}

/**
 * The INSERT of a successful row as literal SQL, so that it and the COMMIT travel in one round
 * trip right after the migration, inside its transaction.
 */
export function insertAppliedSql(
  client: pg.ClientBase,
  table: HistoryTable,
  entry: HistoryEntry,
  durationMs: number,
): string {
  return `INSERT INTO ${table.sql} (version, file, direction, checksum, duration_ms, applied_by, success)
VALUES (${values(client, entry)}, ${Math.round(durationMs)}, ${appliedBySql(client, entry)}, true)`;
}

/**
 * A non-transactional migration's row, written dirty before its first statement runs: if the
 * run dies half-way, the history stays dirty until someone looks. Returns the row's id.
 */
export async function insertStarted(
  client: pg.ClientBase,
  table: HistoryTable,
  entry: HistoryEntry,
): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO ${table.sql} (version, file, direction, checksum, applied_by, success, error)
     VALUES (${values(client, entry)}, ${appliedBySql(client, entry)}, false,
             'did not finish: the run stopped while running it outside a transaction')
     RETURNING id`,
  );
  return Number(rows[0]?.id);
}

export async function markFinished(
  client: pg.ClientBase,
  table: HistoryTable,
  id: number,
  durationMs: number,
): Promise<void> {
  await client.query(
    `UPDATE ${table.sql} SET success = true, error = NULL, duration_ms = $2, applied_at = clock_timestamp() WHERE id = $1`,
    [id, Math.round(durationMs)],
  );
}

export async function markFailed(
  client: pg.ClientBase,
  table: HistoryTable,
  id: number,
  durationMs: number,
  error: string,
): Promise<void> {
  await client.query(
    `UPDATE ${table.sql} SET success = false, error = $3, duration_ms = $2, applied_at = clock_timestamp() WHERE id = $1`,
    [id, Math.round(durationMs), error],
  );
}

/** Deletes the dirty rows (repair) and returns them. */
export async function deleteDirtyRows(
  client: pg.ClientBase,
  table: HistoryTable,
): Promise<number[]> {
  const { rows } = await client.query<{ id: string }>(
    `DELETE FROM ${table.sql} WHERE NOT success RETURNING id`,
  );
  return rows.map((r) => Number(r.id));
}

function values(client: pg.ClientBase, entry: HistoryEntry): string {
  return [entry.version, entry.file, entry.direction, entry.checksum]
    .map((v) => client.escapeLiteral(v))
    .join(", ");
}

/** current_user, plus who ran pinline when the caller says: "postgres (alice@runner-7)". */
function appliedBySql(client: pg.ClientBase, entry: HistoryEntry): string {
  return entry.appliedBy
    ? `current_user || ' (' || ${client.escapeLiteral(entry.appliedBy)} || ')'`
    : "current_user";
}
