/**
 * The migration lock lives on a session of its own (DESIGN §6: "an advisory lock on a session
 * migrations cannot reach"): a migration that releases every advisory lock of its session
 * releases nothing of it, and when the lock's session is lost the run stops before the next
 * migration, so two runs can never interleave. On every PostgreSQL target of the harness.
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

describe.each(targets)("the migration lock's own session on $name", (target: PostgresTarget) => {
  const database = () => freshFor(target);

  const applied = (url: string) =>
    withClient(url, async (c) =>
      (
        await c.query<{ file: string }>("SELECT file FROM pinline_schema_migrations ORDER BY id")
      ).rows.map((r) => r.file),
    );

  it("a migration calling pg_advisory_unlock_all() releases nothing: a second run is still refused", async () => {
    const url = await database();
    const root = migrationRepo([
      {
        version: "1.0.0",
        migrations: {
          "0.0.0-1.0.0_1_unlock.sql":
            "SELECT pg_advisory_unlock_all();\nCREATE TABLE a (id int);\n",
          "0.0.0-1.0.0_2_slow.sql": "SELECT pg_sleep(1.5);\nCREATE TABLE b (id int);\n",
        },
        rollback: {
          "1.0.0-0.0.0_1_drop_b.sql": "DROP TABLE b;\n",
          "1.0.0-0.0.0_2_drop_a.sql": "DROP TABLE a;\n",
        },
      },
    ]);
    let second: Promise<Error> | undefined;
    const first = await migrate({
      root,
      target: "1.0.0",
      databaseUrl: url,
      onProgress: (event) => {
        if (event.type === "step-start" && event.step.file.endsWith("_2_slow.sql")) {
          second = failureOf(migrate({ root, target: "1.0.0", databaseUrl: url }));
        }
      },
    });
    expect(first.steps.map((s) => s.status)).toEqual(["applied", "applied"]);
    expect((await second)?.message).toMatch(/^Update already in progress/);
    expect(await applied(url)).toEqual([
      "migrations/0.0.0-1.0.0_1_unlock.sql",
      "migrations/0.0.0-1.0.0_2_slow.sql",
    ]);
  });

  it("stops before the next migration when the lock's session is lost", async () => {
    const url = await database();
    const root = migrationRepo([
      {
        version: "1.0.0",
        migrations: {
          // Ends the lock's session from inside a migration, as a hostile file could.
          "0.0.0-1.0.0_1_end_lock.sql":
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pinline migrate (lock)' AND datname = current_database();\nCREATE TABLE a (id int);\n",
          "0.0.0-1.0.0_2_b.sql": "CREATE TABLE b (id int);\n",
        },
        rollback: {
          "1.0.0-0.0.0_1_drop_b.sql": "DROP TABLE b;\n",
          "1.0.0-0.0.0_2_drop_a.sql": "DROP TABLE a;\n",
        },
      },
    ]);
    const error = await failureOf(migrate({ root, target: "1.0.0", databaseUrl: url }));
    expect(error.message).toMatch(
      /^the session holding the migration lock was lost \(.+\): stopped before releases\/1\.0\.0\/migrations\/0\.0\.0-1\.0\.0_2_b\.sql, so no other run can interleave with this one; the 1 migration before it stay applied$/,
    );
    expect(await applied(url)).toEqual(["migrations/0.0.0-1.0.0_1_end_lock.sql"]);
    const resumed = await migrate({ root, target: "1.0.0", databaseUrl: url });
    expect(resumed.steps.map((s) => [s.file, s.status])).toEqual([
      ["migrations/0.0.0-1.0.0_1_end_lock.sql", "skipped"],
      ["migrations/0.0.0-1.0.0_2_b.sql", "applied"],
    ]);
  });
});
