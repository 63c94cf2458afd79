/**
 * `pinline serve`, the specification's update server (sections 2.3, 4.2, 6.1, 7, 9.2): update
 * checks answered from a feed built from the example repository, status reports stored in real
 * PostgreSQL, statistics and metrics counted from them, license keys, health, event streams and
 * the server's own schema, migrated by pinline's own runner.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { UsageError } from "../src/core/errors.js";
import { migrate } from "../src/db/run-migration.js";
import { openFeed } from "../src/feed/feed-client.js";
import { createUpdateServer } from "../src/serve/create-server.js";
import { readLicenseKeys } from "../src/serve/license-keys.js";
import { INSTALLATION_METRIC_NAMES } from "../src/serve/server-metrics.js";
import { serverSchemaRoot } from "../src/serve/server-schema.js";
import { removeCopies, repoRoot, runPinline } from "./harness/example-repo.js";
import { type PostgresTarget, withClient } from "./harness/postgres.js";
import {
  addRelease,
  cleanUp,
  database,
  type ExampleFeed,
  eventually,
  exampleFeed,
  openEvents,
  rawGet,
  request,
  startServer,
  tempDir,
} from "./harness/update-server.js";

const targets = inject("postgresTargets");
const target = targets[0] as PostgresTarget;

let feed: ExampleFeed;
let server: Awaited<ReturnType<typeof startServer>>;
let databaseUrl: string;

beforeAll(async () => {
  feed = await exampleFeed();
  databaseUrl = await database(target);
  server = await startServer({ feed: feed.out, databaseUrl });
});

afterAll(async () => {
  await cleanUp();
  removeCopies();
});

const check = (headers: Record<string, string>, base = server.url) =>
  request(`${base}/api/v1/updates/check`, { headers });

const report = (body: unknown, headers: Record<string, string> = {}, base = server.url) =>
  request(`${base}/api/v1/updates/status`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const countReports = (url = databaseUrl) =>
  withClient(url, async (c) =>
    Number(
      (await c.query<{ n: string }>("SELECT count(*) AS n FROM pinline_updates.update_reports"))
        .rows[0]?.n,
    ),
  );

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("GET /api/v1/updates/check", () => {
  it.each([
    {
      name: "offers stable 2.4.0 the mandatory security release 2.4.1",
      headers: { "X-Current-Version": "2.4.0", "X-Channel": "stable" },
      answer: { updateAvailable: true, version: "2.4.1", mandatory: true, path: ["2.4.1"] },
    },
    {
      name: "never offers 2.4.2, which the production policy blocks",
      headers: { "X-Current-Version": "2.4.1", "X-Channel": "stable" },
      answer: {
        updateAvailable: false,
        reason: "every newer release on stable is blocked (2.4.2)",
      },
    },
    {
      name: "tells an installation that runs the blocked 2.4.2 to roll back or contact the vendor",
      headers: { "X-Current-Version": "2.4.2", "X-Channel": "stable" },
      answer: {
        updateAvailable: false,
        reason:
          "the version this installation runs, 2.4.2, is blocked (the vendor blocks 2.4.2 on stable), and stable offers nothing newer: roll back to 2.4.1 (the newest release on stable before 2.4.2 that is not blocked), or contact the vendor",
      },
    },
    {
      name: "defaults to the stable channel",
      headers: { "X-Current-Version": "2.3.0" },
      answer: { updateAvailable: true, version: "2.4.1", channel: "stable" },
    },
    {
      name: "steps beta 2.0.0 through 2.3.0 first (2.5.0-beta.3's minimumVersion)",
      headers: { "X-Current-Version": "2.0.0", "X-Channel": "beta" },
      answer: {
        updateAvailable: true,
        version: "2.3.0",
        newest: "2.5.0-beta.3",
        path: ["2.3.0", "2.5.0-beta.3"],
        mandatory: true,
      },
    },
    {
      name: "offers beta 2.4.2, which no policy governing beta blocks",
      headers: { "X-Current-Version": "2.4.1", "X-Channel": "beta" },
      answer: { updateAvailable: true, version: "2.5.0-beta.3", path: ["2.5.0-beta.3"] },
    },
    {
      name: "offers early-access the nightly",
      headers: { "X-Current-Version": "2.5.0-beta.3", "X-Channel": "early-access" },
      answer: { updateAvailable: true, version: "2.5.0-nightly.20240315", mandatory: false },
    },
    {
      name: "offers custom:acme only the versions acme's policy lists",
      headers: { "X-Current-Version": "2.4.0", "X-Channel": "custom:acme" },
      answer: { updateAvailable: true, version: "2.4.1", newest: "2.4.1" },
    },
    {
      name: "tells custom:acme 2.4.1 it is up to date",
      headers: { "X-Current-Version": "2.4.1", "X-Channel": "custom:acme" },
      answer: { updateAvailable: false, reason: "2.4.1 is up to date on custom:acme" },
    },
  ])("$name", async ({ headers, answer }) => {
    const response = await check(headers as Record<string, string>);
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(response.json).toMatchObject(answer);
  });

  it("answers with the specification's fields, the manifest's hash as signature", async () => {
    const { json } = await check({ "X-Current-Version": "2.4.0" });
    const manifest = readFileSync(join(repoRoot, "releases/2.4.1/release.yaml"));
    expect(json).toEqual({
      updateAvailable: true,
      version: "2.4.1",
      mandatory: true,
      releaseNotes: "https://updates.cm-diagnostics.example.com/releases/2.4.1",
      downloadUrl: "ghcr.io/acme/cm-diagnostics-backend:2.4.1",
      signature: `sha256:${createHash("sha256").update(manifest).digest("hex")}`,
      currentVersion: "2.4.0",
      channel: "stable",
      newest: "2.4.1",
      path: ["2.4.1"],
      reason: "2.4.1 is mandatory",
    });
  });

  it.each([
    [{}, "missing_current_version", "X-Current-Version"],
    [{ "X-Current-Version": "v2.4.0" }, "invalid_version", 'drop the "v" prefix'],
    [{ "X-Current-Version": "latest" }, "invalid_version", "MAJOR.MINOR.PATCH"],
    [{ "X-Current-Version": "2.4.0", "X-Channel": "nightly" }, "invalid_channel", "nightly"],
    [
      { "X-Current-Version": "2.4.0", "X-Channel": "custom:nope" },
      "unknown_channel",
      "custom:nope",
    ],
  ])("refuses %j with 400 %s", async (headers, error, words) => {
    const response = await check(headers as Record<string, string>);
    expect(response.status).toBe(400);
    expect(response.json.error).toBe(error);
    expect(response.json.message).toContain(words);
    expect(response.json.hint).toBeTruthy();
  });

  it("answers unknown paths 404 in the same JSON form", async () => {
    const response = await request(`${server.url}/api/v1/updates/nope`);
    expect(response.status).toBe(404);
    expect(response.json).toMatchObject({ error: "not_found", hint: expect.any(String) });
  });
});

describe("POST /api/v1/updates/status", () => {
  const good = {
    version: "2.4.1",
    status: "completed",
    timestamp: "2024-03-15T10:00:00Z",
    details: { fromVersion: "2.4.0", durationSeconds: 42.5, rolledBack: false, errors: [] },
  };

  it("stores the report and answers 202 with its id", async () => {
    const response = await report(good, { "X-Channel": "stable", "X-License-Key": "key-1" });
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ id: expect.any(Number) });
    const row = await withClient(databaseUrl, async (c) => {
      const { rows } = await c.query("SELECT * FROM pinline_updates.update_reports WHERE id = $1", [
        response.json.id,
      ]);
      return rows[0];
    });
    expect(row).toMatchObject({
      installation: sha256("key-1"),
      channel: "stable",
      version: "2.4.1",
      from_version: "2.4.0",
      status: "completed",
      reported_at: new Date("2024-03-15T10:00:00Z"),
      duration_seconds: 42.5,
      rolled_back: false,
      details: good.details,
    });
  });

  it("stores a report without a key with no installation, and reads 2.4.1-stable as 2.4.1", async () => {
    const response = await report({ ...good, version: "2.4.1-stable", details: undefined });
    expect(response.status).toBe(202);
    const row = await withClient(
      databaseUrl,
      async (c) =>
        (
          await c.query("SELECT * FROM pinline_updates.update_reports WHERE id = $1", [
            response.json.id,
          ])
        ).rows[0],
    );
    expect(row).toMatchObject({ installation: null, version: "2.4.1", details: {} });
  });

  const refused: [string, unknown, Record<string, string>, number, string, string][] = [
    ["malformed JSON", '{"version": "2.4.1",', {}, 400, "malformed_json", "not valid JSON"],
    ["an empty body", "", {}, 400, "malformed_json", "empty"],
    ["an array", "[]", {}, 400, "invalid_body", "body must be an object"],
    ["a missing field", { ...good, timestamp: undefined }, {}, 400, "invalid_body", '"timestamp"'],
    [
      "a number as version",
      { ...good, version: 2.4 },
      {},
      400,
      "invalid_body",
      "body.version must be a string",
    ],
    [
      "an unknown status",
      { ...good, status: "done" },
      {},
      400,
      "invalid_body",
      '"completed", "failed", "in-progress"',
    ],
    [
      "a timestamp without a timezone",
      { ...good, timestamp: "2024-03-15T10:00:00" },
      {},
      400,
      "invalid_body",
      "ISO 8601",
    ],
    [
      "a timestamp that is no date",
      { ...good, timestamp: "yesterday" },
      {},
      400,
      "invalid_body",
      "body.timestamp",
    ],
    [
      "a string as durationSeconds",
      { ...good, details: { durationSeconds: "42" } },
      {},
      400,
      "invalid_body",
      "body.details.durationSeconds must be a number",
    ],
    [
      "a negative duration",
      { ...good, details: { durationSeconds: -1 } },
      {},
      400,
      "invalid_body",
      "body.details.durationSeconds",
    ],
    [
      "a string as rolledBack",
      { ...good, details: { rolledBack: "yes" } },
      {},
      400,
      "invalid_body",
      "body.details.rolledBack must be a boolean",
    ],
    [
      "details that are no object",
      { ...good, details: "ok" },
      {},
      400,
      "invalid_body",
      "body.details must be an object",
    ],
    [
      "an unknown field",
      { ...good, channel: "stable" },
      {},
      400,
      "invalid_body",
      'unknown field "channel"',
    ],
    ["a bad version", { ...good, version: "2.4" }, {}, 400, "invalid_version", "body.version"],
    [
      "a bad fromVersion",
      { ...good, details: { fromVersion: "v2.4.0" } },
      {},
      400,
      "invalid_version",
      "body.details.fromVersion",
    ],
    [
      "an unknown channel",
      good,
      { "X-Channel": "custom:nope" },
      400,
      "unknown_channel",
      "custom:nope",
    ],
    ["a bad channel", good, { "X-Channel": "Stable" }, 400, "invalid_channel", "Stable"],
    [
      "a body that is not JSON",
      good,
      { "content-type": "text/plain" },
      415,
      "unsupported_media_type",
      "JSON",
    ],
  ];
  it.each(refused)(
    "refuses %s (nothing stored)",
    async (_name, body, headers, status, error, words) => {
      const before = await countReports();
      const response = await report(body, headers);
      expect(response.status, response.text).toBe(status);
      expect(response.json.error).toBe(error);
      expect(response.json.message).toContain(words);
      expect(response.json.hint).toBeTruthy();
      expect(await countReports()).toBe(before);
    },
  );

  it("refuses a body over 16 KiB with 413, declared or streamed", async () => {
    const before = await countReports();
    const big = { ...good, details: { errors: ["x".repeat(17 * 1024)] } };
    const declared = await report(big);
    expect(declared.status).toBe(413);
    expect(declared.json).toMatchObject({
      error: "body_too_large",
      message: expect.stringContaining("16384 bytes"),
    });
    const streamed = await request(`${server.url}/api/v1/updates/status`, {
      method: "POST",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      body: JSON.stringify(big),
    });
    expect(streamed.status).toBe(413);
    expect(await countReports()).toBe(before);
  });

  it("stores every one of 200 reports sent at once", async () => {
    const before = await countReports();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        report(
          { ...good, timestamp: new Date(Date.UTC(2024, 2, 15, 10, 0, i)).toISOString() },
          { "X-License-Key": `installation-${i}` },
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(202));
    expect(new Set(answers.map((a) => a.json.id)).size).toBe(200);
    expect(await countReports()).toBe(before + 200);
  });
});

describe("statistics and metrics, from the stored reports", () => {
  let stats: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    stats = await startServer({ feed: feed.out, databaseUrl: await database(target) });
    const at = (time: string) => `2024-03-15T${time}Z`;
    const sent: [string | undefined, string, string, string, string, object?][] = [
      // a: in-progress, then completed two minutes later without a duration: 120 s
      ["a", "stable", "2.4.1", "in-progress", at("10:00:00")],
      ["a", "stable", "2.4.1", "completed", at("10:02:00")],
      // b: completed with its own duration: 60 s
      ["b", "stable", "2.4.1", "completed", at("11:00:00"), { durationSeconds: 60 }],
      // c: fails and rolls back, then succeeds on the second try: timed from 13:00, 600 s
      ["c", "stable", "2.4.1", "in-progress", at("12:00:00")],
      ["c", "stable", "2.4.1", "failed", at("12:05:00"), { rolledBack: true, errors: ["health"] }],
      ["c", "stable", "2.4.1", "in-progress", at("13:00:00")],
      ["c", "stable", "2.4.1", "completed", at("13:10:00")],
      // no key: completed, not timed (nothing to pair it with)
      [undefined, "stable", "2.4.1", "completed", at("14:00:00")],
      // d on beta: fails without a rollback, then completes in 30 s
      ["d", "beta", "2.5.0-beta.3", "failed", at("15:00:00"), { rolledBack: false }],
      ["d", "beta", "2.5.0-beta.3", "completed", at("15:30:00"), { durationSeconds: 30 }],
    ];
    for (const [key, channel, version, status, timestamp, details] of sent) {
      const response = await report(
        { version, status, timestamp, ...(details ? { details } : {}) },
        { "X-Channel": channel, ...(key ? { "X-License-Key": key } : {}) },
        stats.url,
      );
      expect(response.status).toBe(202);
    }
  });

  it("counts attempts, success and rollback rates and the average update time", async () => {
    const { status, json } = await request(`${stats.url}/api/v1/updates/stats`);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      total: 10,
      inProgress: 3,
      attempts: 7,
      completed: 5,
      failed: 2,
      rollbacks: 1,
      successRate: 5 / 7,
      rollbackRate: 1 / 7,
      // (120 + 60 + 600 + 30) / 4
      averageUpdateSeconds: 202.5,
      timedUpdates: 4,
    });
    expect(json.byChannel.stable).toMatchObject({
      reports: 8,
      attempts: 5,
      completed: 4,
      failed: 1,
      rollbacks: 1,
      successRate: 0.8,
      rollbackRate: 0.2,
      averageUpdateSeconds: 260,
    });
    expect(json.byChannel.beta).toMatchObject({
      reports: 2,
      attempts: 2,
      successRate: 0.5,
      rollbackRate: 0,
      averageUpdateSeconds: 30,
    });
    expect(Object.keys(json.byVersion)).toEqual(["2.4.1", "2.5.0-beta.3"]);
    expect(json.byVersion["2.4.1"]).toMatchObject({ attempts: 5, completed: 4 });
  });

  it("answers null rates when nothing was attempted", async () => {
    const empty = await startServer({ feed: feed.out, databaseUrl: await database(target) });
    const { json } = await request(`${empty.url}/api/v1/updates/stats`);
    expect(json).toEqual(
      expect.objectContaining({
        total: 0,
        attempts: 0,
        successRate: null,
        averageUpdateSeconds: null,
      }),
    );
    expect(json.byChannel).toEqual({});
  });

  it("exposes the same figures as pinline_installation_* metrics, computed at scrape time", async () => {
    const { status, headers, text } = await request(`${stats.url}/metrics`);
    expect(status).toBe(200);
    expect(headers["content-type"]).toContain("text/plain");
    const families = parsePrometheusTextFormat(text);
    const value = (name: string, labels: Record<string, string>) =>
      Number(
        families
          .find((f) => f.name === name)
          ?.metrics.find((m) =>
            Object.entries(labels).every(
              ([k, v]) => (m as { labels?: Record<string, string> }).labels?.[k] === v,
            ),
          )?.value,
      );
    const names = INSTALLATION_METRIC_NAMES;
    expect(value(names.attempts, { channel: "stable" })).toBe(5);
    expect(value(names.attempts, { channel: "beta" })).toBe(2);
    expect(value(names.success, { channel: "stable" })).toBe(4);
    expect(value(names.failures, { channel: "beta" })).toBe(1);
    expect(value(names.rollbacks, { channel: "stable" })).toBe(1);
    expect(value(names.rollbacks, { channel: "beta" })).toBe(0);
    expect(value(names.updateSeconds, { channel: "stable" })).toBe(780);
    expect(value(names.timedUpdates, { channel: "stable" })).toBe(3);
    expect(value(names.reports, { channel: "stable", status: "in-progress" })).toBe(3);
    expect(value("pinline_serve_database_up", {})).toBe(1);
    expect(value("pinline_serve_feed_version", {})).toBe(stats.feed.snapshot.version);
    // every name is distinct from the deploy metrics (pinline_update_*)
    for (const family of families) expect(family.name).not.toMatch(/^pinline_update_/);

    // a new report shows at the next scrape
    await report(
      { version: "2.4.1", status: "completed", timestamp: "2024-03-16T10:00:00Z" },
      { "X-Channel": "stable" },
      stats.url,
    );
    const again = parsePrometheusTextFormat((await request(`${stats.url}/metrics`)).text);
    const attempts = again.find((f) => f.name === names.attempts)?.metrics;
    expect(attempts).toContainEqual(
      expect.objectContaining({ labels: { channel: "stable" }, value: "6" }),
    );
  });

  it("counts requests by route and status", async () => {
    await check({ "X-Current-Version": "2.4.0" }, stats.url);
    await check({ "X-Current-Version": "bad" }, stats.url);
    const { text } = await request(`${stats.url}/metrics`);
    expect(text).toMatch(
      /pinline_serve_http_request_duration_seconds_count\{route="\/api\/v1\/updates\/check",method="GET",status="200"\} [1-9]/,
    );
    expect(text).toMatch(
      /pinline_serve_http_request_duration_seconds_count\{route="\/api\/v1\/updates\/check",method="GET",status="400"\} 1/,
    );
    expect(text).toMatch(
      /pinline_serve_http_request_duration_seconds_count\{route="\/api\/v1\/updates\/status",method="POST",status="202"\} 1[01]\n/,
    );
    expect(text).toMatch(
      /pinline_serve_http_request_duration_seconds_sum\{route="\/api\/v1\/updates\/check",method="GET",status="200"\} 0\.0\d*[1-9]/,
    );
    await request(`${stats.url}/nowhere`);
    expect((await request(`${stats.url}/metrics`)).text).toMatch(
      /pinline_serve_http_request_duration_seconds_count\{route="unmatched",method="GET",status="404"\} 1\n/,
    );
  });

  it("has dashboard panels that query only the metrics the server exposes", async () => {
    const dashboard = JSON.parse(readFileSync(join(repoRoot, "dashboards/updates.json"), "utf8"));
    const exposed = new Set(
      parsePrometheusTextFormat((await request(`${stats.url}/metrics`)).text).map((f) => f.name),
    );
    const ours = dashboard.panels.filter((p: { id: number }) => p.id >= 10);
    const row = ours.find((p: { type: string }) => p.type === "row");
    expect(row?.title).toBe("Installations");
    const titles = ours
      .filter((p: { type: string }) => p.type !== "row")
      .map((p: { title: string }) => p.title);
    expect(titles).toEqual([
      "Installation Success Rate",
      "Average Installation Update Time",
      "Installation Updates by Channel",
      "Installation Rollback Rate",
    ]);
    for (const panel of ours) {
      expect(panel.gridPos.y, panel.title).toBeGreaterThanOrEqual(9);
      for (const { expr } of panel.targets ?? []) {
        const metrics = (expr as string).match(/pinline_[a-z_]+/g) ?? [];
        expect(metrics.length, panel.title).toBeGreaterThan(0);
        for (const name of metrics) expect(exposed, `${panel.title}: ${name}`).toContain(name);
      }
    }

    // the rates read on this server's exposition: sum over channels of one value each
    const families = parsePrometheusTextFormat((await request(`${stats.url}/metrics`)).text);
    const total = (name: string) =>
      (families.find((f) => f.name === name)?.metrics ?? []).reduce(
        (t, m) => t + Number(m.value),
        0,
      );
    const evaluate = (expr: string) => {
      const form =
        /^sum\(max by \(channel\) \((\w+)\)\) \/ sum\(max by \(channel\) \((\w+)\)\)( \* 100)?$/.exec(
          expr,
        );
      if (!form?.[1] || !form[2]) throw new Error(`unexpected query ${expr}`);
      return (total(form[1]) / total(form[2])) * (form[3] ? 100 : 1);
    };
    const expr = (title: string) =>
      ours.find((p: { title: string }) => p.title === title).targets[0].expr;
    const { json } = await request(`${stats.url}/api/v1/updates/stats`);
    expect(evaluate(expr("Installation Success Rate"))).toBeCloseTo(json.successRate * 100, 10);
    expect(evaluate(expr("Installation Rollback Rate"))).toBeCloseTo(json.rollbackRate * 100, 10);
    expect(evaluate(expr("Average Installation Update Time"))).toBeCloseTo(
      json.averageUpdateSeconds,
      10,
    );
  });
});

describe("license keys", () => {
  let licensed: Awaited<ReturnType<typeof startServer>>;
  const log: string[] = [];
  const key = "acme-3f9c-2b71-secret";

  beforeAll(async () => {
    const dir = tempDir();
    const keys = join(dir, "license-keys.txt");
    writeFileSync(keys, `# acme (production)\n${sha256(key)}  -\n\n${sha256("other")}\n`);
    licensed = await startServer({
      feed: feed.out,
      databaseUrl,
      licenseKeys: keys,
      logger: {
        level: "trace",
        stream: new Writable({
          write(chunk, _encoding, done) {
            log.push(String(chunk));
            done();
          },
        }),
      },
    });
  });

  it("answers 401 without a key, 403 with a key not listed, 200 with a listed one", async () => {
    const none = await check({ "X-Current-Version": "2.4.0" }, licensed.url);
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({
      error: "license_key_required",
      hint: expect.stringContaining("X-License-Key"),
    });
    const wrong = await check(
      { "X-Current-Version": "2.4.0", "X-License-Key": "guess" },
      licensed.url,
    );
    expect(wrong.status).toBe(403);
    expect(wrong.json.error).toBe("license_key_refused");
    expect(wrong.text).not.toContain("guess");
    const right = await check({ "X-Current-Version": "2.4.0", "X-License-Key": key }, licensed.url);
    expect(right.status).toBe(200);
    expect(right.json.version).toBe("2.4.1");
  });

  it("refuses reports and event streams without a valid key, before reading the body", async () => {
    const before = await countReports();
    const body = { version: "2.4.1", status: "completed", timestamp: "2024-03-15T10:00:00Z" };
    expect((await report(body, {}, licensed.url)).status).toBe(401);
    expect((await report("{bad json", { "X-License-Key": "guess" }, licensed.url)).status).toBe(
      403,
    );
    await expect(
      openEvents(`${licensed.url}/api/v1/updates/events?current=2.4.0`),
    ).rejects.toMatchObject({
      status: 401,
    });
    expect(await countReports()).toBe(before);
    const accepted = await report(body, { "X-License-Key": key }, licensed.url);
    expect(accepted.status).toBe(202);
  });

  it("never logs a key: the header is redacted in request logs", async () => {
    await check({ "X-Current-Version": "2.4.0", "X-License-Key": key }, licensed.url);
    await check({ "X-Current-Version": "2.4.0", "X-License-Key": "guess" }, licensed.url);
    const text = log.join("");
    expect(text).toContain('"x-license-key":"[redacted]"');
    expect(text).toContain('"x-current-version":"2.4.0"');
    expect(text).not.toContain(key);
    expect(text).not.toContain("guess");
  });

  it("names the line of a key file entry that is not a hash", () => {
    const file = join(tempDir(), "keys.txt");
    writeFileSync(file, `${sha256("a")}\nacme-3f9c-2b71-secret\n`);
    expect(() => readLicenseKeys(file)).toThrow(UsageError);
    expect(() => readLicenseKeys(file)).toThrow(/is not a sha256 hash/);
    try {
      readLicenseKeys(file);
    } catch (error) {
      expect((error as UsageError).describe()).toMatch(/keys\.txt:2:1: .*never the keys/);
    }
  });
});

describe("health", () => {
  it("is live and ready with the feed and the database", async () => {
    expect((await request(`${server.url}/health/live`)).json).toEqual({ status: "live" });
    const ready = await request(`${server.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({
      status: "ready",
      database: "ok",
      feed: {
        version: server.feed.snapshot.version,
        channels: ["beta", "custom:acme", "early-access", "stable"],
      },
    });
  });

  it("is not ready while the database is unreachable, and still answers update checks", async () => {
    const unreachable = await startServer({
      feed: feed.out,
      databaseUrl: "postgres://postgres@127.0.0.1:1/nowhere",
      migrate: false,
    });
    expect((await request(`${unreachable.url}/health/live`)).status).toBe(200);
    const ready = await request(`${unreachable.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: "unavailable", database: "unreachable" });
    expect(ready.json.reason).toContain("the database does not answer");
    expect((await check({ "X-Current-Version": "2.4.0" }, unreachable.url)).status).toBe(200);
    const stored = await report(
      { version: "2.4.1", status: "completed", timestamp: "2024-03-15T10:00:00Z" },
      {},
      unreachable.url,
    );
    expect(stored.status).toBe(503);
    expect(stored.json).toMatchObject({
      error: "database_unavailable",
      hint: expect.stringContaining("not stored"),
    });
    const metrics = await request(`${unreachable.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("pinline_serve_database_up 0");
  });

  it("refuses to start on a database it cannot reach, saying so", async () => {
    await expect(
      createUpdateServer({
        feed: feed.out,
        databaseUrl: "postgres://postgres@127.0.0.1:1/nowhere",
      }),
    ).rejects.toThrow(/cannot connect to the update server's database/);
  });
});

describe("GET /api/v1/updates/events", () => {
  it("tells subscribers about a release the reloaded feed offers them, and nobody else", async () => {
    const streams = await startServer({ feed: feed.out, databaseUrl, keepaliveSeconds: 1 });
    const events = `${streams.url}/api/v1/updates/events`;
    // 2.4.1 on stable is offered nothing (2.4.2 is blocked); 2.4.0 was offered 2.4.1 already.
    const upToDate = await openEvents(events, {
      "X-Current-Version": "2.4.1",
      "X-Channel": "stable",
    });
    const behind = await openEvents(`${events}?current=2.4.0&channel=stable`);
    const acme = await openEvents(`${events}?current=2.4.1&channel=custom:acme`);
    expect(upToDate.comments[0]).toBe("subscribed to stable at 2.4.1");
    await eventually(() => upToDate.comments.includes("keepalive"));
    expect(upToDate.events).toEqual([]);

    // unchanged feed: a reload changes nothing
    expect(await streams.reload()).toBe(false);

    addRelease(feed.root, "2.4.3", {
      security: ["CVE-2024-3333 patched"],
      features: ["Rule packs signed"],
    });
    const version = await feed.rebuild();
    expect(await streams.reload()).toBe(true);
    expect(streams.feed.snapshot.version).toBe(version);

    const notification = await upToDate.waitFor((e) => e.event === "notification");
    expect(notification.id).toBe(notification.data.id);
    expect(notification.data).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: "warning",
      version: "2.4.3",
      title: "Update 2.4.3 available",
      description:
        "Security: CVE-2024-3333 patched. Features: Rule packs signed. Fixes: Scan scheduler drift.",
      actions: [
        { label: "Install Now", action: "install" },
        { label: "Schedule", action: "schedule" },
        { label: "Learn More", action: "learn-more" },
      ],
      expiresAt: expect.any(String),
    });
    const expires = Date.parse(notification.data.expiresAt) - Date.now();
    expect(expires).toBeGreaterThan(7 * 24 * 3600 * 1000 - 60_000);
    expect(expires).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
    const message = await upToDate.waitFor((e) => e.event === "message");
    expect(message.data).toEqual({
      type: "UPDATE_AVAILABLE",
      version: "2.4.3",
      action: "RELOAD_REQUIRED",
    });

    // 2.4.0's answer moves from 2.4.1 to 2.4.3, mandatory (2.4.1 is): critical
    const critical = await behind.waitFor((e) => e.event === "notification");
    expect(critical.data).toMatchObject({ type: "critical", version: "2.4.3" });

    // the update check answers from the new feed too (its memo is per feed version)
    expect((await check({ "X-Current-Version": "2.4.1" }, streams.url)).json).toMatchObject({
      updateAvailable: true,
      version: "2.4.3",
    });

    // acme's channel does not list 2.4.3: nothing new for it
    await eventually(() => acme.comments.filter((c) => c === "keepalive").length >= 2);
    expect(acme.events).toEqual([]);

    // one offer per version: another publication of the same releases sends nothing more
    await feed.rebuild();
    expect(await streams.reload()).toBe(true);
    await eventually(() => upToDate.comments.filter((c) => c === "keepalive").length >= 3);
    expect(upToDate.events.filter((e) => e.event === "notification")).toHaveLength(1);

    // closing the server ends every stream
    await streams.close();
    await Promise.all([upToDate.ended, behind.ended, acme.ended]);
  });

  it("refuses a stream without a version or with a bad channel, in JSON", async () => {
    const events = `${server.url}/api/v1/updates/events`;
    await expect(openEvents(events)).rejects.toMatchObject({
      status: 400,
      json: { error: "missing_current_version" },
    });
    await expect(openEvents(`${events}?current=2.4.0&channel=custom:nope`)).rejects.toMatchObject({
      status: 400,
      json: { error: "unknown_channel" },
    });
  });

  it("forgets a subscriber that disconnects", async () => {
    const subscribers = async (n: number) =>
      (await request(`${server.url}/metrics`)).text.includes(
        `pinline_serve_event_subscribers ${n}`,
      );
    const stream = await openEvents(`${server.url}/api/v1/updates/events?current=2.4.0`);
    await eventually(() => subscribers(1));
    stream.close();
    await eventually(() => subscribers(0));
  });
});

describe("the feed's files, for TUF clients", () => {
  it("serves the feed so that tuf-js verifies it through the server", async () => {
    const verified = await openFeed({
      feed: `${server.url}/feed`,
      trustedRoot: join(feed.out, "metadata/1.root.json"),
      cacheDir: tempDir(),
    });
    expect(verified.channels()).toEqual(["beta", "custom:acme", "early-access", "stable"]);
    const stable = await verified.readChannel("stable");
    expect(stable.releases.map((r) => r.version)).toContain("2.4.2");
  });

  it.each([
    "/feed/metadata/../../../../etc/passwd",
    "/feed/metadata/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/feed/metadata/%2e%2e%2f1.root.json",
    "/feed/targets/../../../../etc/passwd",
    "/feed/targets/..%2F..%2Fmetadata%2Froot.json",
    "/feed/targets/channels/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/feed/targets/channels/../../metadata/root.json",
    "/feed/metadata/root.json%00.png",
  ])("serves nothing outside the feed for %s", async (path) => {
    const response = await rawGet(server.url, path);
    expect(response.status).toBe(404);
    expect(response.text).not.toContain("root:");
    expect(response.text).not.toContain('"_type"');
  });
});

describe("the server's own schema", () => {
  it.each(targets.map((t) => [t.name, t] as const))(
    "is migrated once by pinline's runner into pinline_updates, apart from the application's history (%s)",
    async (_name, pg) => {
      const url = await database(pg);
      // the application's own migrations, in public
      await migrate({ root: repoRoot, target: "2.4.1", databaseUrl: url, lockWaitMs: 30_000 });
      const options = { feed: feed.out, databaseUrl: url, port: 0 };
      const [first, second] = await Promise.all([
        createUpdateServer(options),
        createUpdateServer(options),
      ]);
      await Promise.all([first.close(), second.close()]);
      const third = await createUpdateServer(options);
      await third.close();
      const history = await withClient(url, async (c) => ({
        server: (
          await c.query<{ version: string; file: string }>(
            "SELECT version, file FROM pinline_updates.pinline_schema_migrations ORDER BY id",
          )
        ).rows,
        application: Number(
          (
            await c.query<{ n: string }>(
              "SELECT count(*) AS n FROM public.pinline_schema_migrations",
            )
          ).rows[0]?.n,
        ),
        table: (
          await c.query<{ t: string | null }>(
            "SELECT to_regclass('pinline_updates.update_reports')::text AS t",
          )
        ).rows[0]?.t,
      }));
      expect(history.server).toEqual([
        { version: "1.0.0", file: "migrations/0.0.0-1.0.0_update_reports.sql" },
      ]);
      expect(history.application).toBe(5);
      expect(history.table).toBe("pinline_updates.update_reports");
    },
  );

  it("is a pinline release tree that validates, its component the migration itself", () => {
    const root = serverSchemaRoot();
    const result = runPinline(["validate", "--root", root, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ errors: 0, warnings: 0 });
    const manifest = readFileSync(join(root, "releases/1.0.0/release.yaml"), "utf8");
    const sql = readFileSync(
      join(root, "releases/1.0.0/migrations/0.0.0-1.0.0_update_reports.sql"),
    );
    expect(manifest).toContain(`sha256: "${createHash("sha256").update(sql).digest("hex")}"`);
    expect(manifest).toContain(`size: ${sql.length}`);
  });
});
