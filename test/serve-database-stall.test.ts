/**
 * A stalled database answers 503 quickly instead of hanging `pinline serve`: on a PostgreSQL
 * server of the test's own, frozen with SIGSTOP (the postmaster and every backend: connections
 * wait in the kernel's backlog and no query is ever answered), a status report and the
 * readiness probe answer 503 within the pool's bounds (report-store.ts: connection 2 s, query
 * 5 s on the client's clock, probe 2 s), update checks answer at once, no answer carries the
 * database's error text, and after SIGCONT reports are stored again. The bounds are
 * node-postgres's own: pg-pool's connectionTimeoutMillis ("timeout exceeded when trying to
 * connect", pg-pool/index.js, also for a wait in the pool's queue) and pg's query_timeout
 * (lib/client.js, a timer on the client's clock, read from the pool's config or the query's);
 * statement_timeout is the server's, which a frozen server never applies. The shared test
 * servers are never frozen: other files use them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CrashableServer,
  crashableKinds,
  startCrashable,
} from "./harness/crashable-postgres.js";
import { removeCopies } from "./harness/example-repo.js";
import { cleanUp, exampleFeed, request, startServer } from "./harness/update-server.js";

const kind = crashableKinds()[0];
if (kind === undefined) {
  console.log(
    "serve-database-stall skipped: DATABASE_URL is set, and these tests freeze a server of their own",
  );
}
let postgres: CrashableServer | undefined;

afterAll(async () => {
  postgres?.resume();
  await cleanUp();
  await postgres?.remove();
  removeCopies();
});

const timed = async <T>(run: () => Promise<T>) => {
  const started = Date.now();
  const value = await run();
  return { value, ms: Date.now() - started };
};

describe.skipIf(kind === undefined)("a stalled database", () => {
  let url: string;
  const report = () =>
    request(`${url}/api/v1/updates/status`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        version: "2.4.1",
        status: "completed",
        timestamp: "2024-03-15T10:00:00Z",
      }),
    });

  beforeAll(async () => {
    if (kind === undefined) return;
    postgres = await startCrashable(kind);
    const feed = await exampleFeed();
    url = (await startServer({ feed: feed.out, databaseUrl: postgres.url })).url;
    expect((await report()).status).toBe(202); // the pool holds a connection now
  });

  it("answers reports and readiness 503 within the pool's bounds, and checks at once", async () => {
    postgres?.stall();
    const [stored, ready, checked] = await Promise.all([
      timed(report),
      timed(() => request(`${url}/health/ready`)),
      timed(() =>
        request(`${url}/api/v1/updates/check`, { headers: { "X-Current-Version": "2.4.0" } }),
      ),
    ]);
    expect(checked.value.status).toBe(200);
    expect(checked.ms).toBeLessThan(1000);
    expect(stored.value.status).toBe(503);
    expect(stored.value.json).toMatchObject({
      error: "database_unavailable",
      message: "the update server cannot reach its database",
    });
    expect(stored.value.headers["retry-after"]).toBe("30");
    expect(stored.ms).toBeLessThan(8000);
    expect(ready.value.status).toBe(503);
    expect(ready.value.json).toMatchObject({ database: "unreachable" });
    expect(ready.ms).toBeLessThan(5000);
    for (const answer of [stored.value.text, ready.value.text]) {
      expect(answer).not.toMatch(/timeout|terminated|ECONN|postgres:/i);
    }
    // A new connection meets the frozen postmaster: it is bounded too.
    const again = await timed(report);
    expect(again.value.status).toBe(503);
    expect(again.ms).toBeLessThan(8000);
  });

  it("stores reports again once the database answers", async () => {
    postgres?.resume();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 202; attempt++) {
      status = (await report()).status;
      if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(202);
    expect((await request(`${url}/health/ready`)).status).toBe(200);
  });
});
