/**
 * The update server's own tables, migrated by pinline's own runner from the release tree shipped
 * in the package (server-schema/). Everything lives in the PostgreSQL schema pinline_updates:
 * the runner is given a connection whose search_path is that schema, so the history it keeps
 * (pinline_schema_migrations) is the server's own and never meets an application's history in
 * the same database. Starting is idempotent, and servers starting together queue on the
 * runner's advisory lock.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { RefusedError, UsageError } from "../core/errors.js";
import { compareVersions, tryParseVersion } from "../core/version.js";
import type { MigrationResult } from "../db/run-migration.js";
import { packageRoot } from "../demo/package-root.js";

export const SERVER_SCHEMA = "pinline_updates";
/** The status reports, schema-qualified for SQL. */
export const REPORTS_TABLE = `${SERVER_SCHEMA}.update_reports`;

/** How long a starting server waits for another one's migration (the runner's lock). */
const LOCK_WAIT_MS = 60_000;

/** The release tree of the server's schema, in the package. */
export function serverSchemaRoot(): string {
  return join(packageRoot(), "server-schema");
}

/** The newest release of the server's schema tree: what a starting server migrates to. */
export function newestSchemaRelease(root = serverSchemaRoot()): string {
  const versions = readdirSync(join(root, "releases")).filter((name) => tryParseVersion(name));
  const newest = versions.sort(compareVersions).at(-1);
  if (!newest) throw new Error(`${root}/releases holds no release`);
  return newest;
}

/**
 * The database URL with `-c search_path=<schema>` added to its libpq `options`, so that every
 * session opened with it starts in that schema.
 */
export function withSearchPath(databaseUrl: string, schema = SERVER_SCHEMA): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new UsageError("the database URL is not an URL", {
      hint: "use the postgres://user:password@host:port/database form",
    });
  }
  const options = url.searchParams.get("options");
  const setting = `-c search_path=${schema}`;
  url.searchParams.set("options", options ? `${options} ${setting}` : setting);
  return url.toString();
}

/** Creates the schema pinline_updates if it is missing (a concurrent creation is no error). */
async function createSchema(databaseUrl: string): Promise<void> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: "pinline serve",
  });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new RefusedError(
      `cannot connect to the update server's database: ${(error as Error).message}`,
      { hint: "check --database-url (or DATABASE_URL) and that PostgreSQL accepts connections" },
    );
  }
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SERVER_SCHEMA}`);
  } catch (error) {
    // Two servers creating it at the same moment: one of them sees the other's row.
    const code = (error as { code?: string }).code;
    if (code !== "23505" && code !== "42P06") throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Brings the server's schema to the newest release of server-schema/: creates pinline_updates,
 * then runs `migrate()` on it. Nothing runs when it is up to date.
 */
export async function migrateServerSchema(input: {
  databaseUrl: string;
  onProgress?: (message: string) => void;
}): Promise<MigrationResult> {
  await createSchema(input.databaseUrl);
  const { migrate } = await import("../db/run-migration.js");
  const root = serverSchemaRoot();
  return migrate({
    root,
    target: newestSchemaRelease(root),
    databaseUrl: withSearchPath(input.databaseUrl),
    lockWaitMs: LOCK_WAIT_MS,
    appliedBy: "pinline serve",
    history: { schema: SERVER_SCHEMA }, // its own, whatever else the database holds
    ...(input.onProgress ? { onProgress: (event) => input.onProgress?.(event.message) } : {}),
  });
}
