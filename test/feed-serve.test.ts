/**
 * `pinline serve` holds a feed with consistent snapshots (issue item 7): it verifies the folder
 * with tuf-js, serves its files so that a TUF client verifies the feed through the server —
 * versioned metadata and hash-named targets, and nothing else — and moves to the next version on
 * reload. No database is needed for these routes: the server is started without migrating, on a
 * database URL nothing listens on.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildFeed } from "../src/feed/build-feed.js";
import { openFeed } from "../src/feed/feed-client.js";
import { generateFeedKeys } from "../src/feed/keys.js";
import {
  copyExample,
  edit,
  removeCopies,
  replaceOnce,
  signWithExampleKeys,
} from "./harness/example-repo.js";
import { addRelease, cleanUp, rawGet, startServer, tempDir } from "./harness/update-server.js";

afterAll(async () => {
  await cleanUp();
  removeCopies();
});

const NO_DATABASE = "postgres://pinline@127.0.0.1:9/none";

describe("pinline serve with a consistent-snapshot feed", () => {
  it("serves versioned metadata and hash-named targets that tuf-js verifies, and follows a new version", async () => {
    const root = copyExample();
    const keys = generateFeedKeys();
    const out = join(tempDir(), "feed");
    await buildFeed({ root, out, keys });
    const server = await startServer({ feed: out, databaseUrl: NO_DATABASE, migrate: false });
    expect(server.feed.snapshot.version).toBe(1);

    const installation = () =>
      openFeed({
        feed: `${server.url}/feed`,
        trustedRoot: join(out, "metadata/1.root.json"),
        cacheDir: tempDir(),
      });
    const verified = await installation();
    expect(verified.channels()).toEqual(["beta", "custom:acme", "early-access", "stable"]);
    expect((await verified.readChannel("custom:acme")).releases.map((r) => r.version)).toEqual([
      "2.4.1",
    ]);

    // What the server serves is exactly the hash-named file the verified targets give.
    const file = verified.targetFile("channels/stable.json");
    expect(file).toMatch(/^channels\/[0-9a-f]{64}\.stable\.json$/);
    expect((await rawGet(server.url, `/feed/targets/${file}`)).status).toBe(200);
    expect((await rawGet(server.url, "/feed/targets/channels/stable.json")).status).toBe(404);
    expect((await rawGet(server.url, "/feed/metadata/1.snapshot.json")).status).toBe(200);
    // A file in targets/ that no verified channel index names is not served, hash or not.
    const stray = readdirSync(join(out, "targets/manifests"))[0];
    expect((await rawGet(server.url, `/feed/targets/manifests/x${stray}`)).status).toBe(404);

    edit(
      root,
      "policies/production.yaml",
      replaceOnce('versions: ["2.4.1"]', 'versions: ["2.4.0", "2.4.1"]'),
    );
    // A new stable release, signed by both example keys (production's threshold is 2).
    addRelease(root, "2.4.5");
    await signWithExampleKeys(root, join(root, "releases/2.4.5"));
    await buildFeed({ root, out, keys, previous: out });
    expect(await server.reload()).toBe(true);
    expect(server.feed.snapshot.version).toBe(2);
    const next = await installation();
    expect(next.version()).toBe(2);
    expect((await next.readChannel("custom:acme")).releases.map((r) => r.version)).toEqual([
      "2.4.1",
      "2.4.0",
    ]);
    expect((await next.readChannel("stable")).releases[0]?.version).toBe("2.4.5");
    expect(server.feed.snapshot.answer("stable", "2.4.1").response.version).toBe("2.4.5");
  });

  it("serves the verified feed in service, not newer files on disk it has not reloaded", async () => {
    const root = copyExample();
    const keys = generateFeedKeys();
    const out = join(tempDir(), "feed");
    await buildFeed({ root, out, keys });
    const server = await startServer({ feed: out, databaseUrl: NO_DATABASE, migrate: false });
    const served = (await rawGet(server.url, "/feed/metadata/timestamp.json")).text;
    // Two publications land on disk (the second removes version 1's files) before any reload.
    await buildFeed({ root, out, keys, previous: out });
    await buildFeed({ root, out, keys, previous: out });
    expect(readdirSync(join(out, "metadata"))).not.toContain("1.snapshot.json");

    expect((await rawGet(server.url, "/feed/metadata/timestamp.json")).text).toBe(served);
    expect((await rawGet(server.url, "/feed/metadata/3.snapshot.json")).status).toBe(404);
    const verified = await openFeed({
      feed: `${server.url}/feed`,
      trustedRoot: join(out, "metadata/1.root.json"),
      cacheDir: tempDir(),
    });
    expect(verified.version()).toBe(1);
    expect((await verified.readChannel("stable")).releases[0]?.version).toBe("2.4.1");

    expect(await server.reload()).toBe(true);
    expect((await rawGet(server.url, "/feed/metadata/timestamp.json")).text).not.toBe(served);
  });
});
