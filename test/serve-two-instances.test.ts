/**
 * Two `pinline serve` processes of the bundle (dist/cli.js) on one PostgreSQL behind one
 * address, as an operator runs them: started at the same time on the same empty database and
 * the same feed folder, both with --trust-proxy 127.0.0.1 and --reload-interval 0, behind a
 * round-robin loopback proxy (test/harness/loopback-proxy.ts). They migrate the shared schema
 * once, store every report whichever receives it, answer the same statistics, each notify their
 * own event-stream subscribers when they reload the feed, and log the X-Forwarded-For client.
 */
import type { ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { migrationLockKey } from "../src/db/migration-lock.js";
import { removeCopies, repoRoot } from "./harness/example-repo.js";
import { type LoopbackProxy, startLoopbackProxy } from "./harness/loopback-proxy.js";
import { type PostgresTarget, withClient } from "./harness/postgres.js";
import {
  addRelease,
  cleanUp,
  database,
  type EventStream,
  type ExampleFeed,
  eventually,
  exampleFeed,
  openEvents,
  request,
  type ServeProcess,
  spawnServeProcess,
} from "./harness/update-server.js";

const target = inject("postgresTargets")[0] as PostgresTarget;

type Instance = ServeProcess;

const children: ChildProcess[] = [];
let feed: ExampleFeed;
let databaseUrl: string;
/** [0] is started with --log. */
let instances: Instance[];
let proxy: LoopbackProxy;

const WAITING = "another run holds the migration lock";
const COMMITTED = "committed releases/1.0.0/migrations/0.0.0-1.0.0_update_reports.sql";

/** Spawns `pinline serve` from the bundle; `listening` resolves its URL once it says so. */
function spawnServe(args: string[]) {
  const spawned = spawnServeProcess(args);
  children.push(spawned.child);
  return spawned;
}

/** Stops a child with SIGTERM, and SIGKILL when it has not exited within 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  feed = await exampleFeed();
  databaseUrl = await database(target);
  // A third session holds the migration runner's lock while both start (as a `pinline migrate`
  // in progress would), so that both are seen to queue on it: left alone, the first could be
  // done before the second asks. It lets go once both wait, and they race for it.
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await holder.end();
  };
  try {
    const name = new URL(databaseUrl).pathname.slice(1);
    await holder.query("SELECT pg_advisory_lock($1::bigint)", [migrationLockKey(name).toString()]);
    const args = [
      ...["--port", "0", "--feed", feed.out, "--database-url", databaseUrl],
      ...["--trust-proxy", "127.0.0.1", "--reload-interval", "0"],
    ];
    const started = [spawnServe([...args, "--log"]), spawnServe(args)];
    const waiting = () => started.every((s) => s.stderr().includes(WAITING));
    await eventually(() => waiting() || children.some((c) => c.exitCode !== null), 20_000);
    if (!waiting()) throw new Error(`an instance did not wait: ${started.map((s) => s.stderr())}`);
    await release();
    instances = await Promise.all(started.map((s) => s.listening));
  } finally {
    await release();
  }
  proxy = await startLoopbackProxy(instances.map((instance) => instance.url));
});

afterAll(async () => {
  await Promise.all(children.map(stop));
  await proxy?.close();
  await cleanUp();
  removeCopies();
});

/** Which upstream the proxy sent the requests `send` made to. */
async function routed<T>(send: () => Promise<T>): Promise<{ value: T; upstream: number }> {
  const before = [...proxy.served];
  const value = await send();
  const upstream = proxy.served.findIndex((n, i) => n > (before[i] ?? 0));
  return { value, upstream };
}

const subscribers = (metrics: string) =>
  Number(/^pinline_serve_event_subscribers (\d+)$/m.exec(metrics)?.[1]);

describe("two pinline serve processes behind one address", () => {
  it("migrate the shared schema once when they start together on an empty database", async () => {
    // Both queued on the lock; exactly one ran the migration, the other found it done.
    for (const instance of instances) expect(instance.stderr()).toContain(WAITING);
    expect(instances.filter((i) => i.stderr().includes(COMMITTED))).toHaveLength(1);

    const files = readdirSync(join(repoRoot, "server-schema/releases")).flatMap((version) =>
      readdirSync(join(repoRoot, "server-schema/releases", version, "migrations")).map(
        (file) => `${version} migrations/${file}`,
      ),
    );
    const { history, tables } = await withClient(databaseUrl, async (c) => ({
      history: (
        await c.query<{ migration: string; direction: string; success: boolean; n: number }>(
          `SELECT version || ' ' || file AS migration, direction, success, count(*)::int AS n
             FROM pinline_updates.pinline_schema_migrations
            GROUP BY version, file, direction, success ORDER BY 1`,
        )
      ).rows,
      tables: (
        await c.query<{ table: string }>(
          `SELECT schemaname || '.' || tablename AS table FROM pg_tables
            WHERE tablename IN ('update_reports', 'pinline_schema_migrations') ORDER BY 1`,
        )
      ).rows.map((row) => row.table),
    }));
    expect(files.length).toBeGreaterThan(0);
    expect(history).toEqual(
      files.sort().map((migration) => ({ migration, direction: "migrate", success: true, n: 1 })),
    );
    expect(tables).toEqual([
      "pinline_updates.pinline_schema_migrations",
      "pinline_updates.update_reports",
    ]);
    for (const instance of instances) {
      expect((await request(`${instance.url}/health/ready`)).json).toMatchObject({
        status: "ready",
        database: "ok",
      });
    }
  });

  it("store every report sent through the proxy, whichever instance received it", async () => {
    // 20 installations, each reports in-progress then its outcome; the proxy alternates, so an
    // installation's two reports reach different instances.
    const before = [...proxy.served];
    const ids: number[] = [];
    for (let k = 0; k < 20; k++) {
      const failed = k % 5 === 0;
      const reports = [
        { version: "2.4.1", status: "in-progress", timestamp: "2026-12-01T10:00:00Z" },
        {
          version: "2.4.1",
          status: failed ? "failed" : "completed",
          timestamp: new Date(Date.parse("2026-12-01T10:01:00Z") + k * 1000).toISOString(),
          ...(failed ? { details: { rolledBack: true } } : {}),
        },
      ];
      for (const report of reports) {
        const answer = await request(`${proxy.url}/api/v1/updates/status`, {
          method: "POST",
          headers: { "content-type": "application/json", "X-License-Key": `installation-${k}` },
          body: JSON.stringify(report),
        });
        expect(answer.status, answer.text).toBe(202);
        ids.push(answer.json.id);
      }
    }
    expect(proxy.served.map((n, i) => n - (before[i] ?? 0))).toEqual([20, 20]);
    expect(new Set(ids).size).toBe(40);
    const rows = await withClient(databaseUrl, async (c) => {
      const { rows } = await c.query<{ n: number; installations: number }>(
        "SELECT count(*)::int AS n, count(DISTINCT installation)::int AS installations FROM pinline_updates.update_reports",
      );
      return rows[0];
    });
    expect(rows).toEqual({ n: 40, installations: 20 });
  });

  it("answer the same statistics from each instance and through the proxy", async () => {
    const direct = await Promise.all(
      instances.map((instance) => request(`${instance.url}/api/v1/updates/stats`)),
    );
    const proxied = [
      await routed(() => request(`${proxy.url}/api/v1/updates/stats`)),
      await routed(() => request(`${proxy.url}/api/v1/updates/stats`)),
    ];
    expect(proxied.map((p) => p.upstream).sort()).toEqual([0, 1]);
    // Update times pair an installation's in-progress report on one instance with its
    // completed report on the other: 60 + k seconds for the 16 completed installations.
    expect(direct[0]?.json).toMatchObject({
      total: 40,
      inProgress: 20,
      attempts: 20,
      completed: 16,
      failed: 4,
      rollbacks: 4,
      timedUpdates: 16,
      updateSecondsTotal: 1120,
      averageUpdateSeconds: 70,
    });
    for (const answer of [direct[1], ...proxied.map((p) => p.value)]) {
      expect(answer?.status).toBe(200);
      expect(answer?.json).toEqual(direct[0]?.json);
    }
  });

  it("each send their own subscribers the notification when they reload the feed", async () => {
    const path = "/api/v1/updates/events?channel=stable&current=2.4.1"; // offered nothing yet
    // Two streams through the proxy (one lands on each instance) and one to each directly.
    const held: { stream: EventStream; instance: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const { value, upstream } = await routed(() => openEvents(`${proxy.url}${path}`));
      held.push({ stream: value, instance: upstream });
    }
    expect(held.map((h) => h.instance).sort()).toEqual([0, 1]);
    for (const [instance, { url }] of instances.entries()) {
      held.push({ stream: await openEvents(`${url}${path}`), instance });
    }
    try {
      for (const { url } of instances) {
        expect(subscribers((await request(`${url}/metrics`)).text)).toBe(2);
      }
      addRelease(feed.root, "2.4.3", { security: ["CVE-2024-3333 patched"] });
      const version = await feed.rebuild();
      const check = (url: string) =>
        request(`${url}/api/v1/updates/check`, { headers: { "X-Current-Version": "2.4.1" } });
      const notified = (instance: number) =>
        Promise.all(
          held
            .filter((h) => h.instance === instance)
            .map((h) => h.stream.waitFor((event) => event.event === "notification", 5_000)),
        );

      // The first reloads: its subscribers hear of 2.4.3; the other's, on the old feed, do not.
      const [first, second] = instances as [Instance, Instance];
      first.child.kill("SIGHUP");
      await eventually(() => first.stderr().includes(`feed reloaded: version ${version}`));
      for (const event of await notified(0)) expect(event.data.version).toBe("2.4.3");
      expect(held.filter((h) => h.instance === 1).flatMap((h) => h.stream.events)).toEqual([]);
      expect((await check(second.url)).json).toMatchObject({ updateAvailable: false });

      second.child.kill("SIGHUP");
      await eventually(() => second.stderr().includes(`feed reloaded: version ${version}`));
      for (const event of await notified(1)) expect(event.data.version).toBe("2.4.3");
      for (const { url } of instances) {
        expect((await check(url)).json).toMatchObject({ updateAvailable: true, version: "2.4.3" });
      }
    } finally {
      for (const { stream } of held) stream.close();
    }
    // The proxy closed the upstream streams when their clients went.
    for (const { url } of instances) {
      await eventually(
        async () => subscribers((await request(`${url}/metrics`)).text) === 0,
        5_000,
      );
    }
  });

  it("log the client X-Forwarded-For names behind the trusted proxy, not the proxy", async () => {
    // From 127.0.0.2 with a made-up X-Forwarded-For: the proxy appends 127.0.0.2, the server
    // trusts the proxy (127.0.0.1) only, so the client is 127.0.0.2. Two requests: one reaches
    // the instance that logs.
    const forged = "203.0.113.9";
    for (let i = 0; i < 2; i++) {
      const answer = await request(`${proxy.url}/health/live`, {
        headers: { "X-Forwarded-For": forged },
        localAddress: "127.0.0.2",
      });
      expect(answer.status).toBe(200);
    }
    const logged = () =>
      (instances[0] as Instance)
        .stdout()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.req?.headers?.["x-forwarded-for"] === `${forged}, 127.0.0.2`);
    await eventually(() => logged().length > 0, 5_000);
    expect(logged()).toHaveLength(1);
    expect(logged()[0]?.req).toMatchObject({
      method: "GET",
      url: "/health/live",
      remoteAddress: "127.0.0.2",
    });
  });
});
