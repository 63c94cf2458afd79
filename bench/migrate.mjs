// Benchmark of the migration runner (DESIGN §7, issue 4): 1,000 trivial migrations applied
//   a. by `pinline migrate` (each migration and its history row in one transaction),
//   b. by node-pg-migrate with --no-single-transaction (each migration in its own transaction),
//   c. by `psql -f` in one session, each migration wrapped in BEGIN/COMMIT (the floor),
// each on a fresh database of one throwaway PostgreSQL server, run by run interleaved; then a
// no-op `pinline migrate` over the 1,000 applied migrations (the cost of checking checksums).
// The machine is shared and noisy: compare the ratios, not the absolute times.
//
// Usage: node bench/migrate.mjs [--quick]   (--quick: 100 migrations, 2 runs)

import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freshDatabase, median, startServer } from "./postgres.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const COUNT = quick ? 100 : 1000;
const RUNS = quick ? 2 : 3;

const work = mkdtempSync(join(tmpdir(), "pinline-bench-migrate-"));
chmodSync(work, 0o777);
let server;
try {
  server = await startServer(work);
  const tree = generatePinlineTree(join(work, "pinline"));
  const npmDir = generateNodePgMigrate(join(work, "node-pg-migrate"));
  const psqlFile = generatePsqlFile(join(work, "all.sql"));

  const contenders = {
    pinline: (db) =>
      exec(process.execPath, [
        join(repo, "dist/cli.js"),
        "migrate",
        "--unsigned",
        "--root",
        tree,
        "--release",
        join(tree, "releases/1.0.0"),
        "--database-url",
        db,
      ]),
    "node-pg-migrate": (db) =>
      exec(
        process.execPath,
        [
          join(repo, "node_modules/node-pg-migrate/bin/node-pg-migrate.js"),
          "up",
          "--migrations-dir",
          npmDir,
          "--migration-file-language",
          "sql",
          "--no-single-transaction",
          "--no-check-order",
        ],
        { DATABASE_URL: db },
      ),
    psql: (db) => exec("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", psqlFile]),
  };
  const timed = (fn) => {
    const started = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };

  const results = { pinline: [], "node-pg-migrate": [], psql: [], noop: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const [contender, apply] of Object.entries(contenders)) {
      const db = await freshDatabase(server.url);
      results[contender].push(timed(() => apply(db)));
      await expectTables(db, COUNT, contender);
      // Again on the migrated database: nothing to do but verify every applied checksum.
      if (contender === "pinline") results.noop.push(timed(() => apply(db)));
    }
  }
  results.parse = await parseCost(tree);
  printTable(results);
} finally {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
}

/**
 * What PostgreSQL's parser adds to a run: the calls pinline makes for each file to run (parse;
 * scan too when the file has comments, see src/db/parse-sql.ts), each time in a fresh process,
 * as a run is — WebAssembly start-up and a cold JIT included.
 */
async function parseCost(root) {
  const dir = join(root, "releases/1.0.0/migrations");
  const script = `
    const { readdirSync, readFileSync } = await import("node:fs");
    const started = process.hrtime.bigint();
    const parser = await import("libpg-query");
    await parser.loadModule();
    for (const file of readdirSync(${JSON.stringify(dir)})) {
      const text = readFileSync(${JSON.stringify(dir)} + "/" + file, "utf8");
      parser.parseSync(text);
      if (text.includes("--") || text.includes("/*")) parser.scanSync(text);
    }
    console.log(Number(process.hrtime.bigint() - started) / 1e6);`;
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: repo,
      encoding: "utf8",
    });
    times.push(Number(out.trim()));
  }
  return times;
}

function exec(command, args, env = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", env: { ...process.env, ...env } });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.slice(0, 3).join(" ")} failed (${result.status}):\n${result.stderr || result.stdout}`,
    );
  }
}

/** One release with COUNT migrations and the rollbacks that undo them. */
function name(i) {
  return String(i).padStart(4, "0");
}

function generatePinlineTree(root) {
  for (const dir of ["schemas"]) cpSync(join(repo, dir), join(root, dir), { recursive: true });
  const release = join(root, "releases/1.0.0");
  mkdirSync(join(release, "migrations"), { recursive: true });
  mkdirSync(join(release, "rollback"), { recursive: true });
  const migrations = [];
  const rollbacks = [];
  for (let i = 1; i <= COUNT; i++) {
    const m = `migrations/0.0.0-1.0.0_${name(i)}.sql`;
    const r = `rollback/1.0.0-0.0.0_${name(COUNT + 1 - i)}.sql`;
    const forward = `CREATE TABLE bench_${name(i)} (id integer);\n`;
    const backward = `DROP TABLE bench_${name(i)};\n`;
    writeFileSync(join(release, m), forward);
    writeFileSync(join(release, r), backward);
    migrations.push(
      `{ file: ${m}, sha256: "${createHash("sha256").update(forward).digest("hex")}" }`,
    );
    rollbacks.push(
      `{ file: ${r}, sha256: "${createHash("sha256").update(backward).digest("hex")}" }`,
    );
  }
  rollbacks.sort();
  writeFileSync(
    join(release, "release.yaml"),
    [
      "# yaml-language-server: $schema=../../schemas/release.schema.json",
      'version: "1.0.0"',
      "channel: stable",
      'releaseDate: "2024-01-01T00:00:00Z"',
      "components:",
      `  backend: { version: "1.0.0", artifact: "ghcr.io/acme/bench:1.0.0", sha256: "${"0".repeat(64)}", size: 0 }`,
      "database:",
      "  migrations:",
      ...migrations.map((m) => `    - ${m}`),
      "  rollback:",
      ...rollbacks.map((r) => `    - ${r}`),
      "",
    ].join("\n"),
  );
  return root;
}

function generateNodePgMigrate(dir) {
  mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= COUNT; i++) {
    writeFileSync(
      join(dir, `${1_000_000_000_000 + i}_bench_${name(i)}.sql`),
      `-- Up Migration\nCREATE TABLE bench_${name(i)} (id integer);\n-- Down Migration\nDROP TABLE bench_${name(i)};\n`,
    );
  }
  return dir;
}

function generatePsqlFile(file) {
  const lines = [];
  for (let i = 1; i <= COUNT; i++)
    lines.push(`BEGIN;\nCREATE TABLE bench_${name(i)} (id integer);\nCOMMIT;`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

async function expectTables(url, count, contender) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(
    "select count(*)::int as n from pg_tables where tablename like 'bench_%'",
  );
  await client.end();
  if (rows[0].n !== count)
    throw new Error(`${contender} created ${rows[0].n} tables, not ${count}`);
}

function printTable(results) {
  const perMigration = (ms) => (ms / COUNT).toFixed(3);
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
  const versus = m.pinline / m["node-pg-migrate"];
  const floor = m.pinline / m.psql;
  const node = execFileSync(process.execPath, ["--version"], { encoding: "utf8" }).trim();
  console.log(`\n### pinline migrate benchmark${quick ? " (--quick)" : ""}\n`);
  console.log(
    `${COUNT} trivial migrations, ${RUNS} runs each on fresh databases, interleaved; Node ${node}; ${new Date().toISOString()}\n`,
  );
  console.log("| Contender | Median | ms per migration |");
  console.log("| --- | ---: | ---: |");
  for (const [k, label] of [
    ["pinline", "`pinline migrate` (one transaction per migration + history row)"],
    ["node-pg-migrate", "node-pg-migrate 9 (`--no-single-transaction`)"],
    ["psql", "`psql -f`, one session, BEGIN/COMMIT per migration (floor)"],
    ["noop", "`pinline migrate` again: nothing to do, every applied checksum verified"],
    ["parse", "of which PostgreSQL's parser reading every file (cold, as a run does)"],
  ]) {
    console.log(`| ${label} | ${(m[k] / 1000).toFixed(3)} s | ${perMigration(m[k])} |`);
  }
  console.log("\n| Target | Actual | Result |");
  console.log("| --- | ---: | :---: |");
  console.log(
    `| pinline ≤ node-pg-migrate | ${versus.toFixed(2)}× | ${versus <= 1 ? "PASS" : "MISS"} |`,
  );
  console.log(
    `| pinline ≤ 1.5× psql floor | ${floor.toFixed(2)}× | ${floor <= 1.5 ? "PASS" : "MISS"} |`,
  );
  const parsing = m.parse / m.pinline;
  console.log(
    `| parsing ≤ 10% of the pinline run | ${(parsing * 100).toFixed(1)}% | ${parsing <= 0.1 ? "PASS" : "MISS"} |`,
  );
  if (versus > 1 || floor > 1.5 || parsing > 0.1) process.exitCode = 1;
}
