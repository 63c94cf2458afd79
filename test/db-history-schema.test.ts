/**
 * The history is found wherever it lives (DESIGN §6: "the history table schema-qualified"): a
 * migration that moves the search_path — for its own session or, with ALTER DATABASE, for every
 * later one — never sends the history elsewhere nor makes the next run start "from none". On
 * every PostgreSQL target of the harness.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import { migrate } from "../src/db/run-migration.js";
import { databasesPerTest } from "./harness/databases.js";
import { removeCopies } from "./harness/example-repo.js";
import { migrationRepo, type TestRelease } from "./harness/migration-repo.js";
import { type PostgresTarget, withClient } from "./harness/postgres.js";

const targets = inject("postgresTargets");
const { database: freshFor } = databasesPerTest();
afterAll(removeCopies);

/** 1.0.0 creates a table; 1.1.0 moves the search_path, for its session and for the database. */
const RELEASES: TestRelease[] = [
  {
    version: "1.0.0",
    migrations: { "0.0.0-1.0.0.sql": "CREATE TABLE a (id int);\n" },
    rollback: { "1.0.0-0.0.0.sql": "DROP TABLE a;\n" },
  },
  {
    version: "1.1.0",
    from: "1.0.0",
    migrations: {
      "1.0.0-1.1.0.sql": [
        "CREATE SCHEMA elsewhere;",
        "SET search_path = elsewhere;",
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = elsewhere', current_database()); END $$;",
        "CREATE TABLE b (id int);",
        "",
      ].join("\n"),
    },
    rollback: {
      "1.1.0-1.0.0.sql":
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET search_path', current_database()); END $$;\nDROP SCHEMA elsewhere CASCADE;\n",
    },
  },
];

const historiesIn = (url: string) =>
  withClient(url, async (c) =>
    (
      await c.query<{ schema: string; rows: string }>(
        `SELECT table_schema AS schema,
                (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text AS rows
           FROM information_schema.tables WHERE table_name = 'pinline_schema_migrations' ORDER BY 1`,
      )
    ).rows.map((r) => `${r.schema}: ${r.rows}`),
  );

describe.each(targets)("where the history lives, on $name", (target: PostgresTarget) => {
  const database = () => freshFor(target);

  it("stays in its schema when a migration moves the search_path, and the next run finds it there", async () => {
    const url = await database();
    const root = migrationRepo(RELEASES);
    const first = await migrate({ root, target: "1.1.0", databaseUrl: url });
    expect(first.steps.map((s) => s.status)).toEqual(["applied", "applied"]);
    expect(await historiesIn(url)).toEqual(["public: 2"]);

    // A new session starts in "elsewhere" now; the history is still found in public.
    expect(
      await withClient(
        url,
        async (c) => (await c.query("SELECT current_schema() AS s")).rows[0]?.s,
      ),
    ).toBe("elsewhere");
    const again = await migrate({ root, target: "1.1.0", databaseUrl: url });
    expect(again.from).toBe("1.1.0");
    expect(again.steps).toEqual([]);
    expect(await historiesIn(url)).toEqual(["public: 2"]);

    const back = await migrate({ root, target: "1.0.0", databaseUrl: url });
    expect(back.from).toBe("1.1.0");
    expect(back.steps.map((s) => [s.file, s.status])).toEqual([
      ["rollback/1.1.0-1.0.0.sql", "applied"],
    ]);
    expect(await historiesIn(url)).toEqual(["public: 3"]);
  });

  it("refuses two histories, naming both schemas, until --history-schema says which", async () => {
    const url = await database();
    const root = migrationRepo(RELEASES.slice(0, 1));
    await migrate({ root, target: "1.0.0", databaseUrl: url });
    await withClient(url, (c) =>
      c.query(
        "CREATE SCHEMA other; CREATE TABLE other.pinline_schema_migrations (LIKE public.pinline_schema_migrations INCLUDING ALL)",
      ),
    );
    await expect(migrate({ root, target: "1.0.0", databaseUrl: url })).rejects.toThrow(
      "the database holds pinline_schema_migrations in 2 schemas (other, public), so which history is this application's cannot be known",
    );
    const chosen = await migrate({
      root,
      target: "1.0.0",
      databaseUrl: url,
      history: { schema: "public" },
    });
    expect(chosen.from).toBe("1.0.0");
  });
});
