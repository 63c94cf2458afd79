/**
 * `pinline serve` never serves an expired or refused feed: once the feed in service expires,
 * checks, event streams, the feed's files and readiness answer 503 with the reason (a frozen
 * feed is an attack TUF clients refuse, and the server must not paper over it), and a re-signed
 * feed brings them back; after a refused reload (a rollback on disk) it keeps answering from,
 * and serving the bytes of, the feed it verified. Logged URLs never carry a license key. No
 * database is needed for these routes: the server is started without migrating, on a database
 * URL nothing listens on.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { buildFeed, resignTimestamp } from "../src/feed/build-feed.js";
import { generateFeedKeys } from "../src/feed/keys.js";
import { loggedUrl } from "../src/serve/create-server.js";
import { copyExample, removeCopies } from "./harness/example-repo.js";
import { cleanUp, rawGet, request, startServer, tempDir } from "./harness/update-server.js";

afterAll(async () => {
  await cleanUp();
  removeCopies();
});

const NO_DATABASE = "postgres://pinline@127.0.0.1:9/none";
const check = (base: string) =>
  request(`${base}/api/v1/updates/check`, { headers: { "X-Current-Version": "2.4.0" } });

describe("an expired feed", () => {
  it("is never served: checks, streams, files and readiness answer 503 until a re-signed feed is loaded", async () => {
    const root = copyExample();
    const keys = generateFeedKeys();
    const out = join(tempDir(), "feed");
    // The timestamp is valid for 3 s: TUF expiries are whole seconds, so 2 to 3 s of service.
    await buildFeed({ root, out, keys, expires: { timestamp: 3000 } });
    const server = await startServer({ feed: out, databaseUrl: NO_DATABASE, migrate: false });
    expect((await check(server.url)).status).toBe(200);
    const expiresAt = server.feed.snapshot.expiresAt;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 50));

    const refused = await check(server.url);
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ error: "feed_expired" });
    expect(refused.json.message).toMatch(/the feed in service \(version 1\) expired at \S+Z/);
    expect(refused.headers["retry-after"]).toBe("60");
    const ready = await request(`${server.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: "unavailable", feed: { expired: true } });
    expect(ready.json.reason).toContain("expired");
    const events = await request(`${server.url}/api/v1/updates/events?current=2.4.0`);
    expect(events.status).toBe(503);
    expect((await rawGet(server.url, "/feed/metadata/timestamp.json")).status).toBe(503);

    // A reload of the same expired feed is refused by tuf-js, and changes nothing.
    expect(await server.reload()).toBe(false);
    expect(server.feed.lastError).toMatch(/expired/i);
    expect((await check(server.url)).status).toBe(503);

    resignTimestamp({ out, keys, expires: "1d" });
    expect(await server.reload()).toBe(true);
    expect((await check(server.url)).status).toBe(200);
    expect((await request(`${server.url}/health/ready`)).json.feed.expired).toBeUndefined();
    expect((await rawGet(server.url, "/feed/metadata/timestamp.json")).status).toBe(200);
  });
});

describe("a refused reload", () => {
  it("keeps the verified feed in service, and serves only its bytes, never what is on disk", async () => {
    const root = copyExample();
    const keys = generateFeedKeys();
    const out = join(tempDir(), "feed");
    // Version 2 comes with a new root: the first expires before the targets it would sign.
    await buildFeed({ root, out, keys, expires: { root: "30d" } });
    const older = join(tempDir(), "feed-v1");
    cpSync(out, older, { recursive: true });
    await buildFeed({ root, out, keys, previous: out });
    const firstRoot = readFileSync(join(out, "metadata/1.root.json"));
    const server = await startServer({ feed: out, databaseUrl: NO_DATABASE, migrate: false });
    expect(server.feed.snapshot.version).toBe(2);
    expect(server.feed.snapshot.feed.rootVersion()).toBe(2);
    const timestamp = (await rawGet(server.url, "/feed/metadata/timestamp.json")).text;
    const answer = (await check(server.url)).text;

    // A rollback to version 1 lands on disk, and the first root is overwritten there.
    rmSync(out, { recursive: true });
    cpSync(older, out, { recursive: true });
    writeFileSync(join(out, "metadata/1.root.json"), '{"signed":"tampered"}');
    expect(await server.reload()).toBe(false);
    expect(server.feed.lastError).toMatch(/does not verify/);

    expect(server.feed.snapshot.version).toBe(2);
    expect((await check(server.url)).text).toBe(answer);
    expect((await rawGet(server.url, "/feed/metadata/timestamp.json")).text).toBe(timestamp);
    // The chain of roots it verified, as it verified it: the first one from its own cache.
    const one = await rawGet(server.url, "/feed/metadata/1.root.json");
    expect(one.status).toBe(200);
    expect(Buffer.from(one.text)).toEqual(firstRoot);
    expect((await rawGet(server.url, "/feed/metadata/2.root.json")).status).toBe(200);
    expect((await rawGet(server.url, "/feed/metadata/3.root.json")).status).toBe(404);
    const ready = await request(`${server.url}/health/ready`);
    expect(ready.json.feed.lastReloadError).toMatch(/does not verify/);
  });
});

describe("request logs", () => {
  it("never carry a license key, in a header or in the URL", async () => {
    const root = copyExample();
    const out = join(tempDir(), "feed");
    await buildFeed({ root, out, keys: generateFeedKeys() });
    const log: string[] = [];
    const server = await startServer({
      feed: out,
      databaseUrl: NO_DATABASE,
      migrate: false,
      logger: {
        stream: new Writable({
          write(chunk, _encoding, done) {
            log.push(String(chunk));
            done();
          },
        }),
      },
    });
    const secret = "acme-3f9c-2b71-secret";
    await request(
      `${server.url}/api/v1/updates/check?current=2.4.0&licenseKey=${secret}&key=${secret}`,
      { headers: { "X-Current-Version": "2.4.0", "X-License-Key": secret, Cookie: secret } },
    );
    await rawGet(server.url, `/no/such/path?token=${secret}`);
    const text = log.join("");
    expect(text).toContain("current=2.4.0");
    expect(text).toContain("licenseKey=[redacted]");
    expect(text).not.toContain(secret);
    expect(loggedUrl("/a?channel=beta&x=1&x=2")).toBe("/a?channel=beta&x=[redacted]&x=[redacted]");
  });
});
