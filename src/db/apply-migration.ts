/**
 * Runs one migration or rollback file on the runner's connection.
 *
 * Transactional (the default): BEGIN; SET LOCAL lock_timeout / statement_timeout; the file as
 * one multi-statement query; the history row; COMMIT — one transaction, so the file and its row
 * are applied together or not at all. On error: ROLLBACK, and the error becomes a
 * MigrationFailedError naming the release, the file, PostgreSQL's message, SQLSTATE and the line.
 *
 * `-- pinline:no-transaction`: the history row is written dirty first, then each statement runs
 * on its own; after a CREATE INDEX CONCURRENTLY the index must be valid. Success makes the row
 * clean; failure (or a run that dies half-way) leaves it dirty until `migrate --repair`.
 *
 * A statement that waits longer than lock_timeout for a lock (SQLSTATE 55P03), or loses a
 * deadlock (40P01), is retried with a growing pause, `lockAttempts` times in all: the migration
 * never queues readers and writers behind it for longer than lock_timeout.
 */
import type pg from "pg";
import {
  type HistoryEntry,
  type HistoryTable,
  insertAppliedSql,
  insertStarted,
  markFailed,
  markFinished,
} from "./history.js";
import { type MigrationFile, MigrationFileError } from "./read-migration-file.js";
import { type ConcurrentIndex, concurrentIndexOf, positionOf } from "./split-sql.js";

export interface ApplyOptions {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  /** How many times a statement that hit lock_timeout is tried in all. */
  lockAttempts: number;
  appliedBy: string | undefined;
  onRetry?: (retry: RetryInfo) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface RetryInfo {
  attempt: number;
  attempts: number;
  delayMs: number;
  sqlstate: string;
  message: string;
}

const RETRYABLE = new Set(["55P03", "40P01"]);

/** A migration that failed: what the operator sees, with the facts a caller may branch on. */
export class MigrationFailedError extends MigrationFileError {
  override name = "MigrationFailedError";
  readonly release: string;
  readonly file: string;
  readonly sqlstate: string | undefined;
  /** true: it ran outside a transaction and left the history dirty. */
  readonly dirty: boolean;

  constructor(
    migration: MigrationFile,
    message: string,
    details: {
      sqlstate: string | undefined;
      dirty: boolean;
      line?: number;
      column?: number;
      hint: string;
      cause: unknown;
    },
  ) {
    super(message, {
      where:
        details.line === undefined
          ? { file: migration.path }
          : { file: migration.path, line: details.line, column: details.column ?? 1 },
      hint: details.hint,
      cause: details.cause,
    });
    this.release = migration.release;
    this.file = migration.file;
    this.sqlstate = details.sqlstate;
    this.dirty = details.dirty;
  }
}

/** Runs the file and records it; resolves with how long it took. */
export async function applyMigration(
  client: pg.ClientBase,
  table: HistoryTable,
  migration: MigrationFile,
  options: ApplyOptions,
): Promise<{ durationMs: number }> {
  const entry: HistoryEntry = {
    version: migration.release,
    file: migration.file,
    direction: migration.direction,
    checksum: migration.checksum,
    appliedBy: options.appliedBy,
  };
  return migration.transactional
    ? applyInTransaction(client, table, migration, entry, options)
    : applyStatementByStatement(client, table, migration, entry, options);
}

async function applyInTransaction(
  client: pg.ClientBase,
  table: HistoryTable,
  migration: MigrationFile,
  entry: HistoryEntry,
  options: ApplyOptions,
): Promise<{ durationMs: number }> {
  let durationMs = 0;
  let inFile = false;
  try {
    await withRetries(options, async () => {
      const started = performance.now();
      try {
        await client.query(
          `BEGIN; SET LOCAL lock_timeout = ${whole(options.lockTimeoutMs)}; SET LOCAL statement_timeout = ${whole(options.statementTimeoutMs)}`,
        );
        inFile = true;
        await client.query(migration.text);
        inFile = false;
        durationMs = performance.now() - started;
        await client.query(`${insertAppliedSql(client, table, entry, durationMs)}; COMMIT`);
      } catch (error) {
        await rollbackQuietly(client);
        throw error;
      }
    });
    return { durationMs };
  } catch (thrown) {
    const { error, attempts } = unwrap(thrown);
    const at = inFile ? locate(migration.text, 0, error) : undefined;
    throw failure(migration, error, {
      attempts,
      options,
      dirty: false,
      ...(at ? { at } : {}),
      outcome: "it was rolled back: nothing of it was applied",
      hint: "fix the migration (it is not applied, so it may still change) and run migrate again",
    });
  }
}

async function applyStatementByStatement(
  client: pg.ClientBase,
  table: HistoryTable,
  migration: MigrationFile,
  entry: HistoryEntry,
  options: ApplyOptions,
): Promise<{ durationMs: number }> {
  const started = performance.now();
  let id: number;
  try {
    id = await insertStarted(client, table, entry);
  } catch (error) {
    throw failure(migration, error, {
      attempts: 1,
      options,
      dirty: false,
      which: "its history row",
      outcome: "nothing of it ran",
      hint: "run migrate again",
    });
  }
  const total = migration.statements.length;
  let index = 0;
  try {
    for (const statement of migration.statements) {
      await withRetries(options, async () => {
        try {
          await client.query(statement.text);
        } catch (error) {
          await rollbackQuietly(client); // the file may hold a BEGIN of its own
          throw error;
        }
      });
      const built = concurrentIndexOf(statement);
      if (built) await checkIndexValid(client, built);
      index++;
    }
    const durationMs = performance.now() - started;
    await markFinished(client, table, id, durationMs);
    return { durationMs };
  } catch (thrown) {
    const { error, attempts } = unwrap(thrown);
    const statement = migration.statements[index];
    const at = statement
      ? locate(migration.text, statement.start, error, statement.text)
      : undefined;
    const which = statement
      ? `statement ${index + 1} of ${total} (line ${statement.line})`
      : "the end, recording it";
    const before =
      index > 0
        ? `the ${index} statement${index === 1 ? "" : "s"} before it stay applied`
        : "nothing of it was applied";
    const failed = failure(migration, error, {
      attempts,
      options,
      dirty: true,
      ...(at ? { at } : {}),
      which,
      outcome: `it ran outside a transaction, so ${before}; the history is now dirty`,
      hint: "fix the database by hand (a failed CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it), then run pinline migrate --repair, then migrate again",
    });
    try {
      await markFailed(
        client,
        table,
        id,
        performance.now() - started,
        `${which}: ${describeError(error)}`,
      );
    } catch {
      // The connection is gone: the row keeps "did not finish", which is dirty too.
    }
    throw failed;
  }
}

/** What failed after how many attempts: thrown by withRetries. */
class AttemptsFailed extends Error {
  constructor(
    readonly error: unknown,
    readonly attempts: number,
  ) {
    super(messageOf(error));
  }
}

/** Runs `attempt` until it succeeds, or fails with an error that is not worth retrying. */
async function withRetries(options: ApplyOptions, attempt: () => Promise<void>): Promise<void> {
  for (let n = 1; ; n++) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (!(await retried(error, n, options))) throw new AttemptsFailed(error, n);
    }
  }
}

function unwrap(thrown: unknown): { error: unknown; attempts: number } {
  return thrown instanceof AttemptsFailed
    ? { error: thrown.error, attempts: thrown.attempts }
    : { error: thrown, attempts: 1 };
}

/** A concurrent index build that "succeeded" may still have left an INVALID index (IF NOT EXISTS skips it). */
async function checkIndexValid(client: pg.ClientBase, built: ConcurrentIndex): Promise<void> {
  const { rows } = await client.query<{ index: string; table: string }>(
    `SELECT c.relname AS index, i.indrelid::regclass::text AS table
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = to_regclass($1) AND NOT i.indisvalid AND ($2::text IS NULL OR c.relname = $2)`,
    [built.table, built.index ?? null],
  );
  const invalid = rows[0];
  if (invalid) {
    throw new InvalidIndexError(
      `index ${invalid.index} on ${invalid.table} is INVALID after CREATE INDEX CONCURRENTLY (an earlier build failed and left it; IF NOT EXISTS then skips it)`,
    );
  }
}

class InvalidIndexError extends Error {
  override name = "InvalidIndexError";
}

async function retried(error: unknown, attempt: number, options: ApplyOptions): Promise<boolean> {
  const sqlstate = sqlstateOf(error);
  if (sqlstate === undefined || !RETRYABLE.has(sqlstate) || attempt >= options.lockAttempts) {
    return false;
  }
  const delayMs = retryDelayMs(attempt, options.lockTimeoutMs);
  options.onRetry?.({
    attempt: attempt + 1,
    attempts: options.lockAttempts,
    delayMs,
    sqlstate,
    message: describeError(error),
  });
  await (options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(delayMs);
  return true;
}

/** The pause before attempt n+1: n times lock_timeout, within 50 ms .. 2 s per step. */
export function retryDelayMs(attempt: number, lockTimeoutMs: number): number {
  return attempt * Math.max(50, Math.min(lockTimeoutMs, 2000));
}

async function rollbackQuietly(client: pg.ClientBase): Promise<void> {
  const status = transactionStatus(client);
  if (status === "I") return;
  try {
    await client.query("ROLLBACK");
  } catch {
    // The connection is broken: the server rolls the transaction back itself.
  }
}

function transactionStatus(client: pg.ClientBase): string | undefined {
  try {
    return client.getTransactionStatus?.() ?? undefined;
  } catch {
    return undefined;
  }
}

interface FailureContext {
  attempts: number;
  options: ApplyOptions;
  dirty: boolean;
  at?: { line: number; column: number };
  which?: string;
  outcome: string;
  hint: string;
}

function failure(
  migration: MigrationFile,
  error: unknown,
  context: FailureContext,
): MigrationFailedError {
  const sqlstate = sqlstateOf(error);
  const facts = [
    ...(sqlstate ? [`SQLSTATE ${sqlstate}`] : []),
    ...(context.at ? [`line ${context.at.line}, column ${context.at.column}`] : []),
  ];
  const where = context.which ? ` at ${context.which}` : "";
  const gaveUp =
    sqlstate && RETRYABLE.has(sqlstate)
      ? ` after ${context.attempts} attempt${context.attempts === 1 ? "" : "s"} with lock_timeout ${context.options.lockTimeoutMs} ms (another session holds a lock on what it changes)`
      : "";
  const detail = detailOf(error);
  const message = `${migration.path} (release ${migration.release}, ${migration.direction}) failed${where}: ${messageOf(error)}${facts.length > 0 ? ` (${facts.join(", ")})` : ""}${detail ? `; ${detail}` : ""}${gaveUp}; ${context.outcome}`;
  return new MigrationFailedError(migration, message, {
    sqlstate,
    dirty: context.dirty,
    ...(context.at ? { line: context.at.line, column: context.at.column } : {}),
    hint:
      sqlstate && RETRYABLE.has(sqlstate)
        ? "find what holds the lock (pg_locks, pg_stat_activity), then run migrate again; raise the lock timeout only if waiting that long is acceptable"
        : context.hint,
    cause: error,
  });
}

/** The file's line and column of PostgreSQL's error position, if it gave one. */
function locate(
  text: string,
  offset: number,
  error: unknown,
  query?: string,
): { line: number; column: number } | undefined {
  const position = Number((error as { position?: string })?.position);
  if (!Number.isInteger(position) || position < 1) return undefined;
  // PostgreSQL counts characters from 1; JavaScript offsets count UTF-16 units.
  const within = [...(query ?? text)].slice(0, position - 1).join("").length;
  return positionOf(text, offset + within);
}

function sqlstateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function detailOf(error: unknown): string | undefined {
  const detail = (error as { detail?: unknown })?.detail;
  return typeof detail === "string" && detail !== "" ? detail : undefined;
}

function describeError(error: unknown): string {
  const sqlstate = sqlstateOf(error);
  return `${messageOf(error)}${sqlstate ? ` (SQLSTATE ${sqlstate})` : ""}`;
}

function whole(ms: number): number {
  return Math.max(0, Math.round(ms));
}
