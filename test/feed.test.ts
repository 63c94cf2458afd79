/**
 * The static signed update feed (issue 7), checked by an independent TUF client: tuf-js, npm's
 * own, downloads from the feed served over HTTP on loopback, and must refuse every attack. The
 * feed uses consistent snapshots, so a reader that holds an older timestamp.json (a CDN's cache,
 * a deploy in between) still reads one whole version.
 */
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
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
import { copyExample, edit, removeCopies, replaceOnce, repoRoot } from "./harness/example-repo.js";

const temps: string[] = [];
function temp(prefix = "pinline-feed-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/**
 * A tiny static server: /<name>/<file> is served from feeds[name]; a name in `stale` serves its
 * metadata/timestamp.json from another folder (a CDN that still has the previous one cached).
 */
const feeds = new Map<string, string>();
const stale = new Map<string, string>();
let server: Server;
let base: string;

function serve(name: string, dir: string): string {
  feeds.set(name, dir);
  return `${base}/${name}`;
}

let repo: string;
const keys = generateFeedKeys();
const DAY = 24 * 60 * 60 * 1000;
const EXAMPLE_SIGNERS = [
  {
    fingerprint: "EF13F75E36F1146F2C0430C21D01C25370214718",
    userId:
      "CM Diagnostics example release manager 1 (EXAMPLE ONLY, never trust) <release-manager-1@cm-diagnostics.example.com>",
  },
  {
    fingerprint: "FA5896FC3ADF1C96F054064DF370DECCAE2EADD6",
    userId:
      "CM Diagnostics example release manager 2 (EXAMPLE ONLY, never trust) <release-manager-2@cm-diagnostics.example.com>",
  },
];

beforeAll(async () => {
  repo = copyExample();
  server = createServer((request, response) => {
    const [, name, ...rest] = decodeURIComponent(
      new URL(request.url ?? "/", "http://x").pathname,
    ).split("/");
    const cached = rest.join("/") === "metadata/timestamp.json" ? stale.get(name ?? "") : undefined;
    const dir = cached ?? feeds.get(name ?? "");
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

async function build(
  options: { now?: Date; previous?: string; keys?: FeedKeys; root?: string } = {},
) {
  const out = join(temp(), "feed");
  const built = await buildFeed({
    out,
    keys: options.keys ?? keys,
    ...options,
    root: options.root ?? repo,
  });
  return { out, ...built };
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const json = (bytes: Buffer) => JSON.parse(bytes.toString());
/** The file a target is published as: "channels/<sha256>.stable.json". */
function hashedFile(feed: string, path: string, version: number): string {
  const targets = json(readFileSync(join(feed, "metadata", `${version}.targets.json`)));
  const hash = targets.signed.targets[path].hashes.sha256 as string;
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}${hash}.${path.slice(slash + 1)}`;
}

describe("feed build, verified by tuf-js", () => {
  it("offers each channel's releases, newest first, the manifests byte for byte, and who signed each", async () => {
    const feed = await build();
    expect(feed.version).toBe(1);
    expect(feed.skipped).toEqual([]);
    expect(feed.files).toContain("metadata/1.root.json");
    const { updater } = client(serve("happy", feed.out), rootOf(feed.out));
    await updater.refresh();

    const stable = json(await download(updater, "channels/stable.json"));
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
      signedBy: EXAMPLE_SIGNERS,
    });
    expect(newest.components.backend).toMatchObject({ size: 131072000, required: true });

    const beta = json(await download(updater, "channels/beta.json"));
    expect(beta.releases.map((r: { version: string }) => r.version)).toEqual([
      "2.5.0-beta.3",
      "2.4.1",
      "2.4.0",
      "2.3.0",
      "2.0.0",
    ]);
    const early = json(await download(updater, "channels/early-access.json"));
    expect(early.releases[0].version).toBe("2.5.0-nightly.20240315");
    const acme = json(await download(updater, "channels/custom/acme.json"));
    expect(acme.releases.map((r: { version: string }) => r.version)).toEqual(["2.4.1"]);

    expect(await download(updater, "manifests/2.4.1.yaml")).toEqual(manifest);
    // The manifest's target in the signed targets metadata names its signers too.
    const info = await updater.getTargetInfo("manifests/2.4.1.yaml");
    expect(info?.custom).toEqual({ version: "2.4.1", signedBy: EXAMPLE_SIGNERS });
  });

  it("writes consistent snapshots: versioned snapshot and targets, every target under its hash", async () => {
    const feed = await build();
    const root = json(rootOf(feed.out));
    expect(root.signed.consistent_snapshot).toBe(true);
    expect(readdirSync(join(feed.out, "metadata")).sort()).toEqual([
      "1.root.json",
      "1.snapshot.json",
      "1.targets.json",
      "root.json",
      "timestamp.json",
    ]);
    const stableFile = hashedFile(feed.out, "channels/stable.json", 1);
    expect(stableFile).toMatch(/^channels\/[0-9a-f]{64}\.stable\.json$/);
    expect(existsSync(join(feed.out, "targets", stableFile))).toBe(true);
    expect(existsSync(join(feed.out, "targets/channels/stable.json"))).toBe(false);
    const manifest = readFileSync(join(repoRoot, "releases/2.4.1/release.yaml"));
    expect(
      readFileSync(join(feed.out, "targets/manifests", `${sha256(manifest)}.2.4.1.yaml`)),
    ).toEqual(manifest);
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
    const targetsOf = (out: string, version: number) =>
      json(readFileSync(join(out, `metadata/${version}.targets.json`))).signed.targets;
    expect(targetsOf(second.out, 2)).toEqual(targetsOf(first.out, 1));

    const resigned = resignTimestamp({ out: second.out, keys, now });
    expect(resigned.version).toBe(3);
    const { updater } = client(serve("resigned", second.out), rootOf(second.out));
    await updater.refresh();
    expect(
      resignTimestamp.bind(null, { out: second.out, keys: { timestamp: keys.targets } }),
    ).toThrow(/not the one the feed's root trusts/);
  });

  it("keeps the previous version's files: a reader holding the previous timestamp.json still reads one whole version", async () => {
    const root = copyExample();
    const first = await build({ root });
    edit(
      root,
      "policies/production.yaml",
      replaceOnce('versions: ["2.4.1"]', 'versions: ["2.4.0", "2.4.1"]'),
    );
    const second = await build({ root, previous: first.out });
    expect(second.missingPrevious).toEqual([]);
    // The acme index changed; the previous one stays under its own hash, beside the new one.
    const before = hashedFile(first.out, "channels/custom/acme.json", 1);
    const after = hashedFile(second.out, "channels/custom/acme.json", 2);
    expect(after).not.toBe(before);
    expect(second.files).toEqual(
      expect.arrayContaining([
        "metadata/1.snapshot.json",
        "metadata/1.targets.json",
        "metadata/2.snapshot.json",
        "metadata/2.targets.json",
        `targets/${before}`,
        `targets/${after}`,
      ]),
    );

    // The site has the second version; a CDN still hands out the first timestamp.json.
    const url = serve("mid-deploy", second.out);
    stale.set("mid-deploy", first.out);
    const behind = client(url, rootOf(first.out));
    await behind.updater.refresh();
    const versions = (index: Buffer) =>
      json(index).releases.map((r: { version: string }) => r.version);
    expect(versions(await download(behind.updater, "channels/custom/acme.json"))).toEqual([
      "2.4.1",
    ]);
    // Once the cache has the new timestamp, the same installation moves on to version 2.
    stale.delete("mid-deploy");
    const moved = reconnect(url, behind.metadataDir);
    await moved.refresh();
    expect(versions(await download(moved, "channels/custom/acme.json"))).toEqual([
      "2.4.1",
      "2.4.0",
    ]);

    // A third version drops the first one's files: one generation is kept, not every one.
    const third = await build({ root, previous: second.out });
    expect(third.files).not.toContain("metadata/1.snapshot.json");
    expect(third.files).toContain("metadata/2.snapshot.json");
    expect(third.files).not.toContain(`targets/${before}`);
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
    const old = join(temp(), "feed");
    cpSync(first.out, old, { recursive: true });
    resignTimestamp({ out: old, keys });
    resignTimestamp({ out: old, keys });
    feeds.set("rollback", old);
    await expect(reconnect(url, metadataDir).refresh()).rejects.toThrow(
      /snapshot version 1 is less than current version 2/,
    );
  });

  it("freeze: an expired timestamp", async () => {
    const feed = await build({ now: new Date(Date.now() - 8 * DAY) });
    const { updater } = client(serve("freeze", feed.out), rootOf(feed.out));
    await expect(updater.refresh()).rejects.toThrow(/timestamp.json is expired/);
  });

  it("mix-and-match: a manifest whose bytes differ from its target hash", async () => {
    const feed = await build();
    const path = join(feed.out, "targets", hashedFile(feed.out, "manifests/2.4.1.yaml", 1));
    writeFileSync(path, readFileSync(path, "utf8").replace("mandatory: true", "mandatory: ffff"));
    const { updater } = client(serve("substitute", feed.out), rootOf(feed.out));
    await updater.refresh();
    await expect(download(updater, "manifests/2.4.1.yaml")).rejects.toThrow(/hash/i);

    // Another release's (validly signed) manifest served under 2.4.1's name.
    cpSync(join(feed.out, "targets", hashedFile(feed.out, "manifests/2.4.0.yaml", 1)), path);
    await expect(download(updater, "manifests/2.4.1.yaml")).rejects.toThrow(/hash|length/i);
  });

  it("endless data: a target longer than its stated length", async () => {
    const feed = await build();
    const path = join(feed.out, "targets", hashedFile(feed.out, "channels/stable.json", 1));
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
    const targets = Metadata.fromJSON(MetadataKind.Targets, read("1.targets.json"));
    targets.sign(signerFor(signingKey(generateFeedKeys().targets)), false);
    const targetsBytes = write("1.targets.json", targets);
    const snapshot = Metadata.fromJSON(MetadataKind.Snapshot, read("1.snapshot.json"));
    snapshot.signed.meta["targets.json"] = new MetaFile({
      version: targets.signed.version,
      length: targetsBytes.length,
      hashes: { sha256: sha256(targetsBytes) },
    });
    snapshot.sign(signerFor(signingKey(keys.snapshot)), false);
    const snapshotBytes = write("1.snapshot.json", snapshot);
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

    // Without the old root key, the build does not even trust the feed it would continue.
    await expect(build({ previous: first.out, keys: rotated })).rejects.toThrow(
      /is not signed by the root key given: its newest root, metadata\/1\.root\.json/,
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

    // After the rotation the new root key alone continues the feed.
    const after = await build({ previous: right.out, keys: rotated });
    expect(after.rootVersion).toBe(2);

    // Done wrong: version 2 of the root signed only by the new root key.
    const wrong = join(temp(), "feed");
    cpSync(right.out, wrong, { recursive: true });
    const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(rootOf(wrong, 2).toString()));
    root.sign(signerFor(signingKey(rotated.root)), false);
    writeFileSync(join(wrong, "metadata/2.root.json"), stableJson(root.toJSON()));
    const refused = client(serve("rotation-wrong", wrong), rootOf(first.out));
    await expect(refused.updater.refresh()).rejects.toThrow(/root was signed by 0\/1 keys/);
    // …and a build refuses to continue it, naming the broken link.
    await expect(build({ previous: wrong, keys: rotated })).rejects.toThrow(
      /metadata\/2\.root\.json is not signed by the root keys of 1\.root\.json/,
    );
  });
});
