/**
 * The update server under test: a feed built from a copy of the example repository (releases
 * added on demand), `createUpdateServer` on a fresh database of the harness's PostgreSQL, and
 * clients for its JSON API and its event stream, over http or https.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http, { type IncomingHttpHeaders } from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFeed } from "../../src/feed/build-feed.js";
import { generateFeedKeys } from "../../src/feed/keys.js";
import {
  createUpdateServer,
  type UpdateServer,
  type UpdateServerOptions,
} from "../../src/serve/create-server.js";
import { copyExample, repoRoot, signWithExampleKeys } from "./example-repo.js";
import { freshDatabase, type PostgresTarget } from "./postgres.js";

const cleanups: (() => Promise<void> | void)[] = [];

/** Stops every server, drops every database and removes every folder made so far (afterAll). */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export function tempDir(prefix = "pinline-serve-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function database(target: PostgresTarget): Promise<string> {
  const db = await freshDatabase(target);
  cleanups.push(db.drop);
  return db.url;
}

/** A release of the stable line, added to a copy of the example (no database change). */
export function addRelease(
  root: string,
  version: string,
  options: { mandatory?: boolean; security?: string[]; features?: string[] } = {},
): void {
  const dir = join(root, "releases", version);
  mkdirSync(dir, { recursive: true });
  const list = (items: readonly string[]) => items.map((item) => `\n    - "${item}"`).join("");
  writeFileSync(
    join(dir, "release.yaml"),
    `# yaml-language-server: $schema=../../schemas/release.schema.json
version: "${version}"
channel: stable
releaseDate: "2024-04-02T00:00:00Z"
minimumVersion: "2.0.0"
mandatory: ${options.mandatory === true}
releaseNotes: "https://updates.cm-diagnostics.example.com/releases/${version}"

components:
  backend:
    version: "${version}"
    artifact: "ghcr.io/acme/cm-diagnostics-backend:${version}"
    sha256: "${"ab".repeat(32)}"
    size: 131072000

changelog:
  features:${list(options.features ?? ["Faster rule evaluation"])}
  fixes:
    - "Scan scheduler drift"${options.security ? `\n  security:${list(options.security)}` : ""}
`,
  );
}

export interface ExampleFeed {
  /** The copy of the example repository the feed is built from. */
  root: string;
  /** The feed folder. */
  out: string;
  /** Builds the feed again from `root` (versions continue). */
  rebuild(): Promise<number>;
}

/** The example, with 2.4.2 added (the production policy blocks it), built as a feed. */
export async function exampleFeed(): Promise<ExampleFeed> {
  const root = copyExample();
  addRelease(root, "2.4.2", { security: ["CVE-2024-2222 patched"] });
  const out = join(tempDir("pinline-serve-feed-"), "feed");
  const keys = generateFeedKeys();
  await signNewReleases(root);
  await buildFeed({ root, out, keys });
  return {
    root,
    out,
    rebuild: async () => {
      await signNewReleases(root); // the feed lists only releases that verify
      return (await buildFeed({ root, out, keys, previous: out })).version;
    },
  };
}

/** Signs, with both example keys, every release of `root` that has no signature file yet. */
export async function signNewReleases(root: string): Promise<void> {
  for (const version of readdirSync(join(root, "releases"))) {
    const dir = join(root, "releases", version);
    if (existsSync(join(dir, "release.yaml.asc"))) continue;
    await signWithExampleKeys(root, dir);
  }
}

/** A server listening on a free port of 127.0.0.1, closed by cleanUp(). */
export async function startServer(
  options: Omit<UpdateServerOptions, "port" | "host">,
): Promise<UpdateServer & { readonly url: string }> {
  const server = await createUpdateServer({
    reloadIntervalSeconds: 0,
    ...options,
    port: 0,
    host: "127.0.0.1",
  });
  cleanups.push(() => server.close());
  await server.listen();
  return server as UpdateServer & { readonly url: string };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
  json: any;
}

/** TLS settings of a request: trusted CA, client certificate, protocol bounds. */
export type TlsRequest = Pick<
  https.RequestOptions,
  "ca" | "cert" | "key" | "minVersion" | "maxVersion"
>;

/** One request, its body read whole (JSON parsed when it is JSON). */
export function request(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string | number>;
    body?: string | Buffer;
    tls?: TlsRequest;
    /** The loopback source address to send from (127.0.0.2: another client). */
    localAddress?: string;
  } = {},
): Promise<Answer> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  return new Promise((resolve, reject) => {
    const sent = (secure ? https : http).request(
      target,
      {
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        ...(secure ? options.tls : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const isJson = String(response.headers["content-type"]).startsWith("application/json");
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text,
            json: isJson && text !== "" ? JSON.parse(text) : undefined,
          });
        });
        response.on("error", reject);
      },
    );
    sent.on("error", reject);
    sent.end(options.body);
  });
}

/** A request with a raw path, exactly as written (no URL normalisation of "..", "%2e"). */
export function rawGet(base: string, path: string): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sent = http.request({ host: hostname, port, path, method: "GET", agent: false }, (r) => {
      const chunks: Buffer[] = [];
      r.on("data", (chunk: Buffer) => chunks.push(chunk));
      r.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: r.statusCode ?? 0, headers: r.headers, text, json: undefined });
      });
    });
    sent.on("error", reject);
    sent.end();
  });
}

export interface ServerEvent {
  event: string;
  id?: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON payloads are checked field by field
  data: any;
}

/** An open Server-Sent Events stream, parsed as it arrives. */
export interface EventStream {
  events: ServerEvent[];
  comments: string[];
  /** Resolves with the first event (from the start) matching, or rejects after timeoutMs. */
  waitFor(match: (event: ServerEvent) => boolean, timeoutMs?: number): Promise<ServerEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens GET /api/v1/updates/events; rejects with the answer when it is not a stream. */
export function openEvents(
  url: string,
  headers: Record<string, string> = {},
  localAddress?: string,
): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const options = { headers, agent: false, ...(localAddress ? { localAddress } : {}) };
    const sent = http.get(url, options, (response) => {
      if (response.statusCode !== 200) {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          reject(
            Object.assign(new Error(`HTTP ${response.statusCode}: ${text}`), {
              status: response.statusCode,
              json: JSON.parse(text),
            }),
          );
        });
        return;
      }
      const events: ServerEvent[] = [];
      const comments: string[] = [];
      const waiters: (() => void)[] = [];
      let buffer = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim());
            else {
              const colon = line.indexOf(":");
              fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
            }
          }
          if (fields.data !== undefined) {
            events.push({
              event: fields.event ?? "message",
              ...(fields.id ? { id: fields.id } : {}),
              data: JSON.parse(fields.data),
            });
          }
        }
        for (const waiter of waiters.splice(0)) waiter();
      });
      const ended = new Promise<void>((done) => response.once("end", done));
      resolve({
        events,
        comments,
        ended,
        close: () => sent.destroy(),
        waitFor(match, timeoutMs = 10_000) {
          return new Promise((found, fail) => {
            const timer = setTimeout(
              () =>
                fail(
                  new Error(`no matching event within ${timeoutMs} ms: ${JSON.stringify(events)}`),
                ),
              timeoutMs,
            );
            const look = () => {
              const event = events.find(match);
              if (event) {
                clearTimeout(timer);
                found(event);
              } else waiters.push(look);
            };
            look();
          });
        },
      });
    });
    sent.on("error", reject);
  });
}

/** Waits until `check` passes (for things that happen after an answer, like a comment). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("the condition did not come true in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A `pinline serve` process of the bundle, killed by cleanUp() if it still runs. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Spawns `pinline serve` from the bundle; `listening` resolves once it says where it listens
 * (its output can be read before that, while it waits on the migration lock).
 */
export function spawnServeProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; stderr: () => string; listening: Promise<ServeProcess> } {
  const child = spawn(process.execPath, [join(repoRoot, "dist/cli.js"), "serve", ...args], {
    env: { ...process.env, DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const listening = (async (): Promise<ServeProcess> => {
    await eventually(() => /listening on \S+/.test(stdout) || child.exitCode !== null, 30_000);
    const url = /listening on (\S+)/.exec(stdout)?.[1];
    if (!url) throw new Error(`pinline serve did not start (${child.exitCode}): ${stderr}`);
    return { child, url, stdout: () => stdout, stderr: () => stderr, exited };
  })();
  return { child, stderr: () => stderr, listening };
}

/** Starts `pinline serve` from the bundle and waits for the line that says where it listens. */
export function startServeProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  return spawnServeProcess(args, env).listening;
}
