/**
 * The second backup method, for a server no pg_dump here can dump (PostgreSQL 18 where only
 * pg_dump 15 is installed): pinline's own data archive, over the protocol. In one REPEATABLE
 * READ, READ ONLY transaction — one snapshot, as pg_dump takes — every application table is
 * locked against DDL (ACCESS SHARE, as pg_dump does) and written with `COPY … TO STDOUT` in
 * COPY's text format, one section per table, each ended by `\.`; the sequences' values are read
 * in the same transaction. The layout (tables, columns, types, sequences) goes in the sidecar,
 * so a restore can refuse a database of another schema. It restores onto a database at the same
 * schema version, on any server major, with `pinline restore`.
 */

import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { PinlineError } from "../core/errors.js";
import type { ArchivedSequence, ArchivedTable } from "./backup-metadata.js";
import { type DataLayout, qualifiedName, readDataLayout } from "./read-data-layout.js";
import { WholeFile, type WrittenFile } from "./write-whole-file.js";

/** The archive's first line: what it is, for a person who opens it. */
export const ARCHIVE_MAGIC =
  "-- pinline data archive 1: COPY text sections, see the .json beside this file\n";
const SECTION_END = "\\.\n";

export interface DataArchive extends WrittenFile {
  layout: DataLayout;
  tables: ArchivedTable[];
  sequences: ArchivedSequence[];
}

/** " (a, b)": COPY's column list ("" for a table without columns, which COPY cannot name). */
export function columnList(client: Pick<pg.ClientBase, "escapeIdentifier">, columns: string[]) {
  return columns.length > 0
    ? ` (${columns.map((c) => client.escapeIdentifier(c)).join(", ")})`
    : "";
}

export async function writeDataArchive(client: pg.Client, file: string): Promise<DataArchive> {
  const out = await WholeFile.create(file);
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    const objects = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_catalog.pg_largeobject_metadata",
    );
    const count = Number(objects.rows[0]?.n ?? 0);
    if (count > 0) {
      throw new PinlineError(
        `the database holds ${count} large object${count === 1 ? "" : "s"}, which a COPY archive does not hold`,
      );
    }
    const layout = await readDataLayout(client);
    if (layout.tables.length > 0) {
      const names = layout.tables.map((table) => qualifiedName(client, table)).join(", ");
      await client.query(`LOCK TABLE ${names} IN ACCESS SHARE MODE`);
    }
    const sequences: ArchivedSequence[] = [];
    for (const sequence of layout.sequences) {
      const { rows } = await client.query<{ last_value: string; is_called: boolean }>(
        `SELECT last_value::text AS last_value, is_called FROM ${qualifiedName(client, sequence)}`,
      );
      const row = rows[0];
      if (row) sequences.push({ ...sequence, lastValue: row.last_value, isCalled: row.is_called });
    }
    await out.write(ARCHIVE_MAGIC);
    const tables: ArchivedTable[] = [];
    for (const table of layout.tables) {
      const columns = table.columns.filter((c) => !c.generated).map((c) => c.name);
      const offset = out.offset;
      const stream = client.query(
        copyTo(`COPY ${qualifiedName(client, table)}${columnList(client, columns)} TO STDOUT`),
      );
      await out.writeAll(stream);
      tables.push({
        schema: table.schema,
        name: table.name,
        columns,
        rows: stream.rowCount,
        offset,
        bytes: out.offset - offset,
      });
      await out.write(SECTION_END);
    }
    await client.query("COMMIT");
    const written = await out.commit();
    return { ...written, layout, tables, sequences };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    await out.abort();
    throw error;
  }
}
