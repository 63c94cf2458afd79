/**
 * Two `pinline serve` processes (the bundle, dist/cli.js) on one PostgreSQL behind one
 * address: started together on an empty database, both migrate its schema safely (the runner's advisory lock: each migration
 * once); reports sent through a round-robin loopback proxy reach both and are all stored;
 * statistics agree whichever instance answers; each instance reloads the feed itself and sends
 * its own subscribers the notification; behind the proxy (trusted), the per-client stream cap
 * counts the X-Forwarded-For client, not the proxy. Real HTTP, real PostgreSQL.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { removeCopies } from "./harness/example-repo.js";
import { type PostgresTarget, withClient } from "./harness/postgres.js";
import {
  addRelease,
  cleanUp,
  database,
  type ExampleFeed,
  eventually,
  exampleFeed,
  openEvents,
  request,
  type ServeProcess,
  startServeProcess,
} from "./harness/update-server.js";

const target = inject("postgresTargets")[0] as PostgresTarget;
type Server = ServeProcess;
let feed: ExampleFeed;
let databaseUrl: string;
let servers: Server[];
let proxy: { url: string; served: number[]; close(): Promise<void> };

/**
 * A reverse proxy on loopback: each request to the next upstream in turn, X-Forwarded-For
 * appended with the client's address, the response streamed back (events pass unbuffered).
 */
function startProxy(upstreams: string[]): Promise<typeof proxy> {
  const served = upstreams.map(() => 0);
  let next = 0;
  const server = http.createServer((incoming, outgoing) => {
    const index = next++ % upstreams.length;
    served[index] = (served[index] ?? 0) + 1;
    const upstream = new URL(upstreams[index] as string);
    const forwarded = [incoming.headers["x-forwarded-for"], incoming.socket.remoteAddress]
      .filter(Boolean)
      .join(", ");
    const sent = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, "x-forwarded-for": forwarded },
        agent: false,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    sent.on("error", () => outgoing.destroy());
    outgoing.on("close", () => sent.destroy());
    incoming.pipe(sent);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        served,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    }),
  );
}

/** Starts `pinline serve` from the bundle on the shared feed and database. */
function serve(): Promise<Server> {
  return startServeProcess([
    ...["--port", "0", "--feed", feed.out, "--database-url", databaseUrl],
    ...["--trust-proxy", "127.0.0.1", "--reload-interval", "0"],
    ...["--max-event-streams-per-client", "1"],
  ]);
}

/** SIGHUP, then the line that says the feed was reloaded. */
async function reload(server: Server): Promise<string> {
  const seen = server.stderr().length;
  server.child.kill("SIGHUP");
  await eventually(() => server.stderr().slice(seen).includes("feed reloaded"), 20_000);
  return server.stderr().slice(seen);
}

beforeAll(async () => {
  feed = await exampleFeed();
  databaseUrl = await database(target);
  // Both start at once on the empty database.
  servers = await Promise.all([serve(), serve()]);
  proxy = await startProxy(servers.map((s) => s.url));
});

afterAll(async () => {
  await proxy?.close();
  await cleanUp();
  removeCopies();
});

describe("two instances behind one address", () => {
  it("migrate the shared schema once, whichever started first", async () => {
    const history = await withClient(
      databaseUrl,
      async (c) =>
        (
          await c.query<{ n: string; distinct: string }>(
            "SELECT count(*) AS n, count(DISTINCT version) AS distinct FROM pinline_updates.pinline_schema_migrations",
          )
        ).rows[0],
    );
    expect(Number(history?.n)).toBeGreaterThan(0);
    expect(history?.n).toBe(history?.distinct);
  });

  it("store every report sent through the proxy, from both, and agree on the statistics", async () => {
    const before = [...proxy.served];
    for (let i = 0; i < 20; i++) {
      const answer = await request(`${proxy.url}/api/v1/updates/status`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          version: "2.4.1",
          status: i % 4 === 0 ? "failed" : "completed",
          timestamp: "2024-03-15T10:00:00Z",
          details: { durationSeconds: 10 + i, rolledBack: i % 4 === 0 },
        }),
      });
      expect(answer.status).toBe(202);
    }
    expect(proxy.served.map((n, i) => n - (before[i] ?? 0))).toEqual([10, 10]);
    const stats = await Promise.all([
      ...servers.map((s) => request(`${s.url}/api/v1/updates/stats`)),
      request(`${proxy.url}/api/v1/updates/stats`),
    ]);
    expect(stats[0]?.json).toMatchObject({ total: 20, attempts: 20, failed: 5, rollbacks: 5 });
    expect(stats[1]?.json).toEqual(stats[0]?.json);
    expect(stats[2]?.json).toEqual(stats[0]?.json);
  });

  it("each notify their own subscribers when they reload the feed", async () => {
    // Through the proxy, from two X-Forwarded-For clients (one stream a client is the cap):
    // one stream lands on each instance.
    // 2.4.1 on stable is offered nothing yet (2.4.2 is blocked).
    const events = `${proxy.url}/api/v1/updates/events?current=2.4.1&channel=stable`;
    const first = await openEvents(events, { "X-Forwarded-For": "203.0.113.1" });
    const second = await openEvents(events, { "X-Forwarded-For": "203.0.113.2" });
    for (const server of servers) {
      const metrics = (await request(`${server.url}/metrics`)).text;
      expect(metrics).toContain("pinline_serve_event_subscribers 1");
    }
    addRelease(feed.root, "2.4.3", { security: ["CVE-2024-3333 patched"] });
    const version = await feed.rebuild();
    for (const said of await Promise.all(servers.map(reload))) {
      expect(said).toContain(`feed reloaded: version ${version}`);
    }
    for (const stream of [first, second]) {
      const event = await stream.waitFor((e) => e.event === "notification");
      expect(event.data.version).toBe("2.4.3");
      stream.close();
    }
  });

  it("count a stream cap per X-Forwarded-For client behind the trusted proxy", async () => {
    const events = `${servers[0]?.url}/api/v1/updates/events?current=2.4.0`;
    const held = await openEvents(events, { "X-Forwarded-For": "198.51.100.7" });
    const refused = await request(events, { headers: { "X-Forwarded-For": "198.51.100.7" } });
    expect(refused.status).toBe(503);
    const other = await openEvents(events, { "X-Forwarded-For": "198.51.100.8" });
    held.close();
    other.close();
  });
});
