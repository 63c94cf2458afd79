/**
 * A build continues the versions of the previous feed only once that feed verifies (issue item
 * 2): its roots form a chain from 1.root.json, its newest root carries the signature of the root
 * key the build holds, and its timestamp, snapshot and targets are signed by the keys that root
 * names and point at each other. Whoever controls the site cannot choose the next versions.
 * Expiry is not judged: a frozen feed is continued, never started again at 1.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata, MetadataKind } from "@tufjs/models";
import { afterAll, describe, expect, it } from "vitest";
import { RefusedError } from "../src/core/errors.js";
import { buildFeed, resignTimestamp } from "../src/feed/build-feed.js";
import { openFeed } from "../src/feed/feed-client.js";
import { stableJson } from "../src/feed/feed-targets.js";
import { generateFeedKeys, signerFor, signingKey } from "../src/feed/keys.js";
import { copyExample, removeCopies } from "./harness/example-repo.js";

const temps: string[] = [];
function temp(prefix = "pinline-feed-previous-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

const DAY = 24 * 60 * 60 * 1000;
const keys = generateFeedKeys();
const repo = copyExample();

async function published(now?: Date): Promise<string> {
  const out = join(temp(), "feed");
  await buildFeed({ root: repo, out, keys, ...(now ? { now } : {}) });
  return out;
}

const metadata = (feed: string, name: string) =>
  JSON.parse(readFileSync(join(feed, "metadata", name), "utf8"));

async function refusal(previous: string, buildKeys = keys): Promise<RefusedError> {
  const out = join(temp(), "feed");
  const error = await buildFeed({ root: repo, out, keys: buildKeys, previous }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RefusedError);
  expect(existsSync(out)).toBe(false);
  return error as RefusedError;
}

describe("the previous feed is verified before its versions are continued", () => {
  it("refuses a timestamp of version 2^31 that nobody signed, and writes nothing", async () => {
    const feed = await published();
    const timestamp = metadata(feed, "timestamp.json");
    timestamp.signed.version = 2 ** 31;
    timestamp.signatures = [];
    writeFileSync(join(feed, "metadata/timestamp.json"), stableJson(timestamp));

    const error = await refusal(feed);
    expect(error.message).toBe(
      `the feed at ${feed} does not verify: metadata/timestamp.json (version 2147483648) is not signed by the timestamp key of the feed's root (1.root.json): timestamp was signed by 0/1 keys; refusing to continue its versions`,
    );
    expect(error.hint).toContain("nothing was built");
  });

  it("refuses a timestamp signed by a key its root does not name", async () => {
    const feed = await published();
    const json = metadata(feed, "timestamp.json");
    json.signed.version += 1000;
    const timestamp = Metadata.fromJSON(MetadataKind.Timestamp, json);
    timestamp.sign(signerFor(signingKey(generateFeedKeys().timestamp)), false);
    writeFileSync(join(feed, "metadata/timestamp.json"), stableJson(timestamp.toJSON()));
    expect((await refusal(feed)).message).toMatch(
      /metadata\/timestamp\.json \(version 1001\) is not signed by the timestamp key/,
    );
  });

  it("refuses a feed that other keys signed: a site that is not this feed's", async () => {
    const theirs = join(temp(), "feed");
    await buildFeed({ root: repo, out: theirs, keys: generateFeedKeys() });
    const error = await refusal(theirs);
    expect(error.message).toMatch(
      /^the feed at \S+ is not signed by the root key given: its newest root, metadata\/1\.root\.json, trusts root key [0-9a-f]{12}… and carries no valid signature of the root key [0-9a-f]{12}…$/,
    );
    expect(error.hint).toContain("PINLINE_FEED_PREVIOUS_ROOT_KEY");
  });

  it("refuses a snapshot other than the one timestamp.json names", async () => {
    const feed = await published();
    // Properly signed with the snapshot key, but not the snapshot the timestamp names.
    const json = metadata(feed, "1.snapshot.json");
    json.signed.expires = "2099-01-01T00:00:00Z";
    const snapshot = Metadata.fromJSON(MetadataKind.Snapshot, json);
    snapshot.sign(signerFor(signingKey(keys.snapshot)), false);
    writeFileSync(join(feed, "metadata/1.snapshot.json"), stableJson(snapshot.toJSON()));
    expect((await refusal(feed)).message).toMatch(
      /metadata\/1\.snapshot\.json differs from the length or hash timestamp\.json gives it/,
    );
  });

  it("refuses targets other than the ones the snapshot names", async () => {
    const feed = await published();
    const json = metadata(feed, "1.targets.json");
    json.signed.expires = "2099-01-01T00:00:00Z";
    const targets = Metadata.fromJSON(MetadataKind.Targets, json);
    targets.sign(signerFor(signingKey(keys.targets)), false);
    writeFileSync(join(feed, "metadata/1.targets.json"), stableJson(targets.toJSON()));
    expect((await refusal(feed)).message).toMatch(
      /metadata\/1\.targets\.json differs from the length or hash 1\.snapshot\.json gives it/,
    );
  });

  it("refuses roots that do not form a chain from 1.root.json", async () => {
    const feed = await published();
    cpSync(join(feed, "metadata/1.root.json"), join(feed, "metadata/3.root.json"));
    expect((await refusal(feed)).message).toMatch(
      /metadata\/2\.root\.json is missing \(the feed has 3\.root\.json\)/,
    );
  });

  it("continues a feed that has expired, so installations that saw it accept the next one", async () => {
    const frozen = await published(new Date(Date.now() - 100 * DAY));
    const next = join(temp(), "feed");
    const built = await buildFeed({ root: repo, out: next, keys, previous: frozen });
    expect(built.version).toBe(2);
    // An installation last refreshed when the frozen feed was fresh: it moves on to version 2.
    const cacheDir = temp("pinline-installation-");
    mkdirSync(join(cacheDir, "metadata"));
    for (const [from, to] of [
      ["1.root.json", "root.json"],
      ["timestamp.json", "timestamp.json"],
      ["1.snapshot.json", "snapshot.json"],
      ["1.targets.json", "targets.json"],
    ] as const) {
      cpSync(join(frozen, "metadata", from), join(cacheDir, "metadata", to));
    }
    const feed = await openFeed({ feed: next, cacheDir });
    expect(feed.version()).toBe(2);
    expect((await feed.readChannel("stable")).releases[0]?.version).toBe("2.4.1");
  });

  it("upgrades a feed built before consistent snapshots: a new root turns them on, and installations follow", async () => {
    // The feed as pinline wrote it before: consistent_snapshot false, plain file names.
    const old = await published();
    const rootJson = metadata(old, "1.root.json");
    rootJson.signed.consistent_snapshot = false;
    const root = Metadata.fromJSON(MetadataKind.Root, rootJson);
    root.sign(signerFor(signingKey(keys.root)), false);
    for (const name of ["1.root.json", "root.json"])
      writeFileSync(join(old, "metadata", name), stableJson(root.toJSON()));
    for (const role of ["snapshot", "targets"])
      renameSync(join(old, "metadata", `1.${role}.json`), join(old, "metadata", `${role}.json`));
    const targets = metadata(old, "targets.json").signed.targets as Record<
      string,
      { hashes: { sha256: string } }
    >;
    for (const [path, target] of Object.entries(targets)) {
      const slash = path.lastIndexOf("/");
      const hashed = `${path.slice(0, slash + 1)}${target.hashes.sha256}.${path.slice(slash + 1)}`;
      renameSync(join(old, "targets", hashed), join(old, "targets", path));
    }
    // An installation reads it as it is.
    const cacheDir = temp("pinline-installation-");
    mkdirSync(join(cacheDir, "metadata"));
    cpSync(join(old, "metadata/1.root.json"), join(cacheDir, "metadata/root.json"));
    expect((await openFeed({ feed: old, cacheDir })).version()).toBe(1);

    const next = join(temp(), "feed");
    const built = await buildFeed({ root: repo, out: next, keys, previous: old });
    expect(built).toMatchObject({ version: 2, rootVersion: 2 });
    expect(metadata(next, "2.root.json").signed.consistent_snapshot).toBe(true);
    // The old plain-named files are not carried: only readers of a consistent feed need them.
    expect(built.files).not.toContain("metadata/snapshot.json");
    const upgraded = await openFeed({ feed: next, cacheDir });
    expect(upgraded.version()).toBe(2);
    expect(upgraded.targetFile("channels/stable.json")).toMatch(/^channels\/[0-9a-f]{64}\./);
    expect((await upgraded.readChannel("stable")).releases[0]?.version).toBe("2.4.1");
  });

  it("pinline feed timestamp continues only a timestamp the feed's root trusts", async () => {
    const feed = await published();
    const timestamp = metadata(feed, "timestamp.json");
    timestamp.signed.version = 2 ** 31;
    timestamp.signatures = [];
    writeFileSync(join(feed, "metadata/timestamp.json"), stableJson(timestamp));
    expect(() => resignTimestamp({ out: feed, keys })).toThrow(
      /metadata\/timestamp\.json \(version 2147483648\) is not signed by the timestamp key/,
    );
  });
});
