/**
 * Bad input to `pinline serve` is a 400 naming the field, never a database outage: the request
 * schema refuses what PostgreSQL cannot store (NUL, lone surrogates), what JavaScript cannot
 * read (a leap second), nesting past its limit and numbers past their range; nothing is
 * stored; no answer carries PostgreSQL's error text; and no stored value can break the
 * statistics. Real HTTP, real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { removeCopies } from "./harness/example-repo.js";
import { type PostgresTarget, withClient } from "./harness/postgres.js";
import { cleanUp, database, exampleFeed, request, startServer } from "./harness/update-server.js";

const target = inject("postgresTargets")[0] as PostgresTarget;
let databaseUrl: string;
let url: string;

beforeAll(async () => {
  const feed = await exampleFeed();
  databaseUrl = await database(target);
  url = (await startServer({ feed: feed.out, databaseUrl })).url;
});

afterAll(async () => {
  await cleanUp();
  removeCopies();
});

const rows = () =>
  withClient(databaseUrl, async (c) =>
    Number(
      (await c.query<{ n: string }>("SELECT count(*) AS n FROM pinline_updates.update_reports"))
        .rows[0]?.n,
    ),
  );

const post = (body: string) =>
  request(`${url}/api/v1/updates/status`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });

const base = { version: "2.4.1", status: "completed", timestamp: "2024-03-15T10:00:00Z" };
const deep = (levels: number): unknown => (levels === 0 ? "leaf" : { next: deep(levels - 1) });

describe("POST /api/v1/updates/status refuses", () => {
  it.each([
    {
      name: "a NUL byte in a free-form field",
      body: JSON.stringify({ ...base, details: { note: "a\u0000b" } }),
      field: "body.details.note contains a NUL character",
    },
    {
      name: "a NUL byte in the version",
      body: JSON.stringify({ ...base, version: "2.4.1\u0000" }),
      field: "body.version contains a NUL character",
    },
    {
      name: "a lone surrogate in an error line",
      body: `{"version":"2.4.1","status":"failed","timestamp":"2024-03-15T10:00:00Z","details":{"errors":["\\ud800"]}}`,
      field: "body.details.errors.0 contains a NUL character or a lone UTF-16 surrogate",
    },
    {
      name: "a lone surrogate in a property name",
      body: `{"version":"2.4.1","status":"failed","timestamp":"2024-03-15T10:00:00Z","details":{"\\udc00":1}}`,
      field: "body.details",
    },
    {
      name: "a leap-second timestamp",
      body: JSON.stringify({ ...base, timestamp: "2016-12-31T23:59:60Z" }),
      field: "body.timestamp must be an ISO 8601 date-time",
    },
    {
      name: "nesting deeper than the limit",
      body: JSON.stringify({ ...base, details: deep(12) }),
      field: "nests deeper than 8 levels",
    },
    {
      name: "a duration of 1e308 seconds",
      body: JSON.stringify({ ...base, details: { durationSeconds: 1e308 } }),
      field: "body.details.durationSeconds must be from 0 to 2592000",
    },
    {
      name: "a free-form number out of range",
      body: JSON.stringify({ ...base, details: { big: 1e300 } }),
      field: "body.details.big",
    },
  ])("$name, with a JSON 400 naming the field", async ({ body, field }) => {
    const before = await rows();
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toBe("invalid_body");
    expect(answer.json.message).toContain(field);
    expect(answer.text).not.toMatch(/postgres|sqlstate|invalid byte sequence|unsupported Unicode/i);
    expect(await rows()).toBe(before);
  });

  it("nothing it accepts: shallow details and a sane duration are stored", async () => {
    const answer = await post(
      JSON.stringify({ ...base, details: { durationSeconds: 42, note: "ok", deep: deep(5) } }),
    );
    expect(answer.status).toBe(202);
  });
});

describe("statistics", () => {
  it("stay whole whatever rows were stored before the schema refused them", async () => {
    // Rows as a server without the bounds stored them: two durations of 1e308 (whose float8 sum
    // overflows) beside a sane one.
    await withClient(databaseUrl, (c) =>
      c.query(
        `INSERT INTO pinline_updates.update_reports (channel, version, status, reported_at, duration_seconds)
         VALUES ('stable', '2.4.1', 'completed', now(), 1e308), ('stable', '2.4.1', 'completed', now(), 1e308),
                ('stable', '2.4.1', 'completed', now(), 60)`,
      ),
    );
    const stats = await request(`${url}/api/v1/updates/stats`);
    expect(stats.status).toBe(200);
    expect(Number.isFinite(stats.json.averageUpdateSeconds)).toBe(true);
    expect(stats.json.averageUpdateSeconds).toBeLessThan(100);
    expect((await request(`${url}/metrics`)).status).toBe(200);
  });
});
