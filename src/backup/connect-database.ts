/**
 * How the backup and the restore reach the database: a pg session set up the way pg_dump sets
 * up its own (an empty search_path, so every name is qualified; UTF-8; ISO dates; UTC), so that
 * what COPY writes reads back the same on any server; and, for pg_dump and pg_restore, the URL
 * without its password, which goes in PGPASSWORD instead of the process list.
 */
import pg from "pg";
import { RefusedError } from "../core/errors.js";
import { describeRefusal } from "../db/database-refusal.js";
import { redact, roleOf } from "../db/migration-session.js";

const SESSION = `SELECT pg_catalog.set_config('search_path', '', false),
       pg_catalog.set_config('client_encoding', 'UTF8', false),
       pg_catalog.set_config('DateStyle', 'ISO, YMD', false),
       pg_catalog.set_config('IntervalStyle', 'postgres', false),
       pg_catalog.set_config('TimeZone', 'UTC', false),
       pg_catalog.set_config('extra_float_digits', '3', false)`;

/** "db.example.com:5432/app": the database, without credentials. */
export const databaseLabel = redact;

export async function connectDatabase(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  client.on("error", () => {}); // a broken connection fails the query in flight, which says so
  try {
    await client.connect();
  } catch (error) {
    throw (
      describeRefusal(error, { where: databaseLabel(url), ...roleOf(url) }) ??
      new RefusedError(
        `cannot connect to the database ${databaseLabel(url)}: ${(error as Error).message}`,
        { hint: "check the URL and that the server is reachable", cause: error },
      )
    );
  }
  await client.query(SESSION);
  return client;
}

/** The server's version: "18.4", and its major as the PostgreSQL binaries' folders name it. */
export async function serverVersion(
  client: pg.ClientBase,
): Promise<{ version: string; major: string }> {
  const { rows } = await client.query<{ version: string; num: string }>(
    "SELECT pg_catalog.current_setting('server_version') AS version, pg_catalog.current_setting('server_version_num') AS num",
  );
  const row = rows[0];
  if (!row) throw new RefusedError("the server did not say its version");
  return { version: row.version.split(" ")[0] ?? row.version, major: majorOf(Number(row.num)) };
}

/** 180004 → "18"; 90624 → "9.6" (before 10 the major had two parts). */
export function majorOf(versionNum: number): string {
  const first = Math.floor(versionNum / 10_000);
  return first >= 10 ? String(first) : `${first}.${Math.floor(versionNum / 100) % 100}`;
}

/** The arguments and environment that give pg_dump or pg_restore the database. */
export function libpqTarget(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  try {
    const parsed = new URL(url);
    const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
    parsed.password = "";
    return { dbname: parsed.toString(), env: password ? { PGPASSWORD: password } : {} };
  } catch {
    return { dbname: url, env: {} };
  }
}
