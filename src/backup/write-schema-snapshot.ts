/**
 * The last backup method, when neither pg_dump nor the data archive could run: what the
 * database looked like — its tables, columns and indexes — as JSON. It holds NO data and cannot
 * be restored; the backup step and the deploy report say so, with why.
 */
import type pg from "pg";
import { type WrittenFile, writeWholeFile } from "./write-whole-file.js";

const COLUMNS = `
SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default
  FROM information_schema.columns c
 WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 1, 2, c.ordinal_position`;

const INDEXES = `
SELECT schemaname, tablename, indexname, indexdef FROM pg_catalog.pg_indexes
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`;

export async function writeSchemaSnapshot(
  client: pg.ClientBase,
  file: string,
  why: string,
): Promise<WrittenFile> {
  const columns = await client.query(COLUMNS);
  const indexes = await client.query(INDEXES);
  const snapshot = {
    holdsData: false,
    why: `the data is NOT in this file: ${why}`,
    columns: columns.rows,
    indexes: indexes.rows,
  };
  return writeWholeFile(file, `${JSON.stringify(snapshot, null, 2)}\n`);
}
