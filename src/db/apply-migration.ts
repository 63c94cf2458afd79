/**
 * Runs one migration or rollback file on the runner's connection.
 *
 * Transactional (the default): BEGIN; SET LOCAL synchronous_commit / lock_timeout /
 * statement_timeout; the file; the history row; COMMIT — one transaction, so the file and its row
 * are applied together or not at all, sent as one multi-statement query: one round trip per
 * migration (transactionQueries). It commits without waiting for the WAL flush, except the run's
 * last file, whose commit waits and so makes every earlier one durable too; flushCommitted then
 * confirms it. On error: ROLLBACK, and the error becomes a
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
import { type ConcurrentIndex, concurrentIndexOf, positionOf } from "./parse-sql.js";
import { type MigrationFile, MigrationFileError } from "./read-migration-file.js";

export interface ApplyOptions {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  /** How many times a statement that hit lock_timeout is tried in all. */
  lockAttempts: number;
  appliedBy: string | undefined;
  /** Record the row with the session's prepared INSERT (prepareInsertApplied ran). */
  insertPrepared?: boolean;
  /**
   * Commit waiting for the WAL flush (synchronous_commit on): the run's last file, whose commit
   * makes every earlier one durable too (see flushCommitted).
   */
  durableCommit?: boolean;
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
  /**
   * true: a transactional file whose connection broke (or whose server shut down) before
   * PostgreSQL answered, so whether its COMMIT ran is not known until the history is read again.
   */
  readonly inDoubt: boolean;

  constructor(
    migration: MigrationFile,
    message: string,
    details: {
      sqlstate: string | undefined;
      dirty: boolean;
      inDoubt?: boolean;
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
    this.inDoubt = details.inDoubt === true;
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
  const queries = transactionQueries(client, table, migration, entry, options);
  let durationMs = 0;
  let inFile = false;
  try {
    await withRetries(options, async () => {
      const started = performance.now();
      try {
        inFile = true;
        await client.query(queries.withFile);
        inFile = false;
        if (queries.afterFile) await client.query(queries.afterFile);
      } catch (error) {
        await rollbackQuietly(client);
        throw error;
      }
      durationMs = performance.now() - started;
    });
    return { durationMs };
  } catch (thrown) {
    const { error, attempts } = unwrap(thrown);
    if (connectionBroke(error)) {
      // The COMMIT travels in the same query as the file: it may have run before the answer was
      // lost. The run reads the history again to tell (run-migration.ts, settleCommits).
      throw failure(migration, error, {
        attempts,
        options,
        dirty: false,
        inDoubt: true,
        outcome:
          "the connection broke before PostgreSQL answered, so whether it committed is not known yet",
        hint: "run pinline migrate --status once the server answers: the history says whether it committed",
      });
    }
    const at = inFile
      ? locate(migration.text, 0, errorPosition(error, queries.fileStart))
      : undefined;
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

/** What keeps the server reading SQL as PostgreSQL's parser in pinline does (parse-sql.ts). */
const CONFORMING_STRINGS = "SET standard_conforming_strings = on";

/** What a transactional migration sends: one query, or two when the file ends open. */
interface TransactionQueries {
  /** BEGIN, the settings, the file — and its history row and COMMIT when the file is closed. */
  withFile: string;
  /** Where the file starts in `withFile`, in characters (what precedes it is ASCII). */
  fileStart: number;
  /** The history row and COMMIT, when they cannot share the file's query. */
  afterFile?: string;
}

/**
 * One round trip per migration: PostgreSQL runs a multi-statement query in order and stops at
 * the first error, which leaves the explicit transaction aborted (ROLLBACK follows) — so the
 * file and its history row still commit together or not at all, and a syntax error anywhere
 * runs nothing, since the whole query is parsed first.
 *
 * The file is appended after a newline (a `--` comment on its last line must not swallow what
 * follows), and the history row after a newline and a semicolon. A file that ends open — its
 * last statement without a semicolon, an unterminated string or comment — keeps the row and
 * COMMIT for a second query: appended, they would be read as part of the file, or change what
 * PostgreSQL reports (a syntax error "at or near ;" instead of "at end of input").
 */
function transactionQueries(
  client: pg.ClientBase,
  table: HistoryTable,
  migration: MigrationFile,
  entry: HistoryEntry,
  options: ApplyOptions,
): TransactionQueries {
  // SET LOCAL on top of the session's settings: a file that changes them for the session
  // (SET lock_timeout = 0) must not carry that into the next migration. synchronous_commit:
  // see flushCommitted.
  const begin = `BEGIN; SET LOCAL synchronous_commit = ${options.durableCommit ? "on" : "off"}; SET LOCAL lock_timeout = ${whole(options.lockTimeoutMs)}; SET LOCAL statement_timeout = ${whole(options.statementTimeoutMs)};\n`;
  // After COMMIT, in the same query: standard_conforming_strings on again for the session, so the
  // next file is read by the server as the parser read it, whatever this one set.
  const record = `${insertAppliedSql(client, table, entry, options.insertPrepared === true)};\nCOMMIT;\n${CONFORMING_STRINGS}`;
  return migration.closed
    ? { withFile: `${begin}${migration.text}\n;\n${record}`, fileStart: begin.length }
    : { withFile: `${begin}${migration.text}`, fileStart: begin.length, afterFile: record };
}

/** How long flushCommitted waits for the WAL writer at most, beyond three of its delays. */
const FLUSH_MARGIN_MS = 5_000;

/**
 * Waits until everything this session committed is on disk: until the server's WAL flush
 * position passes the WAL written so far. Call it before reporting any migration applied,
 * on success and on failure. Throws when the session is gone or the flush does not come.
 *
 * Why: a transactional migration commits with synchronous_commit off, so that the run does not
 * wait for a WAL flush after each of hundreds of files (a large share of what a small migration
 * costs). Each file still commits atomically with its history row and is visible at once; but
 * a server crash before the flush loses the last commits, each whole — file and row together.
 * The run's last file commits with synchronous_commit on, which flushes the WAL up to it, and
 * so every earlier commit too (and waits for synchronous standbys): on a successful run this
 * finds the flush done and returns at once. After a failure, or when a file turned
 * synchronous_commit off for itself, it waits for the WAL writer, which flushes asynchronous
 * commits within three wal_writer_delay.
 *
 * Not "SELECT txid_current()": a transaction that writes nothing but its commit record commits
 * asynchronously whatever synchronous_commit says, so it flushes nothing.
 */
export async function flushCommitted(
  client: pg.ClientBase,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  const { rows } = await client.query<{ target: string; flushed: boolean; delay: string }>(
    `SELECT pg_current_wal_insert_lsn()::text AS target,
            pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn() AS flushed,
            current_setting('wal_writer_delay') AS delay`,
  );
  const first = rows[0];
  if (!first || first.flushed) return;
  const delayMs = Number.parseInt(first.delay, 10) * (first.delay.endsWith("ms") ? 1 : 1000);
  const waitMs = 3 * (Number.isFinite(delayMs) ? delayMs : 200) + FLUSH_MARGIN_MS;
  const deadline = Date.now() + waitMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    await sleep(pause);
    const { rows: now } = await client.query<{ flushed: boolean }>(
      "SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS flushed",
      [first.target],
    );
    if (now[0]?.flushed) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the server did not write the WAL up to ${first.target} to disk within ${waitMs} ms`,
      );
    }
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
      // Each statement is its own query here: one before it may have turned the setting off.
      if (index > 0) await client.query(CONFORMING_STRINGS);
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
      ? locate(migration.text, statement.start, errorPosition(error), statement.text)
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

/**
 * Ends whatever transaction a failed query left open (aborted, or begun by the file itself), and
 * only then: a ROLLBACK outside a transaction would print "there is no transaction in progress",
 * and a query that PostgreSQL could not parse ran nothing, not even its BEGIN.
 */
async function rollbackQuietly(client: pg.ClientBase): Promise<void> {
  try {
    // pg rejects the query at PostgreSQL's error, before the ReadyForQuery that carries the
    // transaction status; an empty query runs nothing (even in an aborted transaction) and
    // settles only after it, so the status read next is the failed query's outcome.
    await client.query("");
    if (transactionStatus(client) === "I") return;
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

/**
 * The session ended under the query: no SQLSTATE (the socket closed: "Connection terminated
 * unexpectedly"), a connection exception (class 08), or the server ending the session (57P01
 * shutdown, 57P02 crash of another process, 57P05 idle; not 57014, a cancelled statement, which
 * rolls back as any error does). The query's fate is then unknown.
 */
export function connectionBroke(error: unknown): boolean {
  const sqlstate = sqlstateOf(error);
  return sqlstate === undefined || sqlstate.startsWith("08") || sqlstate.startsWith("57P");
}

interface FailureContext {
  attempts: number;
  options: ApplyOptions;
  dirty: boolean;
  inDoubt?: boolean;
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
    inDoubt: context.inDoubt === true,
    ...(context.at ? { line: context.at.line, column: context.at.column } : {}),
    hint:
      sqlstate && RETRYABLE.has(sqlstate)
        ? "find what holds the lock (pg_locks, pg_stat_activity), then run migrate again; raise the lock timeout only if waiting that long is acceptable"
        : context.hint,
    cause: error,
  });
}

/**
 * PostgreSQL's error position (1-based, in characters), made relative to what the query sent
 * before the SQL of interest (`skipped` characters); undefined when it gave none, or it falls
 * before that SQL.
 */
function errorPosition(error: unknown, skipped = 0): number | undefined {
  const position = Number((error as { position?: string })?.position) - skipped;
  return Number.isInteger(position) && position >= 1 ? position : undefined;
}

/**
 * The file's line and column of an error position within `query` (the file itself by default),
 * which starts at `offset` of the file. A position past the query's end — in what followed the
 * file in the same query — is not the file's.
 */
function locate(
  text: string,
  offset: number,
  position: number | undefined,
  query: string = text,
): { line: number; column: number } | undefined {
  if (position === undefined) return undefined;
  // PostgreSQL counts characters from 1; JavaScript offsets count UTF-16 units.
  const characters = [...query];
  // One past the last character is PostgreSQL's "at end of input".
  if (position > characters.length + 1) return undefined;
  const within = characters.slice(0, position - 1).join("").length;
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
