/**
 * The static signed update feed (issue 7), checked by an independent TUF client: tuf-js, npm's
 * own, downloads from the feed served over HTTP on loopback, and must refuse every attack.
 */
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize, sep } from "node:path";
import {
  Metadata,
  MetadataKind,
  MetaFile,
  type Snapshot,
  type Targets,
  Timestamp,
} from "@tufjs/models";
import { Updater } from "tuf-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFeed, resignTimestamp } from "../src/feed/build-feed.js";
import { stableJson } from "../src/feed/feed-targets.js";
import { type FeedKeys, generateFeedKeys, signerFor, signingKey } from "../src/feed/keys.js";
import { copyExample, removeCopies, repoRoot } from "./harness/example-repo.js";

const temps: string[] = [];
function temp(prefix = "pinline-feed-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A tiny static server: /<name>/<file> is served from feeds[name]. */
const feeds = new Map<string, string>();
let server: Server;
let base: string;

function serve(name: string, dir: string): string {
  feeds.set(name, dir);
  return `${base}/${name}`;
}

let repo: string;
const keys = generateFeedKeys();
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  repo = copyExample();
  server = createServer((request, response) => {
    const [, name, ...rest] = decodeURIComponent(
      new URL(request.url ?? "/", "http://x").pathname,
    ).split("/");
    const dir = feeds.get(name ?? "");
    const path = dir ? normalize(join(dir, ...rest)) : undefined;
    if (!dir || !path?.startsWith(dir + sep)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const bytes = readFileSync(path);
      response.writeHead(200, { "content-type": "application/octet-stream" }).end(bytes);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

/** An installation: a fresh metadata dir trusting `trustedRoot` (bytes of a N.root.json). */
function client(url: string, trustedRoot: Buffer, metadataDir = temp("pinline-tuf-client-")) {
  writeFileSync(join(metadataDir, "root.json"), trustedRoot);
  const targetDir = temp("pinline-tuf-targets-");
  const updater = new Updater({
    metadataDir,
    metadataBaseUrl: `${url}/metadata`,
    targetBaseUrl: `${url}/targets`,
    targetDir,
    config: { fetchRetries: 0, fetchTimeout: 5000 },
  });
  return { updater, metadataDir };
}

/** A client that keeps its metadata dir (what it has seen) across feeds. */
function reconnect(url: string, metadataDir: string) {
  return new Updater({
    metadataDir,
    metadataBaseUrl: `${url}/metadata`,
    targetBaseUrl: `${url}/targets`,
    targetDir: temp("pinline-tuf-targets-"),
    config: { fetchRetries: 0, fetchTimeout: 5000 },
  });
}

async function download(updater: Updater, path: string): Promise<Buffer> {
  const info = await updater.getTargetInfo(path);
  if (!info) throw new Error(`${path} is not a target`);
  return readFileSync(await updater.downloadTarget(info));
}

function rootOf(feed: string, version = 1): Buffer {
  return readFileSync(join(feed, "metadata", `${version}.root.json`));
}

async function build(options: { now?: Date; previous?: string; keys?: FeedKeys } = {}) {
  const out = join(temp(), "feed");
  const built = await buildFeed({ root: repo, out, keys: options.keys ?? keys, ...options });
  return { out, ...built };
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("feed build, verified by tuf-js", () => {
  it("offers each channel's releases, newest first, and the manifests byte for byte", async () => {
    const feed = await build();
    expect(feed.version).toBe(1);
    expect(feed.files).toContain("metadata/1.root.json");
    expect(feed.files).toContain("targets/channels/custom/acme.json");
    const { updater } = client(serve("happy", feed.out), rootOf(feed.out));
    await updater.refresh();

    const stable = JSON.parse((await download(updater, "channels/stable.json")).toString());
    expect(stable.releases.map((r: { version: string }) => r.version)).toEqual([
      "2.4.1",
      "2.4.0",
      "2.3.0",
      "2.0.0",
    ]);
    const newest = stable.releases[0];
    const manifest = readFileSync(join(repoRoot, "releases/2.4.1/release.yaml"));
    expect(newest).toMatchObject({
      version: "2.4.1",
      channel: "stable",
      mandatory: true,
      minimumVersion: "2.0.0",
      releaseNotes: "https://updates.cm-diagnostics.example.com/releases/2.4.1",
      downloadUrl: "ghcr.io/acme/cm-diagnostics-backend:2.4.1",
      manifest: { path: "manifests/2.4.1.yaml", size: manifest.length, sha256: sha256(manifest) },
    });
    expect(newest.components.backend).toMatchObject({ size: 131072000, required: true });

    const beta = JSON.parse((await download(updater, "channels/beta.json")).toString());
    expect(beta.releases.map((r: { version: string }) => r.version)).toEqual([
      "2.5.0-beta.3",
      "2.4.1",
      "2.4.0",
      "2.3.0",
      "2.0.0",
    ]);
    const early = JSON.parse((await download(updater, "channels/early-access.json")).toString());
    expect(early.releases[0].version).toBe("2.5.0-nightly.20240315");
    const acme = JSON.parse((await download(updater, "channels/custom/acme.json")).toString());
    expect(acme.releases.map((r: { version: string }) => r.version)).toEqual(["2.4.1"]);

    expect(await download(updater, "manifests/2.4.1.yaml")).toEqual(manifest);
  });

  it("is deterministic apart from versions and expiries, and continues the versions", async () => {
    const now = new Date();
    const first = await build({ now });
    const second = await build({ now, previous: first.out });
    expect(second.version).toBe(2);
    expect(second.rootVersion).toBe(1);
    for (const file of first.files.filter((f) => f.startsWith("targets/"))) {
      expect(readFileSync(join(second.out, file))).toEqual(readFileSync(join(first.out, file)));
    }
    expect(rootOf(second.out)).toEqual(rootOf(first.out));
    const targetsOf = (out: string) =>
      JSON.parse(readFileSync(join(out, "metadata/targets.json"), "utf8")).signed.targets;
    expect(targetsOf(second.out)).toEqual(targetsOf(first.out));

    const resigned = resignTimestamp({ out: second.out, keys, now });
    expect(resigned.version).toBe(3);
    const { updater } = client(serve("resigned", second.out), rootOf(second.out));
    await updater.refresh();
    expect(
      resignTimestamp.bind(null, { out: second.out, keys: { timestamp: keys.targets } }),
    ).toThrow(/not the one the feed's root trusts/);
  });
});

describe("TUF attacks, refused by tuf-js", () => {
  it("rollback: an older timestamp, and a newer timestamp pointing at an older snapshot", async () => {
    const first = await build();
    const second = await build({ previous: first.out });
    const url = serve("rollback", second.out);
    const { updater, metadataDir } = client(url, rootOf(second.out));
    await updater.refresh();

    feeds.set("rollback", first.out);
    await expect(reconnect(url, metadataDir).refresh()).rejects.toThrow(
      /timestamp version 1 is less than current version 2/,
    );

    // An attacker holding the timestamp key re-signs the old feed's timestamp (version 3 > 2).
    const stale = join(temp(), "feed");
    cpSync(first.out, stale, { recursive: true });
    resignTimestamp({ out: stale, keys });
    resignTimestamp({ out: stale, keys });
    feeds.set("rollback", stale);
    await expect(reconnect(url, metadataDir).refresh()).rejects.toThrow(
      /snapshot version 1 is less than current version 2/,
    );
  });

  it("freeze: an expired timestamp", async () => {
    const feed = await build({ now: new Date(Date.now() - 2 * DAY) });
    const { updater } = client(serve("freeze", feed.out), rootOf(feed.out));
    await expect(updater.refresh()).rejects.toThrow(/timestamp.json is expired/);
  });

  it("mix-and-match: a manifest whose bytes differ from its target hash", async () => {
    const feed = await build();
    const path = join(feed.out, "targets/manifests/2.4.1.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace("mandatory: true", "mandatory: ffff"));
    const { updater } = client(serve("substitute", feed.out), rootOf(feed.out));
    await updater.refresh();
    await expect(download(updater, "manifests/2.4.1.yaml")).rejects.toThrow(/hash/i);

    // Another release's (validly signed) manifest served under 2.4.1's name.
    cpSync(join(feed.out, "targets/manifests/2.4.0.yaml"), path);
    await expect(download(updater, "manifests/2.4.1.yaml")).rejects.toThrow(/hash|length/i);
  });

  it("endless data: a target longer than its stated length", async () => {
    const feed = await build();
    const path = join(feed.out, "targets/channels/stable.json");
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(1 << 20, 0x20)]));
    const { updater } = client(serve("endless", feed.out), rootOf(feed.out));
    await updater.refresh();
    await expect(download(updater, "channels/stable.json")).rejects.toThrow(/max length/i);
  });

  it("metadata signed below threshold: targets signed by a key the root does not trust", async () => {
    const feed = await build();
    const dir = join(feed.out, "metadata");
    const read = (name: string) => JSON.parse(readFileSync(join(dir, name), "utf8"));
    const write = (name: string, md: Metadata<Targets | Snapshot | Timestamp>) => {
      const bytes = Buffer.from(stableJson(md.toJSON()));
      writeFileSync(join(dir, name), bytes);
      return bytes;
    };
    // The attacker holds the snapshot and timestamp keys, not the targets key.
    const targets = Metadata.fromJSON(MetadataKind.Targets, read("targets.json"));
    targets.sign(signerFor(signingKey(generateFeedKeys().targets)), false);
    const targetsBytes = write("targets.json", targets);
    const snapshot = Metadata.fromJSON(MetadataKind.Snapshot, read("snapshot.json"));
    snapshot.signed.meta["targets.json"] = new MetaFile({
      version: targets.signed.version,
      length: targetsBytes.length,
      hashes: { sha256: sha256(targetsBytes) },
    });
    snapshot.sign(signerFor(signingKey(keys.snapshot)), false);
    const snapshotBytes = write("snapshot.json", snapshot);
    const old = Metadata.fromJSON(MetadataKind.Timestamp, read("timestamp.json"));
    const timestamp = new Metadata(
      new Timestamp({
        version: old.signed.version,
        specVersion: old.signed.specVersion,
        expires: old.signed.expires,
        snapshotMeta: new MetaFile({
          version: snapshot.signed.version,
          length: snapshotBytes.length,
          hashes: { sha256: sha256(snapshotBytes) },
        }),
      }),
    );
    timestamp.sign(signerFor(signingKey(keys.timestamp)));
    write("timestamp.json", timestamp);

    const { updater } = client(serve("threshold", feed.out), rootOf(feed.out));
    await expect(updater.refresh()).rejects.toThrow(/targets was signed by 0\/1 keys/);
  });

  it("key rotation: a new root signed by the old and new root keys is accepted, by the new alone refused", async () => {
    const first = await build();
    const rotated = { ...generateFeedKeys(), targets: keys.targets, snapshot: keys.snapshot };

    await expect(build({ previous: first.out, keys: rotated })).rejects.toThrow(
      /would not be trusted by clients of root version 1/,
    );

    const right = await build({
      previous: first.out,
      keys: { ...rotated, previousRoot: [keys.root] },
    });
    expect(right.rootVersion).toBe(2);
    expect(right.files).toEqual(
      expect.arrayContaining(["metadata/1.root.json", "metadata/2.root.json"]),
    );
    const accepted = client(serve("rotation-right", right.out), rootOf(first.out));
    await accepted.updater.refresh();
    expect(
      JSON.parse(readFileSync(join(accepted.metadataDir, "root.json"), "utf8")).signed.version,
    ).toBe(2);
    expect((await download(accepted.updater, "manifests/2.4.1.yaml")).length).toBeGreaterThan(0);

    // Done wrong: version 2 of the root signed only by the new root key.
    const wrong = join(temp(), "feed");
    cpSync(right.out, wrong, { recursive: true });
    const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(rootOf(wrong, 2).toString()));
    root.sign(signerFor(signingKey(rotated.root)), false);
    writeFileSync(join(wrong, "metadata/2.root.json"), stableJson(root.toJSON()));
    const refused = client(serve("rotation-wrong", wrong), rootOf(first.out));
    await expect(refused.updater.refresh()).rejects.toThrow(/root was signed by 0\/1 keys/);
  });
});
