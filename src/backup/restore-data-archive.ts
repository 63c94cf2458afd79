/**
 * Puts a COPY archive's data back (write-data-archive.ts), in one transaction: the database's
 * layout must be the archive's (the same tables, columns, types and sequences — a database at
 * the backup's schema version), else nothing is touched. Then, inside the transaction, the
 * tables' foreign keys are dropped and their user triggers disabled (so rows load in any order
 * and no trigger writes twice), the tables are emptied (RESTART IDENTITY), each section is
 * copied back and its row count checked, the triggers and foreign keys come back (the keys are
 * validated again), the sequences are set, and the populated materialized views are refreshed
 * (they were computed from the rows just replaced). Any failure rolls all of it back.
 */
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { RefusedError } from "../core/errors.js";
import type { BackupMetadata } from "./backup-metadata.js";
import { compareLayouts, qualifiedName, readDataLayout } from "./read-data-layout.js";
import { columnList } from "./write-data-archive.js";

export interface RestoredData {
  tables: { name: string; rows: number }[];
  sequences: number;
  /** The materialized views refreshed, "schema.name". */
  refreshed: string[];
}

/** Populated materialized views outside the system schemas, in an order their dependencies allow. */
const MATERIALIZED_VIEWS = `
SELECT pg_catalog.format('%I.%I', schemaname, matviewname) AS name, schemaname || '.' || matviewname AS label
  FROM pg_catalog.pg_matviews
 WHERE ispopulated AND schemaname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY (SELECT c.oid FROM pg_catalog.pg_class c
            WHERE c.relname = matviewname AND c.relnamespace = schemaname::regnamespace)`;

const FOREIGN_KEYS = `
SELECT c.conrelid::pg_catalog.regclass::text AS "table", c.conname AS name,
       pg_catalog.pg_get_constraintdef(c.oid) AS definition
  FROM pg_catalog.pg_constraint c
 WHERE c.contype = 'f' AND c.conparentid = 0
   AND (c.conrelid = ANY($1::pg_catalog.regclass[]) OR c.confrelid = ANY($1::pg_catalog.regclass[]))
 ORDER BY 1, 2`;

const TRIGGERS = `
SELECT t.tgrelid::pg_catalog.regclass::text AS "table", t.tgname AS name, t.tgenabled AS mode
  FROM pg_catalog.pg_trigger t
 WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgrelid = ANY($1::pg_catalog.regclass[])
 ORDER BY 1, 2`;

/** How a trigger is enabled again: O (origin and local), A (always), R (replica). */
const ENABLE: Record<string, string> = {
  O: "ENABLE TRIGGER",
  A: "ENABLE ALWAYS TRIGGER",
  R: "ENABLE REPLICA TRIGGER",
};

export async function restoreDataArchive(
  client: pg.Client,
  file: string,
  metadata: BackupMetadata,
): Promise<RestoredData> {
  const archive = metadata.archive;
  if (!archive) throw new RefusedError(`${file}'s sidecar lists no archived tables`);
  await client.query("BEGIN");
  try {
    const differences = compareLayouts(archive.layout, await readDataLayout(client));
    if (differences.length > 0) {
      const shown = differences.slice(0, 6).join("; ");
      const more = differences.length > 6 ? `; and ${differences.length - 6} more` : "";
      const version = metadata.schemaVersion;
      throw new RefusedError(
        `the database's tables are not those of the backup (taken at schema ${version ?? "empty"}), so nothing was restored: ${shown}${more}`,
        {
          hint: version
            ? `restore onto a database at schema ${version}: migrate it there first (pinline migrate --release releases/${version} --database-url …)`
            : "restore onto a database of the same schema",
        },
      );
    }
    const names = archive.tables.map((table) => qualifiedName(client, table));
    if (names.length > 0) {
      await client.query(`LOCK TABLE ${names.join(", ")} IN ACCESS EXCLUSIVE MODE`);
    }
    const keys = await client.query<{ table: string; name: string; definition: string }>(
      FOREIGN_KEYS,
      [names],
    );
    for (const key of keys.rows) {
      await client.query(
        `ALTER TABLE ${key.table} DROP CONSTRAINT ${client.escapeIdentifier(key.name)}`,
      );
    }
    const triggers = await client.query<{ table: string; name: string; mode: string }>(TRIGGERS, [
      names,
    ]);
    for (const trigger of triggers.rows) {
      await client.query(
        `ALTER TABLE ${trigger.table} DISABLE TRIGGER ${client.escapeIdentifier(trigger.name)}`,
      );
    }
    if (names.length > 0) await client.query(`TRUNCATE TABLE ${names.join(", ")} RESTART IDENTITY`);

    const tables: RestoredData["tables"] = [];
    for (const table of archive.tables) {
      const name = qualifiedName(client, table);
      let rows = 0;
      if (table.bytes > 0) {
        const copy = client.query(
          copyFrom(`COPY ${name}${columnList(client, table.columns)} FROM STDIN`),
        );
        const section = createReadStream(file, {
          start: table.offset,
          end: table.offset + table.bytes - 1,
        });
        await pipeline(section, copy);
        rows = copy.rowCount;
      }
      if (rows !== table.rows) {
        throw new RefusedError(
          `${table.schema}.${table.name}: ${rows} rows read back, the backup recorded ${table.rows}`,
        );
      }
      tables.push({ name: `${table.schema}.${table.name}`, rows });
    }

    for (const trigger of triggers.rows) {
      await client.query(
        `ALTER TABLE ${trigger.table} ${ENABLE[trigger.mode] ?? "ENABLE TRIGGER"} ${client.escapeIdentifier(trigger.name)}`,
      );
    }
    for (const key of keys.rows) {
      await client.query(
        `ALTER TABLE ${key.table} ADD CONSTRAINT ${client.escapeIdentifier(key.name)} ${key.definition}`,
      );
    }
    for (const sequence of archive.sequences) {
      await client.query("SELECT pg_catalog.setval($1::pg_catalog.regclass, $2::bigint, $3)", [
        qualifiedName(client, sequence),
        sequence.lastValue,
        sequence.isCalled,
      ]);
    }
    const views = await client.query<{ name: string; label: string }>(MATERIALIZED_VIEWS);
    for (const view of views.rows) await client.query(`REFRESH MATERIALIZED VIEW ${view.name}`);
    await client.query("COMMIT");
    return {
      tables,
      sequences: archive.sequences.length,
      refreshed: views.rows.map((view) => view.label),
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    if (error instanceof RefusedError) throw error;
    throw new RefusedError(
      `the restore failed and was rolled back, so the database is as it was: ${(error as Error).message}`,
      {
        hint:
          (error as { code?: string }).code === "42501"
            ? "restore as the role that owns the tables (the one migrations run as)"
            : "check the message; the backup itself is unchanged",
        cause: error,
      },
    );
  }
}
