import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { RefusedError } from "../src/core/errors.js";
import { migrationLockKey } from "../src/db/migration-lock.js";
import {
  type MigrationEvent,
  MigrationFailedError,
  type MigrationResult,
  migrate,
} from "../src/db/run-migration.js";
import { hashRelease } from "../src/repo/hash-release.js";
import { shippedFileDigest } from "../src/repo/shipped-file-digest.js";
import { copyExample, edit, removeCopies, replaceOnce, repoRoot } from "./harness/example-repo.js";
import {
  catalogSnapshot,
  freshDatabase,
  type PostgresTarget,
  withClient,
} from "./harness/postgres.js";

/**
 * The migration runner on real PostgreSQL (every target of the harness), with the example
 * releases of the repository: each scenario starts from a fresh database and asserts what the
 * database looks like afterwards, not only what the runner said.
 */
const targets = inject("postgresTargets");
const NIGHTLY = "2.5.0-nightly.20240315";
const HISTORY = "pinline_schema_migrations";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(removeCopies);

/** The example repository's files up to NIGHTLY, in the order the runner must apply them. */
const MIGRATIONS_TO_NIGHTLY = [
  "releases/2.0.0/migrations/0.0.0-2.0.0_initial_schema.sql",
  "releases/2.3.0/migrations/2.0.0-2.3.0_remediation_runs.sql",
  "releases/2.4.0/migrations/2.3.0-2.4.0_diagnostic_category.sql",
  "releases/2.4.1/migrations/2.4.0-2.4.1.sql",
  "releases/2.4.1/migrations/2.4.0-2.4.1_ml_score_index.sql",
  "releases/2.5.0-beta.3/migrations/2.4.1-2.5.0-beta.3_1_rule_versions.sql",
  "releases/2.5.0-beta.3/migrations/2.4.1-2.5.0-beta.3_2_diagnostics_rule_version.sql",
  `releases/${NIGHTLY}/migrations/2.5.0-beta.3-${NIGHTLY}_remediation_triggered_by.sql`,
];

const ROLLBACKS_TO_200 = [
  `releases/${NIGHTLY}/rollback/${NIGHTLY}-2.5.0-beta.3_drop_remediation_triggered_by.sql`,
  "releases/2.5.0-beta.3/rollback/2.5.0-beta.3-2.4.1_1_drop_diagnostics_rule_version.sql",
  "releases/2.5.0-beta.3/rollback/2.5.0-beta.3-2.4.1_2_drop_rule_versions.sql",
  "releases/2.4.1/rollback/2.4.1-2.4.0_1_drop_ml_score_index.sql",
  "releases/2.4.1/rollback/2.4.1-2.4.0_2_drop_ml_score.sql",
  "releases/2.4.0/rollback/2.4.0-2.3.0_drop_diagnostic_category.sql",
  "releases/2.3.0/rollback/2.3.0-2.0.0_drop_remediation_runs.sql",
];

function sha256(root: string, path: string): string {
  const text = readFileSync(join(root, path), "latin1").replaceAll("\r\n", "\n");
  return createHash("sha256").update(Buffer.from(text, "latin1")).digest("hex");
}

/** Adds release 2.6.0 (from NIGHTLY) with these files to a copy of the example repository. */
function withRelease260(
  migrations: Record<string, string>,
  rollback: Record<string, string> = {},
): string {
  const root = copyExample();
  const dir = join(root, "releases/2.6.0");
  mkdirSync(join(dir, "migrations"), { recursive: true });
  mkdirSync(join(dir, "rollback"), { recursive: true });
  for (const [name, sql] of Object.entries(migrations))
    writeFileSync(join(dir, "migrations", name), sql);
  for (const [name, sql] of Object.entries(rollback))
    writeFileSync(join(dir, "rollback", name), sql);
  const list = (folder: string, files: Record<string, string>) =>
    `[${Object.entries(files)
      .map(([f, sql]) => `{ file: ${folder}/${f}, sha256: "${shippedFileDigest(sql)}" }`)
      .join(", ")}]`;
  writeFileSync(
    join(dir, "release.yaml"),
    [
      "# yaml-language-server: $schema=../../schemas/release.schema.json",
      'version: "2.6.0"',
      "channel: stable",
      'releaseDate: "2024-04-01T00:00:00Z"',
      "components:",
      `  backend: { version: "2.6.0", artifact: "ghcr.io/acme/cm-diagnostics-backend:2.6.0", sha256: "${"a".repeat(64)}", size: 1 }`,
      "database:",
      `  from: "${NIGHTLY}"`,
      `  migrations: ${list("migrations", migrations)}`,
      `  rollback: ${list("rollback", rollback)}`,
      "",
    ].join("\n"),
  );
  return root;
}

interface Row {
  version: string;
  file: string;
  direction: string;
  checksum: string;
  applied_by: string;
  success: boolean;
  duration_ms: number;
  error: string | null;
}

async function historyOf(url: string): Promise<Row[]> {
  return withClient(url, async (c) => {
    const exists = (await c.query(`SELECT to_regclass('${HISTORY}') IS NOT NULL AS e`)).rows[0].e;
    if (!exists) return [];
    return (await c.query<Row>(`SELECT * FROM ${HISTORY} ORDER BY id`)).rows;
  });
}

async function hasTable(url: string, name: string): Promise<boolean> {
  return withClient(
    url,
    async (c) => (await c.query("SELECT to_regclass($1) IS NOT NULL AS e", [name])).rows[0].e,
  );
}

async function columnsOf(url: string, table: string): Promise<string[]> {
  return withClient(url, async (c) =>
    (
      await c.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY 1",
        [table],
      )
    ).rows.map((r) => r.column_name),
  );
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the run to fail");
}

describe.each(targets)("pinline migrate on $name", (target: PostgresTarget) => {
  async function database(): Promise<string> {
    const db = await freshDatabase(target);
    cleanups.push(db.drop);
    return db.url;
  }
  const run = (
    url: string,
    to: string,
    options: Partial<Parameters<typeof migrate>[0]> = {},
  ): Promise<MigrationResult> =>
    migrate({ root: repoRoot, target: to, databaseUrl: url, appliedBy: "tester@ci", ...options });

  it("migrates an empty database to the nightly through every release in order, and a second run does nothing", async () => {
    const url = await database();
    const events: MigrationEvent[] = [];
    const result = await run(url, NIGHTLY, { onProgress: (e) => events.push(e) });

    expect(result).toMatchObject({ from: null, to: NIGHTLY, dryRun: false });
    expect(result.steps.map((s) => s.path)).toEqual(MIGRATIONS_TO_NIGHTLY);
    expect(result.steps.every((s) => s.status === "applied" && s.direction === "migrate")).toBe(
      true,
    );
    expect(result.steps.filter((s) => !s.transactional).map((s) => s.path)).toEqual([
      "releases/2.4.1/migrations/2.4.0-2.4.1_ml_score_index.sql",
    ]);
    expect(result.summary).toMatch(
      new RegExp(
        `^migrated the database from none to ${NIGHTLY}: 8 files of 6 releases applied in`,
      ),
    );
    expect(events.filter((e) => e.type === "step-start").map((e) => e.message)).toContain(
      "applying releases/2.4.1/migrations/2.4.0-2.4.1_ml_score_index.sql (no transaction) (5/8)",
    );

    expect(await columnsOf(url, "diagnostics")).toEqual([
      "category",
      "content_manager_id",
      "created_at",
      "id",
      "message",
      "ml_score",
      "rule_id",
      "rule_version_id",
      "severity",
    ]);
    expect(await columnsOf(url, "remediation_runs")).toContain("triggered_by");
    expect(await hasTable(url, "diagnostic_rule_versions")).toBe(true);
    expect(await catalogSnapshot(url)).toContain(
      "index CREATE INDEX idx_diagnostics_ml_score ON public.diagnostics USING btree (ml_score) valid=t",
    );

    const rows = await historyOf(url);
    expect(rows.map((r) => `releases/${r.version}/${r.file}`)).toEqual(MIGRATIONS_TO_NIGHTLY);
    for (const row of rows) {
      expect(row).toMatchObject({ direction: "migrate", success: true, error: null });
      expect(row.applied_by).toBe("postgres (tester@ci)");
      expect(row.checksum).toBe(sha256(repoRoot, `releases/${row.version}/${row.file}`));
    }

    const again = await run(url, NIGHTLY);
    expect(again).toMatchObject({ from: NIGHTLY, to: NIGHTLY, steps: [] });
    expect(again.summary).toBe(`the database is already at ${NIGHTLY}: nothing to do`);
    expect(await historyOf(url)).toHaveLength(8);
  });

  it("rolls back from the nightly to exactly the schema 2.0.0 created, then to none, and up again", async () => {
    const url = await database();
    await run(url, "2.0.0");
    const schemaOf200 = await catalogSnapshot(url);
    expect(schemaOf200.length).toBeGreaterThan(20);

    await run(url, NIGHTLY);
    const down = await run(url, "2.0.0");
    expect(down).toMatchObject({ from: NIGHTLY, to: "2.0.0" });
    expect(down.steps.map((s) => s.path)).toEqual(ROLLBACKS_TO_200);
    expect(down.steps.every((s) => s.direction === "rollback" && s.status === "applied")).toBe(
      true,
    );
    expect(down.summary).toMatch(
      /^rolled the database back from 2\.5\.0-nightly\.20240315 to 2\.0\.0: 7 files of 5 releases run in/,
    );
    expect(await catalogSnapshot(url)).toEqual(schemaOf200);

    const none = await run(url, "none");
    expect(none).toMatchObject({ from: "2.0.0", to: "none" });
    expect(none.steps.map((s) => s.path)).toEqual([
      "releases/2.0.0/rollback/2.0.0-0.0.0_drop_schema.sql",
    ]);
    expect(await catalogSnapshot(url)).toEqual([]);

    // The history keeps everything (rollbacks are rows too), and the version follows from it.
    const rows = await historyOf(url);
    expect(rows.filter((r) => r.direction === "rollback")).toHaveLength(8);
    const up = await run(url, "2.0.0");
    expect(up).toMatchObject({ from: null, to: "2.0.0" });
    expect(await catalogSnapshot(url)).toEqual(schemaOf200);
  });

  it("a dry run prints the plan and changes nothing, not even the history table", async () => {
    const url = await database();
    const plan = await run(url, "2.4.1", { dryRun: true });
    expect(plan).toMatchObject({ from: null, to: "2.4.1", dryRun: true });
    expect(plan.steps.map((s) => [s.path, s.status, s.transactional])).toEqual([
      ["releases/2.0.0/migrations/0.0.0-2.0.0_initial_schema.sql", "planned", true],
      ["releases/2.3.0/migrations/2.0.0-2.3.0_remediation_runs.sql", "planned", true],
      ["releases/2.4.0/migrations/2.3.0-2.4.0_diagnostic_category.sql", "planned", true],
      ["releases/2.4.1/migrations/2.4.0-2.4.1.sql", "planned", true],
      ["releases/2.4.1/migrations/2.4.0-2.4.1_ml_score_index.sql", "planned", false],
    ]);
    expect(plan.summary).toContain(
      "dry run: the database is at none; migrating to 2.4.1 would run 5 files:",
    );
    expect(plan.summary).toContain(
      "  5. releases/2.4.1/migrations/2.4.0-2.4.1_ml_score_index.sql  migrate  no transaction",
    );
    expect(await hasTable(url, HISTORY)).toBe(false);
    expect(await catalogSnapshot(url)).toEqual([]);

    await run(url, "2.4.1");
    const before = await historyOf(url);
    const back = await run(url, "2.4.0", { dryRun: true });
    expect(back.steps.map((s) => [s.path, s.direction, s.transactional])).toEqual([
      ["releases/2.4.1/rollback/2.4.1-2.4.0_1_drop_ml_score_index.sql", "rollback", false],
      ["releases/2.4.1/rollback/2.4.1-2.4.0_2_drop_ml_score.sql", "rollback", true],
    ]);
    expect(await historyOf(url)).toEqual(before);
    expect(await columnsOf(url, "diagnostics")).toContain("ml_score");
  });

  it("refuses, before any DDL, when an applied file changed; a CRLF checkout is not a change", async () => {
    const url = await database();
    const root = copyExample();
    const file = "releases/2.3.0/migrations/2.0.0-2.3.0_remediation_runs.sql";
    await migrate({ root, target: "2.4.0", databaseUrl: url });
    const applied = sha256(root, file);
    const schema = await catalogSnapshot(url);
    const rows = await historyOf(url);

    edit(root, file, replaceOnce("DEFAULT 'pending'", "DEFAULT 'queued' "));
    const changed = sha256(root, file);
    const error = await failureOf(migrate({ root, target: NIGHTLY, databaseUrl: url }));
    expect(error).toBeInstanceOf(RefusedError);
    expect(error.message).toBe(
      `${file} changed after it was applied: checksum ${applied} in pinline_schema_migrations, ${changed} now`,
    );
    expect(await catalogSnapshot(url)).toEqual(schema);
    expect(await historyOf(url)).toEqual(rows);

    // The same text with CRLF line endings (git autocrlf) is the same file.
    edit(root, file, (text) =>
      text.replace("DEFAULT 'queued' ", "DEFAULT 'pending'").replaceAll("\n", "\r\n"),
    );
    expect(readFileSync(join(root, file), "utf8")).toContain("\r\n");
    const result = await migrate({ root, target: "2.4.1", databaseUrl: url });
    expect(result.steps).toHaveLength(2);
  });

  it("refuses a second runner with 'Update already in progress' and who holds the lock; with a lock wait it queues", async () => {
    const url = await database();
    const holder = new pg.Client({ connectionString: url, application_name: "deploy of 2.4.1" });
    await holder.connect();
    cleanups.push(() => holder.end());
    const name = new URL(url).pathname.slice(1);
    await holder.query("SELECT pg_advisory_lock($1::bigint)", [migrationLockKey(name).toString()]);
    const pid = (await holder.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;

    const started = Date.now();
    const refused = await failureOf(run(url, "2.0.0"));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(refused).toBeInstanceOf(RefusedError);
    expect(refused.message).toMatch(
      new RegExp(
        `^Update already in progress: another run holds the migration lock of database "${name}" \\(held by pid ${pid}, application_name "deploy of 2\\.4\\.1", user postgres`,
      ),
    );
    expect(await hasTable(url, HISTORY)).toBe(false);

    const events: MigrationEvent[] = [];
    const waiting = run(url, "2.0.0", { lockWaitMs: 10_000, onProgress: (e) => events.push(e) });
    await new Promise((r) => setTimeout(r, 400));
    await holder.query("SELECT pg_advisory_unlock_all()");
    expect((await waiting).steps).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "lock-wait" });
    expect(events[0]?.message).toContain(`held by pid ${pid}`);
  });

  it("two runners at once: one migrates, the other is refused while the first holds the lock", async () => {
    const url = await database();
    const root = withRelease260(
      { "2.6.0_slow.sql": "CREATE TABLE slow (id int);\nSELECT pg_sleep(1);\n" },
      { "2.6.0_drop_slow.sql": "DROP TABLE IF EXISTS slow;\n" },
    );
    let second: Promise<Error> | undefined;
    const first = migrate({
      root,
      target: "2.6.0",
      databaseUrl: url,
      onProgress: (e) => {
        if (e.type === "step-start" && e.step.release === "2.6.0") {
          second = failureOf(migrate({ root, target: "2.6.0", databaseUrl: url }));
        }
      },
    });
    expect((await first).steps).toHaveLength(9);
    const refused = (await second) as Error;
    expect(refused.message).toMatch(
      /^Update already in progress: .*application_name "pinline migrate \(lock\)"/,
    );
    expect((await historyOf(url)).filter((r) => r.version === "2.6.0")).toHaveLength(1);
  });

  it("a failing statement rolls back its own migration only; the next run resumes with it", async () => {
    const url = await database();
    const broken =
      "ALTER TABLE diagnostics ADD COLUMN severity_rank int;\nUPDATE diagnostics SET severity_rank = nope;\n";
    const root = withRelease260(
      {
        "2.6.0_1_audit_log.sql": "CREATE TABLE audit_log (id bigserial PRIMARY KEY, entry text);\n",
        "2.6.0_2_severity_rank.sql": broken,
      },
      {
        "2.6.0_1_drop_severity_rank.sql":
          "ALTER TABLE diagnostics DROP COLUMN IF EXISTS severity_rank;\n",
        "2.6.0_2_drop_audit_log.sql": "DROP TABLE IF EXISTS audit_log;\n",
      },
    );
    await migrate({ root, target: NIGHTLY, databaseUrl: url });

    const error = await failureOf(migrate({ root, target: "2.6.0", databaseUrl: url }));
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error.message).toBe(
      'releases/2.6.0/migrations/2.6.0_2_severity_rank.sql (release 2.6.0, migrate) failed: column "nope" does not exist (SQLSTATE 42703, line 2, column 40); it was rolled back: nothing of it was applied',
    );
    expect((error as MigrationFailedError).where).toEqual({
      file: "releases/2.6.0/migrations/2.6.0_2_severity_rank.sql",
      line: 2,
      column: 40,
    });
    expect(await hasTable(url, "audit_log")).toBe(true);
    expect(await columnsOf(url, "diagnostics")).not.toContain("severity_rank");
    expect((await historyOf(url)).filter((r) => r.version === "2.6.0").map((r) => r.file)).toEqual([
      "migrations/2.6.0_1_audit_log.sql",
    ]);
    const plan = await migrate({ root, target: "2.6.0", databaseUrl: url, dryRun: true });
    expect(plan.summary).toContain(
      `the database is at ${NIGHTLY} (2.6.0 partly applied: 1 of 2 migrations)`,
    );

    edit(root, "releases/2.6.0/migrations/2.6.0_2_severity_rank.sql", replaceOnce("= nope", "= 1"));
    await hashRelease({ root, releaseDir: join(root, "releases/2.6.0") }); // the fix is listed
    const resumed = await migrate({ root, target: "2.6.0", databaseUrl: url });
    expect(resumed.steps.map((s) => [s.file, s.status])).toEqual([
      ["migrations/2.6.0_1_audit_log.sql", "skipped"],
      ["migrations/2.6.0_2_severity_rank.sql", "applied"],
    ]);
    expect(resumed.summary).toContain("(resumed: 1 already applied)");
    expect(await columnsOf(url, "diagnostics")).toContain("severity_rank");
  });

  it("a partly applied release is rolled back when the target is the release it migrates from", async () => {
    const url = await database();
    const root = withRelease260(
      {
        "2.6.0_1_audit_log.sql": "CREATE TABLE audit_log (id bigserial PRIMARY KEY);\n",
        "2.6.0_2_broken.sql": "SELECT 1/0;\n",
      },
      {
        "2.6.0_1_drop_nothing.sql": "SELECT 1;\n",
        "2.6.0_2_drop_audit_log.sql": "DROP TABLE IF EXISTS audit_log;\n",
      },
    );
    await migrate({ root, target: NIGHTLY, databaseUrl: url });
    const schema = await catalogSnapshot(url);
    await failureOf(migrate({ root, target: "2.6.0", databaseUrl: url }));
    expect(await hasTable(url, "audit_log")).toBe(true);

    const back = await migrate({ root, target: NIGHTLY, databaseUrl: url });
    expect(back).toMatchObject({ from: NIGHTLY, to: NIGHTLY });
    expect(back.steps.map((s) => [s.file, s.direction, s.status])).toEqual([
      ["rollback/2.6.0_1_drop_nothing.sql", "rollback", "applied"],
      ["rollback/2.6.0_2_drop_audit_log.sql", "rollback", "applied"],
    ]);
    expect(back.summary).toMatch(
      /^rolled the database back from 2\.5\.0-nightly\.20240315 \(2\.6\.0 partly applied: 1 of 2 migrations\) to 2\.5\.0-nightly\.20240315: 2 files of 1 release run in/,
    );
    expect(await catalogSnapshot(url)).toEqual(schema);
    expect((await migrate({ root, target: NIGHTLY, databaseUrl: url })).steps).toEqual([]);
  });

  it("statement_timeout bounds a migration that runs too long, and it is not retried", async () => {
    const url = await database();
    const root = withRelease260({
      "2.6.0_slow.sql": "CREATE TABLE slow (id int);\nSELECT pg_sleep(5);\n",
    });
    await migrate({ root, target: NIGHTLY, databaseUrl: url });
    const events: MigrationEvent[] = [];
    const started = Date.now();
    const error = await failureOf(
      migrate({
        root,
        target: "2.6.0",
        databaseUrl: url,
        statementTimeoutMs: 200,
        onProgress: (e) => events.push(e),
      }),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error.message).toBe(
      "releases/2.6.0/migrations/2.6.0_slow.sql (release 2.6.0, migrate) failed: canceling statement due to statement timeout (SQLSTATE 57014); it was rolled back: nothing of it was applied",
    );
    expect(events.filter((e) => e.type === "retry")).toEqual([]);
    expect(await hasTable(url, "slow")).toBe(false);
  });

  it("refuses a CONCURRENTLY statement without the marker before running anything", async () => {
    const url = await database();
    const root = withRelease260({
      "2.6.0_1_table.sql": "CREATE TABLE notes (id int, body text);\n",
      "2.6.0_2_index.sql":
        "-- index the notes\n/* built online */\nCREATE INDEX CONCURRENTLY idx_notes_body ON notes (body);\n",
    });
    const error = await failureOf(migrate({ root, target: "2.6.0", databaseUrl: url }));
    expect(error).toBeInstanceOf(RefusedError);
    expect(error.message).toBe(
      "releases/2.6.0/migrations/2.6.0_2_index.sql contains CREATE INDEX CONCURRENTLY on line 3 (`CREATE INDEX CONCURRENTLY idx_notes_body ON notes (body)`), which cannot run in a transaction: add `-- pinline:no-transaction` as its first line",
    );
    expect((error as RefusedError).where).toEqual({
      file: "releases/2.6.0/migrations/2.6.0_2_index.sql",
      line: 3,
      column: 1,
    });
    expect(await catalogSnapshot(url)).toEqual([]);
    expect(await historyOf(url)).toEqual([]);
  });

  it("a CONCURRENTLY unique index on duplicate data is recorded dirty and blocks every run until repair", async () => {
    const url = await database();
    const file = "releases/2.6.0/migrations/2.6.0_unique_base_url.sql";
    const root = withRelease260({
      "2.6.0_unique_base_url.sql":
        "-- pinline:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_content_managers_base_url\n    ON content_managers (base_url);\n",
    });
    await migrate({ root, target: NIGHTLY, databaseUrl: url });
    await withClient(url, (c) =>
      c.query(
        "INSERT INTO content_managers (name, base_url, product_version) VALUES ('a', 'https://cm', '24.1'), ('b', 'https://cm', '24.1')",
      ),
    );

    const failed = await failureOf(migrate({ root, target: "2.6.0", databaseUrl: url }));
    expect(failed).toBeInstanceOf(MigrationFailedError);
    expect((failed as MigrationFailedError).dirty).toBe(true);
    expect(failed.message).toMatch(
      new RegExp(
        `^${file} \\(release 2\\.6\\.0, migrate\\) failed at statement 1 of 1 \\(line 2\\): could not create unique index "idx_content_managers_base_url" \\(SQLSTATE 23505\\); Key \\(base_url\\)=\\(https://cm\\) is duplicated\\.; it ran outside a transaction, so nothing of it was applied; the history is now dirty$`,
      ),
    );
    const dirty = (await historyOf(url)).at(-1);
    expect(dirty).toMatchObject({ version: "2.6.0", success: false });
    expect(dirty?.error).toMatch(/^statement 1 of 1 \(line 2\): could not create unique index/);

    for (const options of [{}, { dryRun: true }]) {
      const refused = await failureOf(
        migrate({ root, target: "2.6.0", databaseUrl: url, ...options }),
      );
      expect(refused.message).toMatch(
        new RegExp(
          `^the history is dirty: ${file} of 2\\.6\\.0 failed at \\d{4}-\\d\\d-\\d\\dT.*Z \\(statement 1 of 1 .*\\) — fix the database by hand, then run pinline migrate --repair$`,
        ),
      );
    }

    const repaired = await migrate({ root, target: "2.6.0", databaseUrl: url, repair: true });
    expect(repaired.repaired).toHaveLength(1);
    expect(repaired.summary).toContain(
      `repair: removed the dirty history row of ${file} (release 2.6.0, failed at`,
    );
    expect(repaired.summary).toContain(`The database is at ${NIGHTLY}.`);
    expect(repaired.summary).toContain(
      "INVALID indexes remain (left by a failed concurrent build): idx_content_managers_base_url on content_managers",
    );
    expect((await historyOf(url)).every((r) => r.success)).toBe(true);

    // Rerun without fixing anything: IF NOT EXISTS skips the INVALID index, which still fails.
    const again = await failureOf(migrate({ root, target: "2.6.0", databaseUrl: url }));
    expect(again.message).toContain(
      "index idx_content_managers_base_url on content_managers is INVALID after CREATE INDEX CONCURRENTLY",
    );
    expect((await historyOf(url)).at(-1)).toMatchObject({ success: false });

    // The operator fixes the data and drops the invalid index; repair; the run completes.
    await withClient(url, (c) =>
      c.query(
        "DROP INDEX idx_content_managers_base_url; DELETE FROM content_managers WHERE name = 'b'",
      ),
    );
    await migrate({ root, target: "2.6.0", databaseUrl: url, repair: true });
    const done = await migrate({ root, target: "2.6.0", databaseUrl: url });
    expect(done.steps.map((s) => s.status)).toEqual(["applied"]);
    expect(await catalogSnapshot(url)).toContain(
      "index CREATE UNIQUE INDEX idx_content_managers_base_url ON public.content_managers USING btree (base_url) valid=t",
    );
  });

  it("a migration waiting on a lock gives up after lock_timeout, retries, and never blocks readers for longer", async () => {
    const url = await database();
    const root = withRelease260({
      "2.6.0_reviewed.sql":
        "ALTER TABLE diagnostics ADD COLUMN reviewed boolean NOT NULL DEFAULT false;\n",
    });
    await migrate({ root, target: NIGHTLY, databaseUrl: url });
    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    cleanups.push(() => reader.end());
    await reader.query("BEGIN; SELECT count(*) FROM diagnostics");

    const events: MigrationEvent[] = [];
    let readerWaited: Promise<number> | undefined;
    const started = Date.now();
    const error = await failureOf(
      migrate({
        root,
        target: "2.6.0",
        databaseUrl: url,
        lockTimeoutMs: 300,
        onProgress: (e) => {
          events.push(e);
          if (e.type === "step-start") {
            // Another reader arrives while the ALTER waits: it queues behind it, but not for long.
            readerWaited = new Promise((r) => setTimeout(r, 100)).then(() =>
              withClient(url, async (c) => {
                const t = Date.now();
                await c.query("SELECT count(*) FROM diagnostics");
                return Date.now() - t;
              }),
            );
          }
        },
      }),
    );
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error.message).toBe(
      "releases/2.6.0/migrations/2.6.0_reviewed.sql (release 2.6.0, migrate) failed: canceling statement due to lock timeout (SQLSTATE 55P03) after 3 attempts with lock_timeout 300 ms (another session holds a lock on what it changes); it was rolled back: nothing of it was applied",
    );
    expect(events.filter((e) => e.type === "retry").map((e) => e.message)).toEqual([
      "releases/2.6.0/migrations/2.6.0_reviewed.sql: canceling statement due to lock timeout (SQLSTATE 55P03); attempt 2 of 3 in 300 ms",
      "releases/2.6.0/migrations/2.6.0_reviewed.sql: canceling statement due to lock timeout (SQLSTATE 55P03); attempt 3 of 3 in 600 ms",
    ]);
    expect(elapsed).toBeGreaterThanOrEqual(3 * 300 + 300 + 600);
    expect(await readerWaited).toBeLessThan(300 + 500);
    expect(await columnsOf(url, "diagnostics")).not.toContain("reviewed");
    expect((await historyOf(url)).filter((r) => r.version === "2.6.0")).toEqual([]);

    await reader.query("COMMIT");
    const done = await migrate({ root, target: "2.6.0", databaseUrl: url, lockTimeoutMs: 300 });
    expect(done.steps.map((s) => s.status)).toEqual(["applied"]);
  });
});

describe.each(targets)("one round trip per migration on $name", (target: PostgresTarget) => {
  async function database(): Promise<string> {
    const db = await freshDatabase(target);
    cleanups.push(db.drop);
    return db.url;
  }

  it("records the duration the server measured, and runs files that end without a semicolon or newline", async () => {
    const url = await database();
    const root = withRelease260({
      "2.6.0_1_slow.sql": "CREATE TABLE slow (id int);\nSELECT pg_sleep(0.3);\n",
      "2.6.0_2_open.sql": "CREATE TABLE open_end (id int)",
      "2.6.0_3_comment.sql": "CREATE TABLE commented (id int); -- the last line, no newline",
    });
    await migrate({ root, target: NIGHTLY, databaseUrl: url });
    const events: MigrationEvent[] = [];
    const result = await migrate({
      root,
      target: "2.6.0",
      databaseUrl: url,
      onProgress: (e) => events.push(e),
    });

    expect(result.steps.map((s) => [s.file, s.status])).toEqual([
      ["migrations/2.6.0_1_slow.sql", "applied"],
      ["migrations/2.6.0_2_open.sql", "applied"],
      ["migrations/2.6.0_3_comment.sql", "applied"],
    ]);
    expect(result.steps[0]?.durationMs).toBeGreaterThanOrEqual(300);
    const rows = (await historyOf(url)).filter((r) => r.version === "2.6.0");
    expect(rows.map((r) => [r.file, r.success])).toEqual([
      ["migrations/2.6.0_1_slow.sql", true],
      ["migrations/2.6.0_2_open.sql", true],
      ["migrations/2.6.0_3_comment.sql", true],
    ]);
    expect(rows[0]?.duration_ms).toBeGreaterThanOrEqual(300);
    expect(rows[0]?.duration_ms).toBeLessThan(5000);
    for (const table of ["slow", "open_end", "commented"])
      expect(await hasTable(url, table)).toBe(true);
    expect(events.filter((e) => e.type === "notice")).toEqual([]);
  });

  it.each([
    [
      "at the end of a file without its semicolon",
      "CREATE TABLE t1 (id int);\nCREATE TABLE t2 (",
      "syntax error at end of input (SQLSTATE 42601, line 2, column 18)",
      { line: 2, column: 18 },
    ],
    [
      "inside a file that ends with its semicolon",
      "CREATE TABLE t1 (id int);\nCREATE TABLE t2 (id int,);\n",
      'syntax error at or near ")" (SQLSTATE 42601, line 2, column 25)',
      { line: 2, column: 25 },
    ],
    [
      "after a multi-byte character",
      "CREATE TABLE t1 (id int); -- ümlaut 😀\nSELECT 'é', nope;\n",
      'column "nope" does not exist (SQLSTATE 42703, line 2, column 13)',
      { line: 2, column: 13 },
    ],
  ])(
    "reports an error %s at the file's own line and column, runs nothing of it, and warns of nothing",
    async (_name, sql, reported, where) => {
      const url = await database();
      const root = withRelease260({ "2.6.0_broken.sql": sql });
      await migrate({ root, target: NIGHTLY, databaseUrl: url });
      const events: MigrationEvent[] = [];
      const error = await failureOf(
        migrate({ root, target: "2.6.0", databaseUrl: url, onProgress: (e) => events.push(e) }),
      );
      expect(error).toBeInstanceOf(MigrationFailedError);
      expect(error.message).toBe(
        `releases/2.6.0/migrations/2.6.0_broken.sql (release 2.6.0, migrate) failed: ${reported}; it was rolled back: nothing of it was applied`,
      );
      expect((error as MigrationFailedError).where).toEqual({
        file: "releases/2.6.0/migrations/2.6.0_broken.sql",
        ...where,
      });
      expect(await hasTable(url, "t1")).toBe(false);
      expect((await historyOf(url)).filter((r) => r.version === "2.6.0")).toEqual([]);
      expect(events.filter((e) => e.type === "notice")).toEqual([]);
    },
  );
});

describe.each(targets)("the history row's prepared INSERT on $name", (target: PostgresTarget) => {
  it("survives a migration that drops the session's prepared statements, and records who ran it either way", async () => {
    const db = await freshDatabase(target);
    cleanups.push(db.drop);
    const root = withRelease260({
      "2.6.0_1_a.sql": "CREATE TABLE a (id int);\n",
      "2.6.0_2_deallocate.sql": "CREATE TABLE b (id int);\nDEALLOCATE ALL;\n",
      "2.6.0_3_c.sql": "CREATE TABLE c (id int);\n",
    });
    await migrate({ root, target: NIGHTLY, databaseUrl: db.url });
    const result = await migrate({ root, target: "2.6.0", databaseUrl: db.url });
    expect(result.steps.map((s) => s.status)).toEqual(["applied", "applied", "applied"]);
    const rows = (await historyOf(db.url)).filter((r) => r.version === "2.6.0");
    expect(rows.map((r) => [r.file, r.applied_by, r.success])).toEqual([
      ["migrations/2.6.0_1_a.sql", "postgres", true],
      ["migrations/2.6.0_2_deallocate.sql", "postgres", true],
      ["migrations/2.6.0_3_c.sql", "postgres", true],
    ]);
    for (const table of ["a", "b", "c"]) expect(await hasTable(db.url, table)).toBe(true);
  });
});
