import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { migrationLockKey } from "../src/db/migration-lock.js";
import { repoRoot } from "./harness/example-repo.js";
import { migrationRepo, type TestRelease } from "./harness/migration-repo.js";
import { freshDatabase, schemaSnapshot, withClient } from "./harness/postgres.js";

/**
 * The runner under faults (issue 4, item 3), run as a real process (the CLI bundle) against
 * real PostgreSQL, each scenario asserting what the database looks like afterwards. Scenarios
 * 6 (lock_timeout, retries, readers never blocked longer) and 7 (a CONCURRENTLY unique index
 * on duplicates: dirty, blocked until repair) drive the runner's API in test/db-migrate.test.ts,
 * where the test can hold locks and watch readers between the runner's steps.
 */
const targets = inject("postgresTargets");
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const drop of drops.splice(0)) await drop();
});

interface Runner {
  child: ChildProcess;
  done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
}

function startRunner(root: string, release: string, url: string, extra: string[] = []): Runner {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "dist/cli.js"),
      "migrate",
      "--unsigned", // test releases of their own, unsigned: each file is still hash-checked
      "--root",
      root,
      "--release",
      join(root, "releases", release),
      "--database-url",
      url,
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  const done = new Promise<Awaited<Runner["done"]>>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

/** Waits until a backend is running a query that contains `text`; returns its pid. */
async function backendRunning(url: string, text: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const pid = await withClient(url, async (c) => {
      const { rows } = await c.query(
        "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query like $1",
        [`%${text}%`],
      );
      return rows[0]?.pid as number | undefined;
    });
    if (pid) return pid;
    if (Date.now() > deadline) throw new Error(`no backend ran ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function tables(url: string): Promise<string[]> {
  return withClient(url, async (c) =>
    (
      await c.query("select tablename from pg_tables where schemaname = 'public' order by 1")
    ).rows.map((r) => r.tablename),
  );
}

async function appliedFiles(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const exists = (await c.query("select to_regclass('public.pinline_schema_migrations') as t"))
      .rows[0].t;
    if (!exists) return [];
    return (
      await c.query(
        "select file from pinline_schema_migrations where success order by applied_at, file",
      )
    ).rows.map((r) => r.file);
  });
}

async function advisoryLocks(url: string): Promise<number> {
  return withClient(url, async (c) =>
    Number(
      (await c.query("select count(*) as n from pg_locks where locktype = 'advisory'")).rows[0].n,
    ),
  );
}

async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Migration 002 sleeps while the marker table exists, so a test can catch it mid-flight. */
const SLOW_WHILE_MARKED =
  "CREATE TABLE b (id integer);\nSELECT pg_sleep(CASE WHEN to_regclass('public.fault_marker') IS NOT NULL THEN 60 ELSE 0 END);\n";

function threeStepRepo(): string {
  return migrationRepo([
    {
      version: "1.0.0",
      migrations: {
        "0.0.0-1.0.0_1_a.sql": "CREATE TABLE a (id integer);\n",
        "0.0.0-1.0.0_2_b.sql": SLOW_WHILE_MARKED,
        "0.0.0-1.0.0_3_c.sql": "CREATE TABLE c (id integer);\n",
      },
      rollback: {
        "1.0.0-0.0.0_1_c.sql": "DROP TABLE c;\n",
        "1.0.0-0.0.0_2_b.sql": "DROP TABLE b;\n",
        "1.0.0-0.0.0_3_a.sql": "DROP TABLE a;\n",
      },
    },
  ]);
}

describe.each(targets)("migrate under faults on $name", (target) => {
  async function database(): Promise<string> {
    const db = await freshDatabase(target);
    drops.push(db.drop);
    return db.url;
  }

  it("1. SIGKILL during migration 2: no trace of 2, the lock released, a rerun completes", async () => {
    const url = await database();
    const root = threeStepRepo();
    await withClient(url, (c) => c.query("CREATE TABLE fault_marker ()"));
    const runner = startRunner(root, "1.0.0", url);
    await backendRunning(url, "pg_sleep");
    runner.child.kill("SIGKILL");
    expect((await runner.done).signal).toBe("SIGKILL");

    expect(
      await eventually(
        () => advisoryLocks(url),
        (n) => n === 0,
      ),
    ).toBe(0);
    expect(await tables(url)).toEqual(["a", "fault_marker", "pinline_schema_migrations"]);
    expect(await appliedFiles(url)).toEqual(["migrations/0.0.0-1.0.0_1_a.sql"]);

    await withClient(url, (c) => c.query("DROP TABLE fault_marker"));
    const rerun = await startRunner(root, "1.0.0", url).done;
    expect(rerun.stderr).not.toMatch(/error/i);
    expect(rerun.code).toBe(0);
    expect(await tables(url)).toEqual(["a", "b", "c", "pinline_schema_migrations"]);
    expect(await appliedFiles(url)).toHaveLength(3);
  });

  it("2. two runners started together: each migration applied once, the loser reports the lock", async () => {
    const url = await database();
    // Migration 2 takes two seconds, so the two runs overlap whichever starts first.
    const root = migrationRepo([
      {
        version: "1.0.0",
        migrations: {
          "0.0.0-1.0.0_1_a.sql": "CREATE TABLE a (id integer);\n",
          "0.0.0-1.0.0_2_b.sql": "CREATE TABLE b (id integer);\nSELECT pg_sleep(2);\n",
          "0.0.0-1.0.0_3_c.sql": "CREATE TABLE c (id integer);\n",
        },
        rollback: {
          "1.0.0-0.0.0_1_c.sql": "DROP TABLE c;\n",
          "1.0.0-0.0.0_2_b.sql": "DROP TABLE b;\n",
          "1.0.0-0.0.0_3_a.sql": "DROP TABLE a;\n",
        },
      },
    ]);
    const results = await Promise.all([
      startRunner(root, "1.0.0", url).done,
      startRunner(root, "1.0.0", url).done,
    ]);
    const codes = results.map((r) => r.code).sort();
    expect(codes).toEqual([0, 1]);
    const loser = results.find((r) => r.code === 1);
    expect(loser?.stderr).toContain("Update already in progress");
    expect(await appliedFiles(url)).toEqual([
      "migrations/0.0.0-1.0.0_1_a.sql",
      "migrations/0.0.0-1.0.0_2_b.sql",
      "migrations/0.0.0-1.0.0_3_c.sql",
    ]);
    expect(await tables(url)).toEqual(["a", "b", "c", "pinline_schema_migrations"]);
  });

  it("9. pg_terminate_backend on the runner mid-migration: non-zero exit, no trace of 2, a rerun completes", async () => {
    const url = await database();
    const root = threeStepRepo();
    await withClient(url, (c) => c.query("CREATE TABLE fault_marker ()"));
    const runner = startRunner(root, "1.0.0", url);
    const pid = await backendRunning(url, "pg_sleep");
    await withClient(url, (c) => c.query("select pg_terminate_backend($1)", [pid]));
    const result = await runner.done;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/terminat/i);
    expect(
      await eventually(
        () => advisoryLocks(url),
        (n) => n === 0,
      ),
    ).toBe(0);
    expect(await appliedFiles(url)).toEqual(["migrations/0.0.0-1.0.0_1_a.sql"]);
    expect(await tables(url)).toEqual(["a", "fault_marker", "pinline_schema_migrations"]);

    await withClient(url, (c) => c.query("DROP TABLE fault_marker"));
    expect((await startRunner(root, "1.0.0", url).done).code).toBe(0);
    expect(await tables(url)).toEqual(["a", "b", "c", "pinline_schema_migrations"]);
  });

  it("5. another session holds the advisory lock: a clear message within the wait, nothing changed", async () => {
    const url = await database();
    const root = threeStepRepo();
    const name = new URL(url).pathname.slice(1);
    await withClient(url, async (holder) => {
      await holder.query("SET application_name = 'someone else'");
      await holder.query("select pg_advisory_lock($1)", [migrationLockKey(name).toString()]);
      const result = await startRunner(root, "1.0.0", url, ["--lock-wait", "1500"]).done;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("Update already in progress");
      expect(result.stderr).toContain("someone else");
    });
    expect(await tables(url)).toEqual([]);
  });

  it("8. the database runs a release off the target's chain: abort before any DDL", async () => {
    const url = await database();
    const release = (version: string, from: string | undefined, table: string): TestRelease => ({
      version,
      ...(from ? { from } : {}),
      migrations: {
        [`${from ?? "0.0.0"}-${version}_${table}.sql`]: `CREATE TABLE ${table} (id integer);\n`,
      },
      rollback: { [`${version}-${from ?? "0.0.0"}_${table}.sql`]: `DROP TABLE ${table};\n` },
    });
    // 1.1.1 is a hotfix branched from 1.0.0; 1.2.0 continues the main line from 1.1.0.
    const root = migrationRepo([
      release("1.0.0", undefined, "a"),
      release("1.1.0", "1.0.0", "b"),
      release("1.1.1", "1.0.0", "hotfix"),
      release("1.2.0", "1.1.0", "c"),
    ]);
    expect((await startRunner(root, "1.1.1", url).done).code).toBe(0);
    const result = await startRunner(root, "1.2.0", url).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Invalid version for migration. Expected 1.1.0, got 1.1.1");
    expect(await tables(url)).toEqual(["a", "hotfix", "pinline_schema_migrations"]);
    expect(await appliedFiles(url)).toEqual([
      "migrations/0.0.0-1.0.0_a.sql",
      "migrations/1.0.0-1.1.1_hotfix.sql",
    ]);
  });

  it("10. the example 2.4.0 → 2.4.1 and back leaves the schema exactly as it was", async () => {
    const url = await database();
    expect((await startRunner(repoRoot, "2.4.0", url).done).code).toBe(0);
    const before = await schemaSnapshot(target, url);
    const up = await startRunner(repoRoot, "2.4.1", url).done;
    expect(up.code).toBe(0);
    const during = await schemaSnapshot(target, url);
    expect(during.text).toContain("ml_score");
    const down = await startRunner(repoRoot, "2.4.0", url).done;
    expect(down.code).toBe(0);
    const after = await schemaSnapshot(target, url);
    expect(after.how).toBe(target.binDir ? "pg_dump --schema-only" : "catalog");
    expect(after.text).toBe(before.text);
  });

  it("3. a statement fails in migration 3 of 5: 1–2 committed, 3 rolled back, 4–5 not attempted, exit 1", async () => {
    const url = await database();
    const migrations: Record<string, string> = {};
    const rollback: Record<string, string> = {};
    for (let i = 1; i <= 5; i++) {
      migrations[`0.0.0-1.0.0_${i}.sql`] =
        i === 3
          ? "CREATE TABLE t3 (id integer);\nINSERT INTO t3 VALUES ('not a number');\n"
          : `CREATE TABLE t${i} (id integer);\n`;
      rollback[`1.0.0-0.0.0_${i}.sql`] = `DROP TABLE IF EXISTS t${6 - i};\n`;
    }
    const root = migrationRepo([{ version: "1.0.0", migrations, rollback }]);
    const result = await startRunner(root, "1.0.0", url).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "releases/1.0.0/migrations/0.0.0-1.0.0_3.sql (release 1.0.0, migrate) failed: invalid input syntax for type integer",
    );
    expect(await tables(url)).toEqual(["pinline_schema_migrations", "t1", "t2"]);
    expect(await appliedFiles(url)).toEqual([
      "migrations/0.0.0-1.0.0_1.sql",
      "migrations/0.0.0-1.0.0_2.sql",
    ]);
  });

  it("4. one byte, or a lone CR, changed in an applied file: abort before any DDL, naming the file and both checksums", async () => {
    const url = await database();
    const root = migrationRepo([
      {
        version: "1.0.0",
        migrations: { "0.0.0-1.0.0_a.sql": "CREATE TABLE a (id integer);\n" },
        rollback: { "1.0.0-0.0.0_a.sql": "DROP TABLE a;\n" },
      },
      {
        version: "1.1.0",
        from: "1.0.0",
        migrations: { "1.0.0-1.1.0_b.sql": "CREATE TABLE b (id integer);\n" },
        rollback: { "1.1.0-1.0.0_b.sql": "DROP TABLE b;\n" },
      },
    ]);
    expect((await startRunner(root, "1.0.0", url).done).code).toBe(0);
    const file = join(root, "releases/1.0.0/migrations/0.0.0-1.0.0_a.sql");
    for (const changed of ["CREATE TABLE a (id bigint);\n", "CREATE TABLE a (id integer);\r\r\n"]) {
      writeFileSync(file, changed);
      const result = await startRunner(root, "1.1.0", url).done;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /releases\/1\.0\.0\/migrations\/0\.0\.0-1\.0\.0_a\.sql changed after it was applied: checksum [0-9a-f]{64} in pinline_schema_migrations, [0-9a-f]{64} now/,
      );
      expect(await tables(url)).toEqual(["a", "pinline_schema_migrations"]);
    }
    // A whole-file CRLF conversion (a Windows checkout) is not a change: checksums normalise it.
    writeFileSync(file, "CREATE TABLE a (id integer);\r\n");
    expect((await startRunner(root, "1.1.0", url).done).code).toBe(0);
    expect(await tables(url)).toEqual(["a", "b", "pinline_schema_migrations"]);
  });
});
