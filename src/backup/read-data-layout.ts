/**
 * The application's data as the catalogue describes it: every table that holds rows, with its
 * columns and their types, and every sequence. "Application" means outside PostgreSQL's own
 * schemas, not part of an extension, and not pinline's migration history (which describes the
 * schema that is there, not data to put back). A COPY archive records this layout, and a restore
 * refuses a database whose layout is not the same.
 */
import type pg from "pg";
import { HISTORY_TABLE } from "../db/history.js";

export interface LayoutColumn {
  name: string;
  /** format_type() with an empty search_path: "integer", "public.mood", "character varying(20)". */
  type: string;
  /** A generated column: computed, so never copied. */
  generated: boolean;
}

export interface LayoutTable {
  schema: string;
  name: string;
  columns: LayoutColumn[];
}

export interface DataLayout {
  tables: LayoutTable[];
  sequences: { schema: string; name: string }[];
}

/** Outside pg_* and information_schema, and not an extension's. */
const APPLICATION_RELATION = `
      n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                     AND d.objid = c.oid AND d.deptype = 'e')`;

const TABLES = `
SELECT c.oid, n.nspname AS schema, c.relname AS name
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND c.relname <> $1 AND ${APPLICATION_RELATION}
 ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`;

const COLUMNS = `
SELECT a.attrelid AS oid, a.attname AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = ANY($1::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum`;

/** Sequences, except those the migration history's own columns own. */
const SEQUENCES = `
SELECT n.nspname AS schema, c.relname AS name
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S' AND ${APPLICATION_RELATION}
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                     JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.objid = c.oid AND d.deptype IN ('a', 'i') AND t.relname = $1)
 ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`;

/** Reads the layout; run it with an empty search_path, so type names are qualified alike. */
export async function readDataLayout(client: pg.ClientBase): Promise<DataLayout> {
  const tables = await client.query<{ oid: number; schema: string; name: string }>(TABLES, [
    HISTORY_TABLE,
  ]);
  const columns = await client.query<{ oid: number } & LayoutColumn>(COLUMNS, [
    tables.rows.map((t) => t.oid),
  ]);
  const sequences = await client.query<{ schema: string; name: string }>(SEQUENCES, [
    HISTORY_TABLE,
  ]);
  return {
    tables: tables.rows.map((table) => ({
      schema: table.schema,
      name: table.name,
      columns: columns.rows
        .filter((column) => column.oid === table.oid)
        .map(({ name, type, generated }) => ({ name, type, generated })),
    })),
    sequences: sequences.rows.map(({ schema, name }) => ({ schema, name })),
  };
}

export function qualifiedName(
  client: Pick<pg.ClientBase, "escapeIdentifier">,
  relation: { schema: string; name: string },
): string {
  return `${client.escapeIdentifier(relation.schema)}.${client.escapeIdentifier(relation.name)}`;
}

const label = (relation: { schema: string; name: string }) => `${relation.schema}.${relation.name}`;

/**
 * How `actual` differs from `expected`, one sentence each (empty: the same). Column order does
 * not matter (COPY names its columns); names, types and the set of tables and sequences do.
 */
export function compareLayouts(expected: DataLayout, actual: DataLayout): string[] {
  const differences: string[] = [];
  const actualTables = new Map(actual.tables.map((t) => [label(t), t]));
  const expectedTables = new Map(expected.tables.map((t) => [label(t), t]));
  for (const [name, table] of expectedTables) {
    const other = actualTables.get(name);
    if (!other) {
      differences.push(`table ${name} is missing`);
      continue;
    }
    const columns = new Map(other.columns.map((c) => [c.name, c]));
    for (const column of table.columns) {
      const found = columns.get(column.name);
      if (!found) differences.push(`${name}.${column.name} (${column.type}) is missing`);
      else if (found.type !== column.type || found.generated !== column.generated) {
        differences.push(
          `${name}.${column.name} is ${describeColumn(found)}, the backup's is ${describeColumn(column)}`,
        );
      }
      columns.delete(column.name);
    }
    for (const extra of columns.values()) {
      differences.push(`${name} has ${extra.name} (${extra.type}), which the backup does not`);
    }
  }
  for (const name of actualTables.keys()) {
    if (!expectedTables.has(name)) differences.push(`table ${name} is not in the backup`);
  }
  const sequences = new Set(actual.sequences.map(label));
  for (const sequence of expected.sequences.map(label)) {
    if (!sequences.delete(sequence)) differences.push(`sequence ${sequence} is missing`);
  }
  for (const extra of sequences) differences.push(`sequence ${extra} is not in the backup`);
  return differences;
}

function describeColumn(column: LayoutColumn): string {
  return `${column.type}${column.generated ? " (generated)" : ""}`;
}
