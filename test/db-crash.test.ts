/**
 * Reports are honest under crashes (issue "Migrations and deploys lose nothing", item 3): a run
 * calls a migration applied only once its commit is durable; when the server goes away mid-run,
 * the run reconnects when it is back and says which migrations were lost with their history
 * rows and which survived — and a failed final flush is reported, never swallowed. On servers
 * of their own (embedded PostgreSQL 18, Debian's 15), crashed with an immediate shutdown, which
 * loses what the WAL writer had not written, as a power cut would; a database per test.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MigrationEvent, migrate } from "../src/db/run-migration.js";
import {
  type CrashableServer,
  crashableKinds,
  startCrashable,
} from "./harness/crashable-postgres.js";
import { failureOf } from "./harness/databases.js";
import { removeCopies, repoRoot } from "./harness/example-repo.js";
import { migrationRepo } from "./harness/migration-repo.js";
import { withClient } from "./harness/postgres.js";

afterAll(removeCopies);

const kinds = crashableKinds();
if (kinds.length === 0)
  console.warn("DATABASE_URL is set: the crash tests need servers of their own, skipped");

/** 1.0.0 makes the table; 1.1.0 adds two rows, then waits in its third file. */
function repo(): string {
  return migrationRepo([
    {
      version: "1.0.0",
      migrations: { "0.0.0-1.0.0_1_table.sql": "CREATE TABLE t (id int PRIMARY KEY);\n" },
      rollback: { "1.0.0-0.0.0_1_drop.sql": "DROP TABLE t;\n" },
    },
    {
      version: "1.1.0",
      from: "1.0.0",
      migrations: {
        "1.0.0-1.1.0_1_a.sql": "INSERT INTO t VALUES (1);\n",
        "1.0.0-1.1.0_2_b.sql": "INSERT INTO t VALUES (2);\n",
        // Sleeps only where the session sets pinline_test.sleep (see sleeping()).
        "1.0.0-1.1.0_3_slow.sql":
          "SELECT pg_sleep(current_setting('pinline_test.sleep', true)::float);\nINSERT INTO t VALUES (3);\n",
      },
      rollback: {
        "1.1.0-1.0.0_1_c.sql": "DELETE FROM t WHERE id = 3;\n",
        "1.1.0-1.0.0_2_b.sql": "DELETE FROM t WHERE id = 2;\n",
        "1.1.0-1.0.0_3_a.sql": "DELETE FROM t WHERE id = 1;\n",
      },
    },
  ]);
}

/** The URL of a session whose slow migration sleeps a minute. */
function sleeping(url: string): string {
  const withOption = new URL(url);
  withOption.searchParams.set("options", "-c pinline_test.sleep=60");
  return withOption.toString();
}

const historyFiles = (url: string) =>
  withClient(url, async (c) =>
    (
      await c.query<{ file: string }>("SELECT file FROM pinline_schema_migrations ORDER BY id")
    ).rows.map((r) => r.file),
  );

describe.each(kinds)("a server that goes away mid-run (%s)", (kind) => {
  let server: CrashableServer;
  beforeAll(async () => {
    server = await startCrashable(kind);
  });
  afterAll(() => server?.remove());

  let databases = 0;
  async function databaseOn(s: CrashableServer): Promise<string> {
    const name = `app_${++databases}`;
    await withClient(s.url, (c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(s.url);
    url.pathname = `/${name}`;
    return url.toString();
  }

  it("a crash before the flush: the run names the migrations lost with their rows, and calls none of them applied", async () => {
    const s = server;
    const url = await databaseOn(s);
    const root = repo();
    await migrate({ root, target: "1.0.0", databaseUrl: url });
    await s.holdWal();

    const events: MigrationEvent[] = [];
    const error = await failureOf(
      migrate({
        root,
        target: "1.1.0",
        databaseUrl: sleeping(url),
        recoveryWaitMs: 30_000,
        onProgress: (event) => {
          events.push(event);
          if (event.type === "step-start" && event.step.file.endsWith("_3_slow.sql")) {
            // The slow file is running: crash, and start again a moment later.
            setTimeout(() => {
              void s
                .crash()
                .then(() => new Promise((resolve) => setTimeout(resolve, 1000)))
                .then(() => s.start());
            }, 300);
          }
        },
      }),
    );

    // What the database holds after recovery: 1.0.0 only — both commits of 1.1.0 were lost.
    expect(await historyFiles(url)).toEqual(["migrations/0.0.0-1.0.0_1_table.sql"]);
    expect(await withClient(url, async (c) => (await c.query("SELECT id FROM t")).rows)).toEqual(
      [],
    );
    // …and the run said so, naming each, instead of "the 2 migrations before it stay applied".
    expect(error.message).toContain("whether it committed is not known yet");
    expect(error.message).toMatch(
      /shows 3 migrations LOST with their history rows .*: releases\/1\.1\.0\/migrations\/1\.0\.0-1\.1\.0_1_a\.sql, releases\/1\.1\.0\/migrations\/1\.0\.0-1\.1\.0_2_b\.sql, releases\/1\.1\.0\/migrations\/1\.0\.0-1\.1\.0_3_slow\.sql; run pinline migrate again/,
    );
    // Progress never called them applied: committed, waiting for the flush.
    const done = events.filter((e) => e.type === "step-done").map((e) => e.message);
    expect(done).toHaveLength(2);
    for (const message of done) expect(message).toMatch(/^committed /);
    expect(events.some((e) => e.type === "durable")).toBe(false);

    // A rerun applies what was lost.
    const rerun = await migrate({ root, target: "1.1.0", databaseUrl: url });
    expect(rerun.steps.map((step) => step.status)).toEqual(["applied", "applied", "applied"]);
  }, 120_000);

  it("a run that reports its migrations applied means it: they survive a crash right after it returns", async () => {
    const url = await databaseOn(server);
    const root = repo();
    await migrate({ root, target: "1.0.0", databaseUrl: url });
    await server.holdWal(); // nothing reaches disk unless the run itself flushes it
    const events: MigrationEvent[] = [];
    const result = await migrate({
      root,
      target: "1.1.0",
      databaseUrl: url,
      onProgress: (event) => events.push(event),
    });
    expect(result.steps.map((step) => step.status)).toEqual(["applied", "applied", "applied"]);
    expect(events.at(-1)?.message).toBe("durable: the 3 commits are on disk");
    await server.crash();
    await server.start();
    expect(await historyFiles(url)).toEqual([
      "migrations/0.0.0-1.0.0_1_table.sql",
      "migrations/1.0.0-1.1.0_1_a.sql",
      "migrations/1.0.0-1.1.0_2_b.sql",
      "migrations/1.0.0-1.1.0_3_slow.sql",
    ]);
    expect(
      (await withClient(url, (c) => c.query<{ id: number }>("SELECT id FROM t ORDER BY id"))).rows,
    ).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  }, 120_000);

  it("the runner's session ends mid-file, the server stays: the two commits before it are durable, the third did not commit", async () => {
    const url = await databaseOn(server);
    const root = repo();
    await migrate({ root, target: "1.0.0", databaseUrl: url });
    const error = await failureOf(
      migrate({
        root,
        target: "1.1.0",
        databaseUrl: sleeping(url),
        onProgress: (event) => {
          if (event.type === "step-start" && event.step.file.endsWith("_3_slow.sql")) {
            setTimeout(() => {
              void withClient(url, (c) =>
                c.query(
                  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pinline migrate' AND datname = current_database()",
                ),
              );
            }, 300);
          }
        },
      }),
    );
    expect(error.message).toContain("releases/1.1.0/migrations/1.0.0-1.1.0_3_slow.sql");
    expect(error.message).toMatch(
      /shows 1 migration LOST with its history row .*: releases\/1\.1\.0\/migrations\/1\.0\.0-1\.1\.0_3_slow\.sql and 2 migrations applied and durable: releases\/1\.1\.0\/migrations\/1\.0\.0-1\.1\.0_1_a\.sql, releases\/1\.1\.0\/migrations\/1\.0\.0-1\.1\.0_2_b\.sql/,
    );
    expect(await historyFiles(url)).toEqual([
      "migrations/0.0.0-1.0.0_1_table.sql",
      "migrations/1.0.0-1.1.0_1_a.sql",
      "migrations/1.0.0-1.1.0_2_b.sql",
    ]);
  }, 120_000);

  it("pinline migrate (the bundle) prints which migrations a crash lost", async () => {
    const s = server;
    const url = await databaseOn(s);
    const root = repo();
    await migrate({ root, target: "1.0.0", databaseUrl: url });
    await s.holdWal();
    const child = spawn(
      process.execPath,
      [join(repoRoot, "dist/cli.js"), "migrate", "--root", root, "--unsigned"].concat([
        "--database-url",
        sleeping(url),
        "--release",
        "1.1.0",
        "--recovery-wait",
        "20000",
      ]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    let crashed: Promise<void> | undefined;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!crashed && stderr.includes("_3_slow.sql (3/3)")) {
        crashed = delay(300)
          .then(() => s.crash())
          .then(() => delay(500))
          .then(() => s.start());
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    await crashed;
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /committed releases\/1\.1\.0\/migrations\/1\.0\.0-1\.1\.0_2_b\.sql in \d+ ms \(2\/3\)/,
    );
    expect(stderr).not.toMatch(/applied releases\/1\.1\.0/);
    expect(stderr).toMatch(
      /pinline: error: .*shows 3 migrations LOST with their history rows .*_1_a\.sql, .*_2_b\.sql, .*_3_slow\.sql; run pinline migrate again/,
    );
    expect(await historyFiles(url)).toEqual(["migrations/0.0.0-1.0.0_1_table.sql"]);
  }, 120_000);

  it("the server does not come back in time: the run says that whether its commits survived is not known", async () => {
    const s = server;
    const url = await databaseOn(s);
    const root = repo();
    await migrate({ root, target: "1.0.0", databaseUrl: url });
    await s.holdWal();
    const error = await failureOf(
      migrate({
        root,
        target: "1.1.0",
        databaseUrl: sleeping(url),
        recoveryWaitMs: 2_000,
        onProgress: (event) => {
          if (event.type === "step-start" && event.step.file.endsWith("_3_slow.sql")) {
            setTimeout(() => void s.crash(), 300);
          }
        },
      }),
    );
    expect(error.message).toMatch(
      /the server did not answer again within 2 s, so whether these commits survived is not known: .*_1_a\.sql, .*_2_b\.sql, .*_3_slow\.sql — each may be lost/,
    );
    expect(error.message).toContain("pinline migrate --status");
    await s.start();
    expect(await historyFiles(url)).toEqual(["migrations/0.0.0-1.0.0_1_table.sql"]);
  }, 120_000);
});
