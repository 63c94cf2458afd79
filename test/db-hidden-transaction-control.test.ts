/**
 * Transaction control hidden in a transactional migration (DESIGN §6: "statements classified
 * by PostgreSQL's own parser"): each form below once slipped a COMMIT past a hand-written
 * splitter, or could. PostgreSQL's parser sees every one, so the run refuses the file before
 * anything runs, naming the file, the line and the statement; and the runner keeps
 * standard_conforming_strings on, so the server reads each file exactly as the parser did. On
 * every PostgreSQL target of the harness.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import { migrate } from "../src/db/run-migration.js";
import { databasesPerTest, failureOf } from "./harness/databases.js";
import { removeCopies } from "./harness/example-repo.js";
import { migrationRepo } from "./harness/migration-repo.js";
import { type PostgresTarget, withClient } from "./harness/postgres.js";

const targets = inject("postgresTargets");
const { database: freshFor } = databasesPerTest();
afterAll(removeCopies);

/** A COMMIT after CREATE TABLE half, hidden from a keyword scan, and CREATE TABLE rest after it. */
const HIDDEN: [string, string, number][] = [
  [
    "after a -- comment that a lone CR ends",
    "CREATE TABLE half (id int); -- done?\rCOMMIT;\nCREATE TABLE rest (id int);\n",
    1,
  ],
  [
    "after a function with a parameter named begin",
    "CREATE TABLE half (id int);\nCREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS 'SELECT begin';\nCOMMIT;\nCREATE TABLE rest (id int);\n",
    3,
  ],
  [
    "after an E-string holding an escaped quote",
    "CREATE TABLE half (id int);\nSELECT E'it\\'s'; COMMIT;\nCREATE TABLE rest (id int);\n",
    2,
  ],
  [
    "after dollar quotes holding another tag",
    "CREATE TABLE half (id int);\nSELECT $a$ $b$ ; $a$; COMMIT;\nCREATE TABLE rest (id int);\n",
    2,
  ],
  [
    "after turning standard_conforming_strings off",
    "CREATE TABLE half (id int);\nSET standard_conforming_strings = off;\nSELECT 'a\\'; COMMIT; --';\nCREATE TABLE rest (id int);\n",
    3,
  ],
];

describe.each(targets)("hidden transaction control on $name", (target: PostgresTarget) => {
  const database = () => freshFor(target);
  const tables = (url: string) =>
    withClient(url, async (c) =>
      (
        await c.query<{ name: string }>(
          "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        )
      ).rows.map((r) => r.name),
    );

  it.each(HIDDEN)("refuses a COMMIT %s before anything runs", async (_form, sql, line) => {
    const url = await database();
    const root = migrationRepo([
      {
        version: "1.0.0",
        migrations: { "0.0.0-1.0.0.sql": sql },
        rollback: { "1.0.0-0.0.0.sql": "DROP TABLE IF EXISTS rest; DROP TABLE IF EXISTS half;\n" },
      },
    ]);
    const error = await failureOf(migrate({ root, target: "1.0.0", databaseUrl: url }));
    expect(error.message).toMatch(
      new RegExp(
        `^releases/1\\.0\\.0/migrations/0\\.0\\.0-1\\.0\\.0\\.sql contains COMMIT on line ${line} \\(\`COMMIT\`\\): pinline runs each migration and its history row in one transaction`,
      ),
    );
    expect(await tables(url)).toEqual(["pinline_schema_migrations"]);
  });

  it("keeps standard_conforming_strings on for every file, so the server reads a file as the parser did", async () => {
    const url = await database();
    const root = migrationRepo([
      {
        version: "1.0.0",
        migrations: {
          "0.0.0-1.0.0_1_off.sql":
            "SET standard_conforming_strings = off;\nCREATE TABLE one (id int);\n",
          // Read with the setting on (as the parser reads it): two strings, no COMMIT, and the
          // file fails at its end, so nothing of it stays. Read with it off, the server would
          // COMMIT table two half-way.
          "0.0.0-1.0.0_2_hidden.sql":
            "CREATE TABLE two (id int);\nSELECT 'a\\' || ' ; COMMIT; SELECT 1; --';\nSELECT 1/0;\n",
        },
        rollback: {
          "1.0.0-0.0.0_1_drop_two.sql": "DROP TABLE IF EXISTS two;\n",
          "1.0.0-0.0.0_2_drop_one.sql": "DROP TABLE one;\n",
        },
      },
    ]);
    const error = await failureOf(migrate({ root, target: "1.0.0", databaseUrl: url }));
    expect(error.message).toContain("division by zero");
    expect(error.message).toContain("nothing of it was applied");
    expect(await tables(url)).toEqual(["one", "pinline_schema_migrations"]);
  });
});
