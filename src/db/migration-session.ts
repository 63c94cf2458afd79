/**
 * The migration runner's sessions (DESIGN §6): the run's own connection, bounded by lock_timeout
 * and statement_timeout and reading SQL as PostgreSQL's parser in pinline does; the migration
 * lock, held on a session of its own that no migration can reach; and the history table, found
 * wherever it lives and created when missing. Shared by migrate, baseline and status.
 */
import pg from "pg";
import { RefusedError } from "../core/errors.js";
import { describeRefusal } from "./database-refusal.js";
import type { HistoryRow } from "./derive-schema-version.js";
import {
  ensureHistoryTable,
  type HistoryLocation,
  type HistoryTable,
  historyTableExists,
  locateHistoryTable,
  readHistory,
} from "./history.js";
import { acquireMigrationLock, releaseMigrationLock } from "./migration-lock.js";

export const APPLICATION_NAME = "pinline migrate";
/**
 * `pinline serve` keeps its own history in the schema pinline_updates (src/serve/server-schema.ts
 * passes it as its history schema): an application's run never adopts it.
 */
export const DEFAULT_HISTORY_LOCATION: HistoryLocation = { ignore: ["pinline_updates"] };
/** The lock's session: what another run's "Update already in progress" names as the holder. */
const LOCK_APPLICATION_NAME = "pinline migrate (lock)";

/** What bounds every statement of a session. */
export interface SessionSettings {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
}

export async function connect(
  url: string,
  settings: SessionSettings,
  applicationName = APPLICATION_NAME,
): Promise<pg.Client> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, application_name: applicationName });
    // A connection that breaks fails the query in flight, which reports it; this only keeps
    // the 'error' event from crashing the process.
    client.on("error", () => {});
    await client.connect();
  } catch (error) {
    throw (
      describeRefusal(error, { where: redact(url), ...roleOf(url) }) ??
      new RefusedError(
        `cannot connect to the database ${redact(url)}: ${(error as Error).message}`,
        {
          cause: error,
        },
      )
    );
  }
  // Session-wide: the history's own statements are bounded too. client_connection_check_interval
  // (PostgreSQL 14+) makes the server notice a runner that died mid-statement and let go.
  // standard_conforming_strings on: the server then reads every file as the parser did (with it
  // off, 'a\' || ' COMMIT; ' would hide a COMMIT from the parser but not from the server).
  await client.query(
    `SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false),
            set_config('standard_conforming_strings', 'on', false),
            CASE WHEN current_setting('server_version_num')::int >= 140000
                 THEN set_config('client_connection_check_interval', '1000', false) END`,
    [String(settings.lockTimeoutMs), String(settings.statementTimeoutMs)],
  );
  return client;
}

export async function disconnect(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** The migration lock and the session that holds it. */
export interface MigrationLock {
  session: pg.Client;
  key: bigint;
}

export async function releaseLock(lock: MigrationLock): Promise<void> {
  try {
    await releaseMigrationLock(lock.session, lock.key);
  } catch {
    // Ending the session releases it anyway.
  }
  await disconnect(lock.session);
}

/**
 * Before each migration: the lock's session must still be there. When it was lost (the server
 * ended it, the connection broke), another run may take the lock, so this one stops.
 */
export async function requireLockHeld(
  lock: MigrationLock,
  next: string,
  applied: number,
): Promise<void> {
  try {
    await lock.session.query("SELECT 1");
  } catch (error) {
    throw new RefusedError(
      `the session holding the migration lock was lost (${(error as Error).message}): stopped before ${next}, so no other run can interleave with this one; ${applied === 0 ? "nothing was applied" : `the ${applied} migration${applied === 1 ? "" : "s"} before it stay applied`}`,
      { hint: "run pinline migrate again: it resumes where this run stopped" },
    );
  }
}

/**
 * The history table, created when missing (holding the lock: no other run creates it), and
 * its rows. What the database refuses here — no right to create the table, read-only
 * transactions — is said in words, with what to grant.
 */
export async function openHistory(
  client: pg.Client,
  input: {
    databaseUrl: string;
    history?: HistoryLocation | undefined;
    /** Create the table when it is missing (not in a dry run, holding the lock). */
    create: boolean;
  },
): Promise<{ table: HistoryTable; history: HistoryRow[]; exists: boolean }> {
  let schema: string | undefined;
  try {
    const table = await locateHistoryTable(client, input.history ?? DEFAULT_HISTORY_LOCATION);
    schema = table.schema;
    let exists = await historyTableExists(client, table);
    if (!exists && input.create) {
      await ensureHistoryTable(client, table);
      exists = true;
    }
    return { table, history: exists ? await readHistory(client, table) : [], exists };
  } catch (error) {
    const where = redact(input.databaseUrl);
    throw (
      describeRefusal(error, {
        where,
        ...roleOf(input.databaseUrl),
        ...(schema ? { schema } : {}),
      }) ?? error
    );
  }
}

/** The role a URL connects as, when it names one. */
export function roleOf(url: string): { role?: string } {
  try {
    const user = decodeURIComponent(new URL(url).username);
    return user ? { role: user } : {};
  } catch {
    return {};
  }
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ""}${parsed.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * Takes the migration lock on a session of its own, which no migration can reach: a file that
 * calls pg_advisory_unlock_all() (or ends its session) releases nothing of it.
 */
export async function takeLock(
  url: string,
  settings: SessionSettings,
  wait: { waitMs: number; onWait: (holder: string) => void },
): Promise<MigrationLock> {
  const session = await connect(url, settings, LOCK_APPLICATION_NAME);
  try {
    const held = await acquireMigrationLock(session, wait);
    return { session, key: held.key };
  } catch (error) {
    await disconnect(session); // the lock was never taken
    throw error;
  }
}
