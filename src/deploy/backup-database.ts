/**
 * The pre-update backup hook (DESIGN §2 step 2): what the database looked like before the
 * update — its schema version and `pg_dump --schema-only` — written
 * to the backup folder. When pg_dump is missing or cannot dump this server (an older client
 * than the server), a catalogue snapshot taken over SQL stands in, and the step says so.
 */
import { execFile } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export interface BackupResult {
  file: string;
  method: "pg_dump" | "catalog";
  schemaVersion: string | null;
  detail: string;
}

function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

const CATALOG_QUERY = `
SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default
  FROM information_schema.columns c
 WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 1, 2, c.ordinal_position`;

const INDEX_QUERY = `
SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`;

export async function backupDatabase(input: {
  databaseUrl: string;
  dir: string;
  environment: string;
  version: string;
  at: Date;
  /** The schema version before the update (the migration runner's dry run says it). */
  schemaVersion: string | null;
}): Promise<BackupResult> {
  mkdirSync(input.dir, { recursive: true });
  const stamp = input.at.toISOString().replace(/[:.]/g, "-");
  const base = join(input.dir, `${input.environment}-${input.version}-${stamp}`);
  const client = new pg.Client({ connectionString: input.databaseUrl });
  await client.connect();
  try {
    const { schemaVersion } = input;
    try {
      const { stdout } = await run("pg_dump", ["--schema-only", "--no-owner", input.databaseUrl], {
        maxBuffer: 256 * 1024 * 1024,
      });
      const file = `${base}.schema.sql`;
      writeAtomically(file, stdout);
      return {
        file,
        method: "pg_dump",
        schemaVersion,
        detail: `schema ${schemaVersion ?? "empty"}; pg_dump --schema-only → ${file}`,
      };
    } catch (error) {
      const why = ((error as { stderr?: string }).stderr ?? (error as Error).message)
        .trim()
        .split("\n")[0];
      const columns = await client.query(CATALOG_QUERY);
      const indexes = await client.query(INDEX_QUERY);
      const file = `${base}.catalog.json`;
      writeAtomically(
        file,
        `${JSON.stringify({ schemaVersion, columns: columns.rows, indexes: indexes.rows }, null, 2)}\n`,
      );
      return {
        file,
        method: "catalog",
        schemaVersion,
        detail: `schema ${schemaVersion ?? "empty"}; pg_dump unusable (${why}), catalogue snapshot → ${file}`,
      };
    }
  } finally {
    await client.end();
  }
}
