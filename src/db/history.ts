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
 * The table, qualified with the schema it lives in, so that a migration that sets search_path
 * cannot send the history elsewhere.
 */
export interface HistoryTable {
  schema: string;
  /** "public"."pinline_schema_migrations", ready for SQL. */
  sql: string;
}

export interface HistoryLocation {
  /** The schema the history lives in, whatever the search_path (the update server's own). */
  schema?: string;
  /** Schemas whose history belongs to someone else and is never adopted (the update server's). */
  ignore?: readonly string[];
}

/**
 * Where the history is: the given schema; else the one schema of the database that already
 * holds a pinline_schema_migrations table, wherever the search_path now points (a migration
 * that ran `ALTER DATABASE … SET search_path` must not make the next run start "from none");
 * else the first schema of the search_path, where it is created. Throws RefusedError when
 * several schemas hold one, or the search_path names no existing schema.
 */
export async function locateHistoryTable(
  client: pg.ClientBase,
  location: HistoryLocation = {},
): Promise<HistoryTable> {
  const table = (schema: string): HistoryTable => ({
    schema,
    sql: `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(HISTORY_TABLE)}`,
  });
  if (location.schema !== undefined) return table(location.schema);
  const { rows } = await client.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND NOT (n.nspname = ANY($2::text[]))
      ORDER BY n.nspname`,
    [HISTORY_TABLE, [...(location.ignore ?? [])]],
  );
  const [only, ...more] = rows.map((row) => row.schema);
  if (only !== undefined && more.length === 0) return table(only);
  if (only !== undefined) {
    throw new RefusedError(
      `the database holds ${HISTORY_TABLE} in ${rows.length} schemas (${[only, ...more].join(", ")}), so which history is this application's cannot be known`,
      {
        hint: "pass --history-schema <schema> (the schema whose history this application's migrations wrote)",
      },
    );
  }
  const current = await client.query<{ schema: string | null }>(
    "SELECT current_schema() AS schema",
  );
  const schema = current.rows[0]?.schema;
  if (!schema) {
    throw new RefusedError(
      `the database's search_path names no existing schema, so ${HISTORY_TABLE} has nowhere to live`,
      { hint: "set the role's search_path, or create the schema it names" },
    );
  }
  return table(schema);
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
 * Milliseconds since the transaction began, rounded by the cast. date_part, not extract: it
 * computes in double precision, where extract's numeric costs measurably more per migration.
 */
const DURATION_SO_FAR_MS =
  "(date_part('epoch', clock_timestamp() - transaction_timestamp()) * 1000)::integer";

/** The session's prepared INSERT of a successful row (see prepareInsertApplied). */
const INSERT_APPLIED = "pinline_insert_applied";

/**
 * Prepares the INSERT of a successful row for the rest of the session, so that PostgreSQL parses
 * and plans it once per run instead of once per migration — a measurable share of what a small
 * migration costs. A file that might drop it (mayDropPrepared) must record its row without it.
 */
export async function prepareInsertApplied(
  client: pg.ClientBase,
  table: HistoryTable,
): Promise<void> {
  await client.query(
    `PREPARE ${INSERT_APPLIED} (text, text, text, text, text) AS ${insertApplied(table, "$1, $2, $3, $4", "current_user || $5")}`,
  );
}

/**
 * Whether SQL might drop the session's prepared statements: DEALLOCATE or DISCARD anywhere, even
 * in a comment or a string, so that dynamic SQL counts too (a false alarm costs only speed).
 */
export function mayDropPrepared(sql: string): boolean {
  return /\b(deallocate|discard)\b/i.test(sql);
}

/**
 * The INSERT of a successful row as SQL, values escaped as literals — the prepared INSERT's
 * EXECUTE, or the INSERT itself — so that it and the COMMIT travel with the migration in the same
 * round trip, inside its transaction.
 *
 * duration_ms is measured by the server, from the start of the transaction (the receipt of the
 * query that began it) to this INSERT: the client cannot know it before sending the row, and
 * an UPDATE afterwards would cost another round trip. Nothing a migration runs can move
 * transaction_timestamp() or clock_timestamp(), unlike a setting it might reset.
 */
export function insertAppliedSql(
  client: pg.ClientBase,
  table: HistoryTable,
  entry: HistoryEntry,
  prepared: boolean,
): string {
  return prepared
    ? `EXECUTE ${INSERT_APPLIED}(${values(client, entry)}, ${client.escapeLiteral(appliedBySuffix(entry))})`
    : insertApplied(table, values(client, entry), appliedBySql(client, entry));
}

/** The INSERT with the SQL of its first four values (version .. checksum) and of applied_by. */
function insertApplied(table: HistoryTable, firstValues: string, appliedBy: string): string {
  return `INSERT INTO ${table.sql} (version, file, direction, checksum, duration_ms, applied_by, success)
VALUES (${firstValues}, ${DURATION_SO_FAR_MS}, ${appliedBy}, true)`;
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

/**
 * current_user, plus who ran pinline when the caller says: "postgres (alice@runner-7)" — the
 * role as the server sees it when the row is written; one concatenation, as it runs per row.
 */
function appliedBySql(client: pg.ClientBase, entry: HistoryEntry): string {
  return entry.appliedBy
    ? `current_user || ${client.escapeLiteral(appliedBySuffix(entry))}`
    : "current_user";
}

/** What follows current_user in applied_by: " (alice@runner-7)", or nothing. */
function appliedBySuffix(entry: HistoryEntry): string {
  return entry.appliedBy ? ` (${entry.appliedBy})` : "";
}
