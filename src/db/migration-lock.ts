/**
 * One migration run per database at a time: a session-level advisory lock, taken with
 * pg_try_advisory_lock on the connection that then runs the migrations. It is the session's, so
 * it dies with the session (a killed runner leaves nothing to clean up); a second runner fails
 * fast ("Update already in progress", naming the holder), or waits up to `waitMs`.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { RefusedError } from "../core/errors.js";
import { HISTORY_TABLE } from "./history.js";

/** How often a waiting runner tries again. */
const POLL_MS = 200;

/**
 * The lock's 64-bit key: the first 8 bytes of sha256("pinline_schema_migrations" NUL database),
 * as a signed bigint. Advisory locks are per database already; the name is mixed in so that the
 * key also differs between databases in tools that see the whole cluster's pg_locks.
 */
export function migrationLockKey(database: string): bigint {
  const digest = createHash("sha256").update(`${HISTORY_TABLE}\0${database}`).digest();
  return digest.readBigInt64BE(0);
}

export interface LockOptions {
  /** 0 (default): fail at once when another run holds the lock. */
  waitMs?: number;
  /** Called once when the lock is busy and the run is going to wait. */
  onWait?: (holder: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** Takes the migration lock on this session, or throws RefusedError "Update already in progress". */
export async function acquireMigrationLock(
  client: pg.ClientBase,
  options: LockOptions = {},
): Promise<{ key: bigint; waitedMs: number }> {
  const database = await currentDatabase(client);
  const key = migrationLockKey(database);
  const started = Date.now();
  const deadline = started + Math.max(0, options.waitMs ?? 0);
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let told = false;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock($1::bigint) AS locked",
      [key.toString()],
    );
    if (rows[0]?.locked) return { key, waitedMs: Date.now() - started };
    const now = Date.now();
    if (now >= deadline) {
      const holder = await describeHolder(client, key);
      const waited = options.waitMs ? ` after waiting ${options.waitMs} ms` : "";
      throw new RefusedError(
        `Update already in progress: another run holds the migration lock of database "${database}"${waited} (${holder})`,
        {
          hint: options.waitMs
            ? "wait for it to finish, or raise the lock wait"
            : "wait for it to finish, or pass a lock wait to queue behind it",
        },
      );
    }
    if (!told) {
      told = true;
      options.onWait?.(await describeHolder(client, key));
    }
    await sleep(Math.min(POLL_MS, deadline - now));
  }
}

/** Releases the lock early; ending the session releases it too. */
export async function releaseMigrationLock(client: pg.ClientBase, key: bigint): Promise<void> {
  await client.query("SELECT pg_advisory_unlock($1::bigint)", [key.toString()]);
}

async function currentDatabase(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ name: string }>("SELECT current_database() AS name");
  return rows[0]?.name ?? "";
}

/**
 * Who holds the lock, as far as this role can see: "held by pid 4242, application_name
 * "pinline migrate", user deploy, connected since 2024-03-15T02:00:00.000Z".
 */
export async function describeHolder(client: pg.ClientBase, key: bigint): Promise<string> {
  const unsigned = BigInt.asUintN(64, key);
  const { rows } = await client.query<{
    pid: number;
    application_name: string | null;
    usename: string | null;
    client_addr: string | null;
    backend_start: Date | null;
    state: string | null;
  }>(
    `SELECT l.pid, a.application_name, a.usename, a.client_addr::text AS client_addr,
            a.backend_start, a.state
       FROM pg_locks l
       LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid::text::bigint = $1 AND l.objid::text::bigint = $2 AND l.objsubid = 1`,
    [(unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()],
  );
  const row = rows[0];
  if (!row) return "its session is not visible to this role, or it has just finished";
  const parts = [`held by pid ${row.pid}`];
  if (row.application_name) parts.push(`application_name "${row.application_name}"`);
  if (row.usename) parts.push(`user ${row.usename}`);
  if (row.client_addr) parts.push(`from ${row.client_addr}`);
  if (row.backend_start) parts.push(`connected since ${row.backend_start.toISOString()}`);
  if (row.state) parts.push(`now ${row.state}`);
  return parts.join(", ");
}
