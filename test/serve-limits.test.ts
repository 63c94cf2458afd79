/**
 * `pinline serve` bounds every client (create-server.ts SERVER_LIMITS): event streams in all and
 * per client address answer 503 with Retry-After past their caps while checks and health keep
 * answering; a client that sends its headers or its body too slowly is cut off; a peer past its
 * share of connections is closed; the update-check memo holds only valid answers, bounded in
 * entries and bytes. Real HTTP on loopback: distinct client addresses are distinct loopback
 * source addresses (127.0.0.0/8 is all loopback on Linux). No database is needed for these
 * routes: the server is started without migrating, on a database URL nothing listens on.
 */
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFeed } from "../src/feed/build-feed.js";
import { generateFeedKeys } from "../src/feed/keys.js";
import { copyExample, removeCopies } from "./harness/example-repo.js";
import {
  cleanUp,
  type EventStream,
  openEvents,
  request,
  startServer,
  tempDir,
} from "./harness/update-server.js";

const NO_DATABASE = "postgres://pinline@127.0.0.1:9/none";
let feed: string;

beforeAll(async () => {
  feed = join(tempDir(), "feed");
  await buildFeed({ root: copyExample(), out: feed, keys: generateFeedKeys() });
});

afterAll(async () => {
  await cleanUp();
  removeCopies();
});

/** GET from a given loopback source address: a distinct client, as the server sees it. */
function getFrom(localAddress: string, url: string, headers: Record<string, string> = {}) {
  return request(url, { headers, localAddress });
}

/** A raw TCP connection that sends `text`, and resolves what the server answered when it closes. */
function rawExchange(port: number, text: string): { socket: Socket; closed: Promise<string> } {
  const socket = connect(port, "127.0.0.1");
  let answer = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    answer += chunk;
  });
  socket.on("error", () => {});
  socket.write(text);
  return { socket, closed: new Promise((resolve) => socket.once("close", () => resolve(answer))) };
}

describe("event streams", () => {
  it("are capped in all and per client address, with 503 and Retry-After, while checks answer", async () => {
    const server = await startServer({
      feed,
      databaseUrl: NO_DATABASE,
      migrate: false,
      limits: { eventStreams: 5, eventStreamsPerClient: 2 },
    });
    const events = `${server.url}/api/v1/updates/events?current=2.4.0`;
    const open: EventStream[] = [];
    open.push(await openEvents(events, {}, "127.0.0.2"), await openEvents(events, {}, "127.0.0.2"));
    const third = await getFrom("127.0.0.2", events);
    expect(third.status).toBe(503);
    expect(third.json).toMatchObject({ error: "too_many_streams" });
    expect(third.json.message).toContain("this client address holds its maximum of 2");
    expect(third.headers["retry-after"]).toBe("30");
    expect(third.headers.connection).toBe("close");

    for (const address of ["127.0.0.3", "127.0.0.3", "127.0.0.4"]) {
      open.push(await openEvents(events, {}, address));
    }
    const sixth = await getFrom("127.0.0.5", events);
    expect(sixth.status).toBe(503);
    expect(sixth.json.message).toContain("the server holds its maximum of 5 event streams");

    // At the cap, checks and probes still answer.
    const checked = await request(`${server.url}/api/v1/updates/check`, {
      headers: { "X-Current-Version": "2.4.0" },
    });
    expect(checked.status).toBe(200);
    expect((await request(`${server.url}/health/live`)).status).toBe(200);

    // A stream that closes frees its place.
    const first = open.shift() as EventStream;
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    open.push(await openEvents(events, {}, "127.0.0.5"));
    for (const stream of open) stream.close();
  });
});

describe("slow clients", () => {
  it("cut a client that has not sent its headers in time, and one whose body stalls", async () => {
    const server = await startServer({
      feed,
      databaseUrl: NO_DATABASE,
      migrate: false,
      limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000 },
    });
    const port = Number(new URL(server.url).port);
    const started = Date.now();
    const headers = rawExchange(port, "GET /api/v1/updates/check HTTP/1.1\r\nHost: x\r\n");
    const body = rawExchange(
      port,
      'POST /api/v1/updates/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"version":',
    );
    const [headersAnswer, bodyAnswer] = await Promise.all([headers.closed, body.closed]);
    // Node answers 408 Request Timeout and closes: within its deadline and the 1 s checking
    // interval, far below node's defaults (60 s for headers, 300 s for a request).
    expect(headersAnswer).toMatch(/^HTTP\/1\.1 408/);
    expect(bodyAnswer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("close an idle keep-alive connection after its keep-alive time", async () => {
    const server = await startServer({
      feed,
      databaseUrl: NO_DATABASE,
      migrate: false,
      limits: { keepAliveTimeoutMs: 300 },
    });
    const port = Number(new URL(server.url).port);
    const started = Date.now();
    const idle = rawExchange(port, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    const answer = await idle.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    // The server closed it (fastify's default would keep it 72 s, node's 5 s).
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("close a peer's connections past its share, and not another peer's", async () => {
    const server = await startServer({
      feed,
      databaseUrl: NO_DATABASE,
      migrate: false,
      limits: { connectionsPerClient: 3 },
    });
    const port = Number(new URL(server.url).port);
    const held = [1, 2, 3].map(() => connect(port, "127.0.0.1"));
    await Promise.all(held.map((s) => new Promise((resolve) => s.once("connect", resolve))));
    const fourth = rawExchange(port, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await fourth.closed).toBe("");
    const other = await getFrom("127.0.0.9", `${server.url}/health/live`);
    expect(other.status).toBe(200);
    for (const socket of held) socket.destroy();
  });
});

describe("the update-check memo", () => {
  it("remembers no invalid input, and stays within its entries and bytes", async () => {
    const server = await startServer({
      feed,
      databaseUrl: NO_DATABASE,
      migrate: false,
      limits: { answerCacheEntries: 50, answerCacheBytes: 40_000 },
    });
    const check = (version: string, channel = "stable") =>
      request(`${server.url}/api/v1/updates/check`, {
        headers: { "X-Current-Version": version, "X-Channel": channel },
      });
    for (let i = 0; i < 300; i++) {
      expect((await check(`not-a-version-${i}`)).status).toBe(400);
      expect((await check("2.4.0", `custom:nobody-${i}`)).status).toBe(400);
    }
    expect(server.feed.snapshot.cached.entries).toBe(0);
    expect((await check(`2.4.0-beta.${"9".repeat(200)}`)).status).toBe(400);

    for (let i = 0; i < 300; i++) {
      expect((await check(`2.4.0-beta.${i}`)).status).toBe(200);
    }
    const { entries, bytes } = server.feed.snapshot.cached;
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThanOrEqual(50);
    expect(bytes).toBeLessThanOrEqual(40_000);
    const metrics = (await request(`${server.url}/metrics`)).text;
    expect(metrics).toContain(`pinline_serve_answer_cache_entries ${entries}`);
    expect(metrics).toMatch(/pinline_serve_feed_expires_timestamp_seconds \d{10}/);
  });
});
