/**
 * Backups that restore (issue 14, Deliver item 6), on every PostgreSQL target of the harness:
 * tables full of awkward data are backed up, changed and deleted, restored with `pinline
 * restore` as a user runs it, and compared table by table, every row in primary-key order, with
 * the sequences. On Debian's PostgreSQL 15 the backup is pg_dump's custom format; on the
 * embedded PostgreSQL 18, for which no pg_dump 18 is installed, pinline's COPY archive — which
 * also restores on 15. And what a restore refuses: a changed file, a database of another
 * schema, a backup that holds no data, no --yes without a terminal; the folder's retention.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { readBackupMetadata } from "../src/backup/backup-metadata.js";
import { serverVersion } from "../src/backup/connect-database.js";
import { findPostgresTool } from "../src/backup/find-postgres-tool.js";
import { listBackups } from "../src/backup/prune-backups.js";
import { type BackupInput, takeBackup } from "../src/backup/take-backup.js";
import { backupDatabase } from "../src/deploy/backup-database.js";
import { databasesPerTest } from "./harness/databases.js";
import { runPinlineAsync, runPinlineAtTerminal } from "./harness/example-repo.js";
import { DEBIAN_PG15, type PostgresTarget, withClient } from "./harness/postgres.js";

const targets = inject("postgresTargets");
const { database: freshFor, afterDrop } = databasesPerTest();
const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

async function backupDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pinline-backup-test-"));
  folders.push(dir);
  return dir;
}

/** Two tables with a foreign key (and one on itself), an identity column and a serial, a
 * generated column, an enum, arrays, jsonb, bytea, NaN and infinities, a trigger, a table
 * without a primary key in a schema whose name needs quotes, and a free-standing sequence. */
const SCHEMA = `
CREATE TYPE mood AS ENUM ('calm', 'tense');
CREATE TABLE authors (
  id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name    text NOT NULL,
  bio     text,
  mood    mood,
  born    date,
  photo   bytea,
  tags    text[],
  profile jsonb,
  score   double precision,
  balance numeric(12, 2),
  seen    timestamptz,
  shift   interval
);
CREATE TABLE posts (
  id        bigserial PRIMARY KEY,
  author_id integer NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
  parent_id bigint REFERENCES posts (id),
  title     text NOT NULL,
  body      text,
  words     integer GENERATED ALWAYS AS (length(coalesce(body, ''))) STORED
);
CREATE TABLE audit (id bigserial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION log_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO audit (what) VALUES ('post ' || NEW.id); RETURN NEW; END $$;
CREATE TRIGGER posts_audit AFTER INSERT ON posts FOR EACH ROW EXECUTE FUNCTION log_post();
CREATE SCHEMA "Sales";
CREATE TABLE "Sales"."Order Lines" ("Qty" integer, note text);
CREATE SEQUENCE invoice_numbers START 1000;
`;

const DATA = `
INSERT INTO authors (name, bio, mood, born, photo, tags, profile, score, balance, seen, shift) VALUES
  ('O''Brien', E'line one\\nline two\\ttabbed \\\\ backslash\\r\\n', 'calm', '1970-01-01',
   '\\x00ff10'::bytea, ARRAY['a,b', NULL, '"q"', ''], '{"a": [1, null, "x\\"y"], "ü": true}',
   'NaN', 12345.67, '2024-03-15 10:00:00+02', '1 day 02:03:04'),
  ('Zoë 🚀 «quotes» 日本', NULL, NULL, NULL, NULL, NULL, NULL, '-Infinity', NULL, NULL, NULL),
  (E'\\\\.', E'\\\\.\\n\\\\.', 'tense', 'infinity', ''::bytea, '{}', 'null', 0.30000000000000004,
   -0.01, 'epoch', '-1 year'),
  (repeat('long ', 60000), NULL, NULL, NULL, decode(repeat('00ff7f80', 50000), 'hex'), NULL,
   NULL, 1e308, NULL, NULL, NULL);
INSERT INTO posts (id, author_id, parent_id, title, body) VALUES (100004, 1, NULL, 'parent', 'a b');
INSERT INTO posts (id, author_id, parent_id, title, body) VALUES (100001, 2, 100004, 'child', NULL);
-- The parent's new row version now lies after its child's: a restore must not need the order.
UPDATE posts SET title = 'parent, edited' WHERE id = 100004;
INSERT INTO posts (author_id, title, body)
  SELECT 1 + i % 4, 'post ' || i, repeat('word ', i % 7) FROM generate_series(1, 3000) AS i;
INSERT INTO "Sales"."Order Lines" VALUES (1, 'a'), (1, 'a'), (NULL, NULL), (2, E'tab\\there');
SELECT nextval('invoice_numbers'), nextval('invoice_numbers');
`;

/** What happens after the backup: rows deleted, changed and added, sequences moved on. */
const CHANGES = `
DELETE FROM posts WHERE id % 3 = 0;
UPDATE authors SET name = 'changed', photo = NULL;
INSERT INTO authors (name) VALUES ('added after the backup');
INSERT INTO "Sales"."Order Lines" VALUES (9, 'late');
DELETE FROM audit WHERE id < 100;
SELECT nextval('invoice_numbers');
`;

const TABLES = [
  { name: "public.authors", order: "id" },
  { name: "public.posts", order: "id" },
  { name: "public.audit", order: "id" },
  { name: '"Sales"."Order Lines"', order: "t::text" },
];

/** Every table's rows as PostgreSQL prints them, in primary-key order; every sequence. */
async function contents(url: string): Promise<Record<string, string[]>> {
  return withClient(url, async (client) => {
    const result: Record<string, string[]> = {};
    for (const table of TABLES) {
      const { rows } = await client.query<{ row: string }>(
        `SELECT t::text AS row FROM ${table.name} AS t ORDER BY ${table.order}`,
      );
      result[table.name] = rows.map((r) => r.row);
    }
    const sequences = await client.query<{ row: string }>(
      `SELECT format('%s.%s %s', schemaname, sequencename, last_value) AS row FROM pg_sequences
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    result.sequences = sequences.rows.map((r) => r.row);
    return result;
  });
}

async function filledDatabase(target: PostgresTarget): Promise<string> {
  const url = await freshFor(target);
  await withClient(url, async (client) => {
    await client.query(SCHEMA);
    await client.query(DATA);
  });
  return url;
}

function backup(url: string, dir: string, more: Partial<BackupInput> = {}) {
  return takeBackup({
    databaseUrl: url,
    dir,
    environment: "qa",
    from: "2.4.0",
    to: "2.4.1",
    schemaVersion: "2.4.0",
    at: new Date(),
    ...more,
  });
}

/** A machine without pg_dump: the COPY archive is what is left. */
const NO_PG_DUMP: BackupInput["findTool"] = async () => ({ why: "no pg_dump here (the test)" });

const restore = (file: string, url: string, ...more: string[]) =>
  runPinlineAsync(["restore", file, "--database-url", url, ...more]);

const expectClear = (run: { stderr: string }) => {
  expect(run.stderr).not.toContain("internal error");
  expect(run.stderr).not.toMatch(/\n\s+at /);
};

describe.each(targets)("backup and restore on $name", (target: PostgresTarget) => {
  it("restores the backup a deploy would take, table by table, with its sequences", async () => {
    const url = await filledDatabase(target);
    const before = await contents(url);
    expect(before["public.posts"]).toHaveLength(3002);
    const { major } = await withClient(url, serverVersion);
    const pgDump = await findPostgresTool("pg_dump", major);
    const taken = await backup(url, await backupDir());
    expect(taken.method).toBe(pgDump.found ? "pg_dump" : "copy-archive");
    if (target.name === "debian 15") {
      expect(taken.method).toBe("pg_dump");
      expect(taken.detail).toContain("pg_dump custom format (pg_dump (PostgreSQL) 15.");
    }
    if (major === "18" && existsSync(join(DEBIAN_PG15, "pg_dump"))) {
      // The harness's case: Debian has only pg_dump 15, which refuses a PostgreSQL 18 server.
      expect(taken.detail).toMatch(/COPY archive \(no pg_dump 18 in .*, only pg_dump 15 \(/);
    }
    if (!pgDump.found) {
      expect(taken.detail).toContain(
        `schema 2.4.0; pinline's COPY archive (${pgDump.why}): 4 tables, 6012 rows, 4 sequences → ${taken.file}`,
      );
    }
    expect(taken.holdsData).toBe(true);
    const { metadata } = readBackupMetadata(taken.file);
    expect(metadata).toMatchObject({ environment: "qa", from: "2.4.0", to: "2.4.1" });
    expect(metadata.sha256).toMatch(/^[0-9a-f]{64}$/);

    await withClient(url, (c) => c.query(CHANGES));
    expect(await contents(url)).not.toEqual(before);
    const run = await restore(taken.file, url, "--yes");
    expectClear(run);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("restored qa's backup of");
    const after = await contents(url);
    for (const table of Object.keys(before)) expect(after[table], table).toEqual(before[table]);
    // The trigger did not fire while the rows came back; the identity goes on where it was.
    const next = await withClient(url, (c) =>
      c.query<{ id: number }>("INSERT INTO authors (name) VALUES ('next') RETURNING id"),
    );
    expect(next.rows[0]?.id).toBe(5);
  });

  it("restores pinline's COPY archive, whatever pg_dump this machine has", async () => {
    const url = await filledDatabase(target);
    const before = await contents(url);
    const taken = await backup(url, await backupDir(), { findTool: NO_PG_DUMP });
    expect(taken.method).toBe("copy-archive");
    expect(readFileSync(taken.file, "utf8")).toMatch(/^-- pinline data archive 1/);
    await withClient(url, (c) => c.query(CHANGES));
    const run = await restore(taken.file, url, "--yes", "--json");
    expectClear(run);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.tables).toEqual([
      { name: "Sales.Order Lines", rows: 4 },
      { name: "public.audit", rows: 3002 },
      { name: "public.authors", rows: 4 },
      { name: "public.posts", rows: 3002 },
    ]);
    expect(await contents(url)).toEqual(before);
  });

  it("refreshes the materialized views over the restored tables (a COPY archive holds no view data)", async () => {
    const url = await filledDatabase(target);
    await withClient(url, (c) =>
      c.query(
        "CREATE MATERIALIZED VIEW post_counts AS SELECT author_id, count(*) AS posts FROM posts GROUP BY author_id; CREATE MATERIALIZED VIEW busiest AS SELECT max(posts) AS most FROM post_counts",
      ),
    );
    const view = () =>
      withClient(url, async (c) => ({
        counts: (await c.query("SELECT * FROM post_counts ORDER BY author_id")).rows,
        most: (await c.query("SELECT most FROM busiest")).rows,
      }));
    const before = await view();
    const taken = await backup(url, await backupDir(), { findTool: NO_PG_DUMP });
    await withClient(url, (c) =>
      c.query(
        `${CHANGES}; REFRESH MATERIALIZED VIEW post_counts; REFRESH MATERIALIZED VIEW busiest`,
      ),
    );
    expect(await view()).not.toEqual(before);
    const run = await restore(taken.file, url, "--yes", "--json");
    expectClear(run);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).refreshed).toEqual(["public.post_counts", "public.busiest"]);
    expect(JSON.parse(run.stdout).summary).toContain("2 materialized views refreshed");
    expect(await view()).toEqual(before);
  });

  it("refuses a COPY archive for a database of another schema, and changes nothing", async () => {
    const url = await filledDatabase(target);
    const taken = await backup(url, await backupDir(), { findTool: NO_PG_DUMP });
    await withClient(url, async (c) => {
      await c.query(CHANGES);
      await c.query("ALTER TABLE posts ADD COLUMN canary_note text");
    });
    const changed = await contents(url);
    const run = await restore(taken.file, url, "--yes");
    expectClear(run);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "pinline: error: the database's tables are not those of the backup (taken at schema 2.4.0), so nothing was restored: public.posts has canary_note (text), which the backup does not",
    );
    expect(run.stderr).toContain(
      "(restore onto a database at schema 2.4.0: migrate it there first (pinline migrate --release releases/2.4.0",
    );
    expect(await contents(url)).toEqual(changed);
  });

  it("refuses a backup whose file changed since it was written", async () => {
    const url = await filledDatabase(target);
    const taken = await backup(url, await backupDir());
    await withClient(url, (c) => c.query(CHANGES));
    const changed = await contents(url);
    const bytes = readFileSync(taken.file);
    const middle = bytes.length >> 1;
    bytes.writeUInt8((bytes.readUInt8(middle) ^ 0x01) & 0xff, middle); // one bit flipped
    writeFileSync(taken.file, bytes);
    const run = await restore(taken.file, url, "--yes");
    expectClear(run);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /pinline: error: .* is not the file that was backed up: its sha256 is [0-9a-f]{64}, its sidecar says [0-9a-f]{64}; nothing was restored/,
    );
    expect(await contents(url)).toEqual(changed);
  });

  it("refuses to restore without --yes when there is no terminal to ask (exit 2)", async () => {
    const url = await filledDatabase(target);
    const taken = await backup(url, await backupDir());
    await withClient(url, (c) => c.query(CHANGES));
    const changed = await contents(url);
    const run = await restore(taken.file, url);
    expectClear(run);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /pinline: error: restoring qa's backup of .* \(schema 2\.4\.0, before 2\.4\.0 → 2\.4\.1\) would replace the data of 127\.0\.0\.1:\d+\/pinline_test_\w+, and there is no terminal to ask/,
    );
    expect(run.stderr).toContain("(pass --yes to confirm)");
    expect(await contents(url)).toEqual(changed);
  });

  it("at a terminal asks first, and restores only when told yes", async (context) => {
    if (!existsSync("/usr/bin/script")) {
      console.warn("skipped: util-linux script(1), which gives the CLI a terminal, is missing");
      context.skip();
    }
    const url = await filledDatabase(target);
    const before = await contents(url);
    const taken = await backup(url, await backupDir(), { findTool: NO_PG_DUMP });
    await withClient(url, (c) => c.query(CHANGES));
    const changed = await contents(url);
    const atTerminal = (answer: string) =>
      runPinlineAtTerminal(["restore", taken.file, "--database-url", url], answer);
    const no = atTerminal("no");
    expect(no.stdout).toMatch(
      /Restore qa's backup of .* into .*\? Its data is replaced\. Type yes/,
    );
    expect(no.stdout).toContain("restore cancelled: nothing was changed");
    expect(no.code).toBe(1);
    expect(await contents(url)).toEqual(changed);
    const yes = atTerminal("yes");
    expect(yes.stdout).toContain("restored qa's backup of");
    expect(yes.code).toBe(0);
    expect(await contents(url)).toEqual(before);
  });

  it("says plainly when the data is NOT backed up, and restore refuses that snapshot", async () => {
    const url = await filledDatabase(target);
    // A role that may connect but not read posts: neither pg_dump nor COPY can take the data.
    const role = `pinline_reader_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    await withClient(url, async (c) => {
      await c.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pinline-test'`);
      await c.query(`GRANT USAGE ON SCHEMA public, "Sales" TO ${role}`);
      await c.query(`GRANT SELECT ON authors, audit, "Sales"."Order Lines" TO ${role}`);
    });
    afterDrop(() =>
      withClient(target.url, (c) => c.query(`DROP ROLE IF EXISTS ${role}`)).then(() => {}),
    );
    const limited = new URL(url);
    limited.username = role;
    limited.password = "pinline-test";
    const taken = await backup(limited.toString(), await backupDir());
    expect(taken.method).toBe("schema-only");
    expect(taken.holdsData).toBe(false);
    expect(taken.detail).toMatch(/the data is NOT backed up \(.*permission denied for table posts/);
    expect(taken.detail).toContain("the COPY archive failed");
    const run = await restore(taken.file, url, "--yes");
    expectClear(run);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`pinline: error: ${taken.file}: this backup holds no data:`);
    expect(run.stderr).toContain("permission denied for table posts");
  });

  it("does not pass a COPY archive off as whole when the database holds large objects", async () => {
    const url = await filledDatabase(target);
    await withClient(url, (c) => c.query("SELECT lo_from_bytea(0, 'a large object')"));
    const taken = await backup(url, await backupDir(), { findTool: NO_PG_DUMP });
    expect(taken.method).toBe("schema-only");
    expect(taken.detail).toContain(
      "the data is NOT backed up (no pg_dump here (the test); the COPY archive failed: the database holds 1 large object, which a COPY archive does not hold)",
    );
  });
});

describe("the backup folder", () => {
  const [target] = targets;

  it("keeps exactly the newest keepVersions backups of the environment, and no one else's", async () => {
    if (!target) throw new Error("no PostgreSQL target");
    const url = await filledDatabase(target);
    const dir = await backupDir();
    const step = (environment: string, minute: number) =>
      backupDatabase({
        databaseUrl: url,
        urlEnv: "QA_DB_URL",
        dir,
        environment,
        from: "2.4.0",
        to: "2.4.1",
        schemaVersion: "2.4.0",
        keep: 3,
        at: new Date(Date.UTC(2024, 2, 15, 10, minute)),
        root: dir,
        env: process.env,
        log: () => {},
      });
    await step("staging", 0);
    // A backup of qa that died half-way (its process is gone), and one still being written.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid as number;
    const abandoned = join(dir, `.qa-2.4.1-x.dump.partial-${dead}-0123abcd`);
    const writing = join(dir, `.qa-2.4.1-y.dump.partial-${process.pid}-4567cdef`);
    writeFileSync(abandoned, "half a dump");
    writeFileSync(writing, "a dump in progress");
    const taken = [];
    for (let minute = 1; minute <= 5; minute++) taken.push(await step("qa", minute));
    expect(taken.at(-1)?.detail).toContain("1 older removed (keeping 3)");
    const kept = listBackups(dir, "qa").map((b) => b.file);
    expect(kept).toEqual(
      taken
        .slice(-3)
        .reverse()
        .map((t) => t.backup.file),
    );
    expect(listBackups(dir, "staging")).toHaveLength(1);
    // Nothing else is left: each kept backup and its sidecar, nothing abandoned half-written.
    // The abandoned temporary file is gone; the one a live process writes is not touched.
    expect(readdirSync(dir).sort()).toEqual(
      [...kept, ...listBackups(dir, "staging").map((b) => b.file)]
        .flatMap((file) => [file, `${file}.json`])
        .concat(writing)
        .map((file) => file.slice(dir.length + 1))
        .sort(),
    );
  });
});
