/**
 * Adopting an existing database (issue "Migrations and deploys lose nothing", item 5): a
 * baseline records the schema a database already has without running anything; --status shows
 * version, history, pending files and drift; --release none asks first; and a maintenance
 * release on an older line (1.1.1 published after 1.2.0) can still move to the next minor.
 * Through the CLI bundle, as an operator runs it, on every PostgreSQL target of the harness.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { migrate } from "../src/db/run-migration.js";
import { databasesPerTest } from "./harness/databases.js";
import { removeCopies, runPinline, runPinlineAtTerminal } from "./harness/example-repo.js";
import { migrationRepo, type TestRelease } from "./harness/migration-repo.js";
import { type PostgresTarget, schemaSnapshot, withClient } from "./harness/postgres.js";

const targets = inject("postgresTargets");
const { database: freshFor } = databasesPerTest();
afterAll(removeCopies);

/**
 * 1.0.0 → 1.1.0 → 1.2.0 is the main line; 1.1.1 (from 1.1.0) is a maintenance release of the
 * 1.1 line, published after 1.2.0, and it carries a migration.
 */
const RELEASES: TestRelease[] = [
  {
    version: "1.0.0",
    migrations: {
      "0.0.0-1.0.0_1_devices.sql":
        "CREATE TABLE devices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);\n",
    },
    rollback: { "1.0.0-0.0.0_1_drop.sql": "DROP TABLE devices;\n" },
  },
  {
    version: "1.1.0",
    from: "1.0.0",
    migrations: {
      "1.0.0-1.1.0_1_readings.sql":
        "CREATE TABLE readings (device bigint REFERENCES devices, at timestamptz NOT NULL, value double precision);\n",
    },
    rollback: { "1.1.0-1.0.0_1_drop.sql": "DROP TABLE readings;\n" },
  },
  {
    version: "1.2.0",
    from: "1.1.0",
    migrations: {
      "1.1.0-1.2.0_1_unit.sql": "ALTER TABLE readings ADD COLUMN unit text NOT NULL DEFAULT 'C';\n",
    },
    rollback: { "1.2.0-1.1.0_1_unit.sql": "ALTER TABLE readings DROP COLUMN unit;\n" },
  },
  {
    version: "1.1.1",
    from: "1.1.0",
    migrations: {
      "1.1.0-1.1.1_1_index.sql": "CREATE INDEX readings_at ON readings (device, at);\n",
    },
    rollback: { "1.1.1-1.1.0_1_index.sql": "DROP INDEX readings_at;\n" },
  },
];

const pinline = (root: string, url: string, ...args: string[]) =>
  runPinline(["migrate", "--root", root, "--database-url", url, "--unsigned", ...args]);

const historyOf = (url: string) =>
  withClient(
    url,
    async (c) =>
      (
        await c.query<{ version: string; file: string; applied_by: string }>(
          "SELECT version, file, applied_by FROM pinline_schema_migrations ORDER BY id",
        )
      ).rows,
  );

/** The SQL of every migration of these releases, run by hand: a database built without pinline. */
async function builtByHand(url: string, versions: string[]): Promise<void> {
  await withClient(url, async (c) => {
    for (const version of versions) {
      const release = RELEASES.find((r) => r.version === version) as TestRelease;
      for (const sql of Object.values(release.migrations)) await c.query(sql);
    }
  });
}

describe.each(targets)("adopting an existing database on $name", (target: PostgresTarget) => {
  const database = () => freshFor(target);

  it("--baseline records the schema a database has without running anything; the next run applies only what follows", async () => {
    const root = migrationRepo(RELEASES);
    const url = await database();
    await builtByHand(url, ["1.0.0", "1.1.0"]);

    const baseline = pinline(root, url, "--baseline", "1.1.0");
    expect(baseline.code).toBe(0);
    expect(baseline.stdout).toContain(
      "baselined the database at 1.1.0: recorded 2 migrations of 2 releases (1.0.0 → 1.1.0) as applied, without running them",
    );
    // Had it run them, CREATE TABLE devices would have failed: the tables exist.
    const rows = await historyOf(url);
    expect(rows.map((r) => `${r.version} ${r.file}`)).toEqual([
      "1.0.0 migrations/0.0.0-1.0.0_1_devices.sql",
      "1.1.0 migrations/1.0.0-1.1.0_1_readings.sql",
    ]);
    for (const row of rows) expect(row.applied_by).toMatch(/^\w+ \(baseline by .+\)$/);

    const up = pinline(root, url, "--release", "releases/1.2.0");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("migrated the database from 1.1.0 to 1.2.0: 1 file of 1 release");

    // The same schema as a database pinline migrated from empty.
    const reference = await database();
    await migrate({ root, target: "1.2.0", databaseUrl: reference });
    expect((await schemaSnapshot(target, url)).text).toBe(
      (await schemaSnapshot(target, reference)).text,
    );
  });

  it("--baseline is refused on a database with a history, and on an empty one", async () => {
    const root = migrationRepo(RELEASES);
    const migrated = await database();
    await migrate({ root, target: "1.0.0", databaseUrl: migrated });
    const again = pinline(root, migrated, "--baseline", "1.1.0");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /already has a history \(1 row in "public"\."pinline_schema_migrations"\): a baseline is only for a database pinline never migrated/,
    );
    expect(await historyOf(migrated)).toHaveLength(1);

    const empty = await database();
    const refused = pinline(root, empty, "--baseline", "1.1.0");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("has no tables, so it cannot have the schema of 1.1.0");
    expect(refused.stderr).toContain("pinline migrate --release releases/1.1.0");
    expect(await historyOf(empty)).toEqual([]);
  });

  it("--status shows the version, the history, what is pending and the drift (exit 1)", async () => {
    const root = migrationRepo(RELEASES);
    const url = await database();
    await builtByHand(url, ["1.0.0"]);
    expect(pinline(root, url, "--baseline", "1.0.0").code).toBe(0);
    await migrate({ root, target: "1.1.0", databaseUrl: url });

    const status = pinline(root, url, "--status");
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^version {3}1\.1\.0$/m);
    expect(status.stdout).toMatch(/^history {3}2 rows \(1 recorded by a baseline\)$/m);
    expect(status.stdout).toMatch(
      /⊙ #1 {2}migrate {3}releases\/1\.0\.0\/migrations\/0\.0\.0-1\.0\.0_1_devices\.sql/,
    );
    expect(status.stdout).toMatch(
      /✓ #2 {2}migrate {3}releases\/1\.1\.0\/migrations\/1\.0\.0-1\.1\.0_1_readings\.sql/,
    );
    expect(status.stdout).toContain("pending   1 file to 1.2.0:");
    expect(status.stdout).toContain("· migrate   releases/1.2.0/migrations/1.1.0-1.2.0_1_unit.sql");
    expect(status.stdout).toContain("drift     none");

    // An applied file edited afterwards is drift; --status reports it instead of refusing.
    const applied = join(root, "releases/1.1.0/migrations/1.0.0-1.1.0_1_readings.sql");
    writeFileSync(applied, `${readFileSync(applied, "utf8")}-- changed\n`);
    const drifted = pinline(root, url, "--status", "--json");
    expect(drifted.code).toBe(1);
    const report = JSON.parse(drifted.stdout);
    expect(report).toMatchObject({ version: "1.1.0", target: "1.2.0", ok: false });
    expect(report.drift).toEqual([
      {
        path: "releases/1.1.0/migrations/1.0.0-1.1.0_1_readings.sql",
        problem: expect.stringMatching(
          /^changed after it was applied: [0-9a-f]{64} in the history, [0-9a-f]{64} on disk$/,
        ),
      },
    ]);
    // Read-only: nothing was written.
    expect(await historyOf(url)).toHaveLength(2);
  });

  it("--status of a database pinline never saw: no history table, everything pending, and none created", async () => {
    const root = migrationRepo(RELEASES);
    const url = await database();
    const status = pinline(root, url, "--status", "--json");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      historyTable: null,
      version: null,
      state: "none",
      target: "1.2.0",
      pending: [
        { release: "1.0.0", direction: "migrate" },
        { release: "1.1.0", direction: "migrate" },
        { release: "1.2.0", direction: "migrate" },
      ],
    });
    const exists = await withClient(url, (c) =>
      c.query("SELECT to_regclass('pinline_schema_migrations') IS NOT NULL AS e"),
    );
    expect(exists.rows[0]?.e).toBe(false);
  });

  it("--release none asks first: without a terminal and without --yes it is refused and changes nothing", async () => {
    const root = migrationRepo(RELEASES);
    const url = await database();
    await migrate({ root, target: "1.1.0", databaseUrl: url });
    const refused = pinline(root, url, "--release", "none");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "--release none rolls back every migration of", // …of host:port/db, dropping what they created
    );
    expect(refused.stderr).toContain("there is no terminal to ask (pass --yes to confirm)");
    expect(await historyOf(url)).toHaveLength(2);

    const dry = pinline(root, url, "--release", "none", "--dry-run");
    expect(dry.code).toBe(0); // a dry run changes nothing: no need to ask

    const confirmed = pinline(root, url, "--release", "none", "--yes");
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain("rolled the database back from 1.1.0 to none");
  });

  it("--release none at a terminal asks, and goes on only when told yes", async (context) => {
    if (!existsSync("/usr/bin/script")) {
      console.warn(
        "skipped: util-linux script(1), which gives the CLI a terminal, is not installed",
      );
      context.skip();
    }
    const root = migrationRepo(RELEASES);
    const url = await database();
    await migrate({ root, target: "1.1.0", databaseUrl: url });
    const atTerminal = (answer: string) =>
      runPinlineAtTerminal(
        ["migrate", "--root", root, "--database-url", url, "--unsigned", "--release", "none"],
        answer,
      );
    const no = atTerminal("no");
    expect(no.stdout).toContain("dropping what they created? Type yes to go on:");
    expect(no.stdout).toContain("not confirmed: nothing was changed");
    expect(no.code).toBe(1);
    expect(await historyOf(url)).toHaveLength(2);
    const yes = atTerminal("yes");
    expect(yes.stdout).toContain("rolled the database back from 1.1.0 to none");
    expect(yes.code).toBe(0);
  });

  it("a maintenance release (1.1.1 after 1.2.0) moves to the next minor and back, through 1.1.0", async () => {
    const root = migrationRepo(RELEASES);
    const url = await database();
    await migrate({ root, target: "1.1.1", databaseUrl: url });

    const dry = pinline(root, url, "--release", "releases/1.2.0", "--dry-run");
    expect(dry.stdout).toContain(
      "migrating to 1.2.0 through 1.1.0, the release both lines share (the 1.1 maintenance line forks there: rolling back 1.1.1, then applying 1.2.0) would run 2 files:",
    );
    const up = pinline(root, url, "--release", "releases/1.2.0");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("moved the database from 1.1.1 to 1.2.0 through 1.1.0");
    const fresh120 = await database();
    await migrate({ root, target: "1.2.0", databaseUrl: fresh120 });
    expect((await schemaSnapshot(target, url)).text).toBe(
      (await schemaSnapshot(target, fresh120)).text,
    );

    const back = pinline(root, url, "--release", "releases/1.1.1");
    expect(back.code).toBe(0);
    const fresh111 = await database();
    await migrate({ root, target: "1.1.1", databaseUrl: fresh111 });
    expect((await schemaSnapshot(target, url)).text).toBe(
      (await schemaSnapshot(target, fresh111)).text,
    );
    const status = JSON.parse(pinline(root, url, "--status", "--json").stdout);
    expect(status).toMatchObject({ version: "1.1.1", drift: [], ok: true });
  });
});
