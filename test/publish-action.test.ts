/**
 * actions/publish, run as the runner runs it, against a feed site served on loopback (standing in
 * for GitHub Pages): what it publishes must verify with tuf-js, list only releases that verify,
 * continue the versions of the published feed only once that feed verifies against the root
 * key, rotate the root key so installations follow, fail loudly (and still hand over the new
 * feed) when the published feed was close to expiry, and fail without writing anything when a
 * key, a release or the site is wrong.
 */
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
import { Updater } from "tuf-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildFeed } from "../src/feed/build-feed.js";
import { stableJson } from "../src/feed/feed-targets.js";
import { generateFeedKeys } from "../src/feed/keys.js";
import { copyExample, edit, removeCopies, replaceOnce, repoRoot } from "./harness/example-repo.js";
import { runActionAsync } from "./harness/runner.js";

const keys = generateFeedKeys();
const keyEnv = {
  PINLINE_FEED_ROOT_KEY: keys.root,
  PINLINE_FEED_TARGETS_KEY: keys.targets,
  PINLINE_FEED_SNAPSHOT_KEY: keys.snapshot,
  PINLINE_FEED_TIMESTAMP_KEY: keys.timestamp,
};
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const temps: string[] = [];
function temp(prefix = "pinline-site-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** The "site": /<name>/<file> is served from sites[name]; /broken/… answers 500; the rest 404. */
const sites = new Map<string, string>();
const requests: string[] = [];
let server: Server;
let base: string;

/** Serves a copy of `feed` as it would be deployed, so later builds cannot change it. */
function deploy(name: string, feed: string): string {
  const copy = join(temp(), "site");
  cpSync(feed, copy, { recursive: true });
  sites.set(name, copy);
  return `${base}/${name}/`;
}

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.url ?? "");
    const [, name, ...rest] = decodeURIComponent(
      new URL(request.url ?? "/", "http://x").pathname,
    ).split("/");
    if (name === "broken") {
      response.writeHead(500, "Internal Server Error").end();
      return;
    }
    const dir = sites.get(name ?? "");
    const path = dir ? normalize(join(dir, ...rest)) : undefined;
    if (!dir || !path?.startsWith(dir + sep)) {
      response.writeHead(404).end();
      return;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

function publish(
  workspace: string,
  inputs: Record<string, string>,
  env: Record<string, string> = keyEnv,
) {
  return runActionAsync("publish", { workspace, inputs, env, eventName: "push" });
}

/** An installation that trusts the feed's first root and keeps what it has seen in `metadataDir`. */
function installation(siteUrl: string, metadataDir: string): Updater {
  return new Updater({
    metadataDir,
    metadataBaseUrl: `${siteUrl}metadata`,
    targetBaseUrl: `${siteUrl}targets`,
    targetDir: temp("pinline-tuf-targets-"),
    config: { fetchRetries: 0, fetchTimeout: 5000 },
  });
}

function trustFirstRoot(feed: string): string {
  const metadataDir = temp("pinline-tuf-client-");
  cpSync(join(feed, "metadata/1.root.json"), join(metadataDir, "root.json"));
  return metadataDir;
}

async function download(updater: Updater, path: string): Promise<Buffer> {
  const info = await updater.getTargetInfo(path);
  if (!info) throw new Error(`${path} is not a target`);
  return readFileSync(await updater.downloadTarget(info));
}

/** The signed part of a role's metadata as the feed serves it (versioned names followed). */
function signed(feed: string, role: "timestamp" | "snapshot" | "targets" | "root") {
  const read = (file: string) =>
    JSON.parse(readFileSync(join(feed, "metadata", file), "utf8")).signed as {
      version: number;
      expires: string;
      meta: Record<string, { version: number }>;
      targets: Record<string, { hashes: { sha256: string } }>;
    };
  if (role === "timestamp" || role === "root") return read(`${role}.json`);
  const snapshot = read(`${read("timestamp.json").meta["snapshot.json"]?.version}.snapshot.json`);
  if (role === "snapshot") return snapshot;
  return read(`${snapshot.meta["targets.json"]?.version}.targets.json`);
}
const versionsOf = (index: Buffer) =>
  (JSON.parse(index.toString()).releases as { version: string }[]).map((r) => r.version);
const errorsOf = (run: { commands: { command: string; message: string }[] }) =>
  run.commands.filter((c) => c.command === "error").map((c) => c.message);
const warningsOf = (run: { commands: { command: string; message: string }[] }) =>
  run.commands.filter((c) => c.command === "warning").map((c) => c.message);

/** A copy of 2.4.1 as 2.4.2, not signed: a release that does not verify. */
function addUnsignedRelease(workspace: string): void {
  cpSync(join(workspace, "releases/2.4.1"), join(workspace, "releases/2.4.2"), {
    recursive: true,
  });
  rmSync(join(workspace, "releases/2.4.2/release.yaml.asc"));
  edit(workspace, "releases/2.4.2/release.yaml", (text) =>
    text.replaceAll('version: "2.4.1"', 'version: "2.4.2"'),
  );
}

describe("actions/publish", () => {
  it("declares node24, its bundle, and the inputs and outputs the workflow uses", () => {
    const action = parse(readFileSync(join(repoRoot, "actions/publish/action.yml"), "utf8"));
    expect(action.runs).toEqual({ using: "node24", main: "../../dist/publish.js" });
    expect(Object.keys(action.inputs)).toEqual([
      "root",
      "out",
      "mode",
      "previous-url",
      "previous",
      "skip-unverified",
      "expiry-margin",
    ]);
    expect(action.inputs["skip-unverified"].default).toBe("false");
    expect(action.inputs["expiry-margin"].default).toBe("5d");
    expect(Object.keys(action.outputs)).toEqual(["version", "root-version", "path"]);
  });

  it("publishes a first feed when the site has none, and tuf-js verifies it", async () => {
    const workspace = copyExample();
    const run = await publish(workspace, { "previous-url": `${base}/nothing-yet/` });
    expect(errorsOf(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toEqual({
      version: "1",
      "root-version": "1",
      path: join(workspace, "feed"),
    });
    expect(run.summary).toContain("## pinline publish: feed version 1 (root 1)");
    expect(run.summary).toContain("Built the first version: no published feed was found.");
    expect(run.summary).toContain("| stable | 4 | 2.4.1 |");
    expect(run.summary).toContain("| custom:acme | 1 | 2.4.1 |");
    expect(run.summary).toMatch(/\| timestamp\.json \| 1 \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \|/);
    expect(run.summary).toMatch(/\| 1\.snapshot\.json \| 1 \| /);

    // Every line of every key is masked, and no other output line shows one.
    const keyLines = Object.values(keys).flatMap((pem) =>
      pem
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean),
    );
    const masks = run.commands.filter((c) => c.command === "add-mask").map((c) => c.message);
    expect(masks).toEqual(keyLines);
    const rest = run.stdout.split("\n").filter((l) => !l.startsWith("::add-mask::"));
    for (const line of keyLines.filter((l) => !l.startsWith("-----")))
      expect(rest.join("\n")).not.toContain(line);

    const feed = join(workspace, "feed");
    const site = deploy("first", feed);
    const updater = installation(site, trustFirstRoot(feed));
    await updater.refresh();
    expect(versionsOf(await download(updater, "channels/stable.json"))).toEqual([
      "2.4.1",
      "2.4.0",
      "2.3.0",
      "2.0.0",
    ]);
    expect(await download(updater, "manifests/2.4.1.yaml")).toEqual(
      readFileSync(join(repoRoot, "releases/2.4.1/release.yaml")),
    );
  });

  it("continues the published feed: versions go up and an installation that saw it accepts the next", async () => {
    const workspace = copyExample();
    const first = await publish(workspace, { "previous-url": `${base}/nothing-yet/` });
    expect(first.code).toBe(0);
    const firstFeed = join(temp(), "feed");
    cpSync(join(workspace, "feed"), firstFeed, { recursive: true });
    const site = deploy("pages", firstFeed);
    const metadataDir = trustFirstRoot(firstFeed);
    await installation(site, metadataDir).refresh();

    // A push lets customer acme's channel have 2.4.0 too; the workflow publishes from the site.
    edit(
      workspace,
      "policies/production.yaml",
      replaceOnce('versions: ["2.4.1"]', 'versions: ["2.4.0", "2.4.1"]'),
    );
    requests.length = 0;
    const second = await publish(workspace, { "previous-url": site.replace(/\/$/, "") });
    expect(errorsOf(second)).toEqual([]);
    expect(second.code).toBe(0);
    expect(second.outputs).toMatchObject({ version: "2", "root-version": "1" });
    expect(second.summary).toContain("Built a new version from the releases and policies.");
    expect(second.summary).toContain("| custom:acme | 2 | 2.4.1 |");
    expect(second.summary).toMatch(
      /The feed published before this run had 6d23h\d+m left \(timestamp\.json; the run fails below 5d\)\./,
    );
    // The metadata was read back as a TUF client walks it, each file with a query no cache has
    // seen; then the one target of the published version the new one does not have.
    const acmeBefore = signed(firstFeed, "targets").targets["channels/custom/acme.json"]?.hashes
      .sha256;
    expect(requests.map((r) => r.replace(/\?pinline-fresh=[\d-]+$/, ""))).toEqual([
      ...["timestamp.json", "1.root.json", "2.root.json", "1.snapshot.json", "1.targets.json"].map(
        (f) => `/pages/metadata/${f}`,
      ),
      `/pages/targets/channels/custom/${acmeBefore}.acme.json`,
    ]);

    const secondFeed = join(workspace, "feed");
    for (const role of ["timestamp", "snapshot", "targets"] as const) {
      expect(signed(secondFeed, role).version).toBeGreaterThan(signed(firstFeed, role).version);
    }
    expect(readFileSync(join(secondFeed, "metadata/root.json"))).toEqual(
      readFileSync(join(firstFeed, "metadata/root.json")),
    );
    // The published version's files stay for readers that still hold its timestamp.json.
    for (const file of [
      "metadata/1.snapshot.json",
      "metadata/1.targets.json",
      `targets/channels/custom/${acmeBefore}.acme.json`,
    ]) {
      expect(readFileSync(join(secondFeed, file))).toEqual(readFileSync(join(firstFeed, file)));
    }

    deploy("pages", secondFeed);
    const updater = installation(site, metadataDir);
    await updater.refresh();
    expect(versionsOf(await download(updater, "channels/custom/acme.json"))).toEqual([
      "2.4.1",
      "2.4.0",
    ]);
  });

  it("mode timestamp re-signs only the timestamp and moves its expiry", async () => {
    const workspace = copyExample();
    const published = join(temp(), "feed");
    await buildFeed({ root: workspace, out: published, keys, now: new Date(Date.now() - HOUR) });
    const site = deploy("scheduled", published);
    const metadataDir = trustFirstRoot(published);
    await installation(site, metadataDir).refresh();

    const run = await publish(workspace, { mode: "timestamp", "previous-url": site });
    expect(errorsOf(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ version: "2", "root-version": "1" });
    expect(run.summary).toContain(
      "Re-signed the timestamp only: the releases and policies are as published.",
    );

    const feed = join(workspace, "feed");
    expect(readdirSync(join(feed, "metadata")).sort()).toEqual(
      readdirSync(join(published, "metadata")).sort(),
    );
    for (const file of ["1.targets.json", "1.snapshot.json", "root.json", "1.root.json"]) {
      expect(readFileSync(join(feed, "metadata", file))).toEqual(
        readFileSync(join(published, "metadata", file)),
      );
    }
    expect(signed(feed, "timestamp").version).toBe(2);
    expect(signed(feed, "timestamp").meta["snapshot.json"]?.version).toBe(1);
    const moved =
      Date.parse(signed(feed, "timestamp").expires) -
      Date.parse(signed(published, "timestamp").expires);
    expect(moved).toBeGreaterThanOrEqual(HOUR - 1000);
    expect(readdirSync(join(feed, "targets/manifests")).sort()).toEqual(
      readdirSync(join(published, "targets/manifests")).sort(),
    );

    deploy("scheduled", feed);
    const updater = installation(site, metadataDir);
    await updater.refresh();
    expect(await download(updater, "manifests/2.4.1.yaml")).toEqual(
      readFileSync(join(repoRoot, "releases/2.4.1/release.yaml")),
    );
  });

  it("mode timestamp publishes a whole new version when the releases changed since the last publication", async () => {
    const workspace = copyExample();
    const published = join(temp(), "feed");
    await buildFeed({ root: workspace, out: published, keys });
    const site = deploy("changed", published);
    const metadataDir = trustFirstRoot(published);
    rmSync(join(workspace, "releases/2.5.0-nightly.20240315"), { recursive: true });

    const run = await publish(workspace, { mode: "timestamp", "previous-url": site });
    expect(run.code).toBe(0);
    expect(run.summary).toContain(
      "Built a whole new version instead of re-signing the timestamp: the releases or policies differ from the published feed.",
    );
    const feed = join(workspace, "feed");
    expect(signed(feed, "snapshot").version).toBe(2);
    expect(
      signed(feed, "targets").targets["manifests/2.5.0-nightly.20240315.yaml"],
    ).toBeUndefined();

    deploy("changed", feed);
    const updater = installation(site, metadataDir);
    await updater.refresh();
    expect(versionsOf(await download(updater, "channels/early-access.json"))[0]).toBe(
      "2.5.0-beta.3",
    );
  });

  it("mode timestamp renews snapshot and targets that expire within 30 days", async () => {
    const workspace = copyExample();
    const published = join(temp(), "feed");
    await buildFeed({
      root: workspace,
      out: published,
      keys,
      expires: { snapshot: "20d", targets: "25d" },
    });
    const site = deploy("renew", published);
    const metadataDir = trustFirstRoot(published);

    const run = await publish(workspace, { mode: "timestamp", "previous-url": site });
    expect(errorsOf(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.summary).toMatch(
      /Built a whole new version instead of re-signing the timestamp: the published 1\.snapshot\.json expires at \S+, within 30d: it is renewed now\./,
    );
    const feed = join(workspace, "feed");
    expect(signed(feed, "snapshot").version).toBe(2);
    expect(Date.parse(signed(feed, "snapshot").expires)).toBeGreaterThan(Date.now() + 89 * DAY);
    expect(Date.parse(signed(feed, "targets").expires)).toBeGreaterThan(Date.now() + 89 * DAY);

    deploy("renew", feed);
    await installation(site, metadataDir).refresh();
  });

  it("fails loudly when the published feed had less than the margin left, and still hands over the new feed", async () => {
    const workspace = copyExample();
    const published = join(temp(), "feed");
    // Published 3 days ago; every scheduled run since was dropped: 4 days of the 7 are left.
    await buildFeed({ root: workspace, out: published, keys, now: new Date(Date.now() - 3 * DAY) });
    const site = deploy("late", published);
    const metadataDir = trustFirstRoot(published);

    const run = await publish(workspace, { mode: "timestamp", "previous-url": site });
    expect(run.code).toBe(1);
    const [error] = errorsOf(run);
    expect(error).toMatch(
      /^the published feed had only 3d23h\d+m left \(timestamp\.json expires at \S+\), less than the expiry-margin of 5d\. This run wrote feed version 2 and set its path, so the deploy steps after it still run; but the runs before it did not re-sign the feed in time \(look at the publish workflow's runs: GitHub delays or drops scheduled runs under load/,
    );
    expect(run.summary).toContain("> [!CAUTION]");
    expect(run.summary).toContain("> the published feed had only 3d23h");
    expect(run.summary).toContain("Re-signed the timestamp only");
    // The feed is written and its path given, so the workflow's deploy steps still run.
    expect(run.outputs).toEqual({
      version: "2",
      "root-version": "1",
      path: join(workspace, "feed"),
    });
    const feed = join(workspace, "feed");
    expect(Date.parse(signed(feed, "timestamp").expires)).toBeGreaterThan(Date.now() + 6 * DAY);
    deploy("late", feed);
    await installation(site, metadataDir).refresh();

    // Once it is deployed, the next scheduled run finds a feed with time to spare.
    const next = await publish(workspace, { mode: "timestamp", "previous-url": site });
    expect(errorsOf(next)).toEqual([]);
    expect(next.code).toBe(0);
    expect(next.outputs).toMatchObject({ version: "3" });
  });

  it("fails loudly on a published feed that has already expired, and renews it", async () => {
    const workspace = copyExample();
    const published = join(temp(), "feed");
    await buildFeed({ root: workspace, out: published, keys, now: new Date(Date.now() - 9 * DAY) });
    const site = deploy("expired", published);
    const run = await publish(workspace, { mode: "timestamp", "previous-url": site });
    expect(run.code).toBe(1);
    expect(errorsOf(run)[0]).toMatch(
      /^the published feed had expired 2d(\d+m)? ago \(timestamp\.json expired at \S+\): installations have been refusing it since\./,
    );
    expect(run.outputs.path).toBe(join(workspace, "feed"));
    const feed = join(workspace, "feed");
    deploy("expired", feed);
    await installation(site, trustFirstRoot(feed)).refresh();
  });

  it("refuses an expiry-margin that leaves no room", async () => {
    const workspace = copyExample();
    const run = await publish(workspace, {
      "previous-url": `${base}/nothing-yet/`,
      "expiry-margin": "7d",
    });
    expect(run.code).toBe(1);
    expect(errorsOf(run)[0]).toContain(
      "expiry-margin 7d is not less than the timestamp's lifetime (7d): every run would fail",
    );
    expect(existsSync(join(workspace, "feed"))).toBe(false);
  });

  it("continues a local copy of the published feed given as previous", async () => {
    const workspace = copyExample();
    await buildFeed({ root: workspace, out: join(workspace, "published"), keys });
    const run = await publish(workspace, { previous: "published", out: "published" });
    expect(errorsOf(run)).toEqual([]);
    expect(run.outputs).toMatchObject({ version: "2", path: join(workspace, "published") });
    expect(signed(join(workspace, "published"), "snapshot").version).toBe(2);
    expect(readdirSync(workspace).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("fails naming every release that does not verify, and writes nothing; skip-unverified leaves them out with a warning", async () => {
    const workspace = copyExample();
    addUnsignedRelease(workspace);
    edit(workspace, "releases/2.3.0/release.yaml", (text) => `${text}# edited after signing\n`);
    const refused = await publish(workspace, { "previous-url": `${base}/nothing-yet/` });
    expect(refused.code).toBe(1);
    const [error] = errorsOf(refused);
    expect(error).toContain("the feed lists only releases that verify, and 2 releases do not");
    expect(error).toContain("- 2.3.0: releases/2.3.0/release.yaml: only 0 of 2 required");
    expect(error).toContain(
      "- 2.4.2: releases/2.4.2/release.yaml: is not signed: releases/2.4.2/release.yaml.asc does not exist",
    );
    expect(refused.outputs).toEqual({});
    expect(existsSync(join(workspace, "feed"))).toBe(false);

    const skipped = await publish(workspace, {
      "previous-url": `${base}/nothing-yet/`,
      "skip-unverified": "true",
    });
    expect(errorsOf(skipped)).toEqual([]);
    expect(skipped.code).toBe(0);
    expect(warningsOf(skipped)).toEqual([
      expect.stringMatching(
        /^left out of the feed \(skip-unverified\): 2\.3\.0: releases\/2\.3\.0\/release\.yaml: only 0 of 2/,
      ),
      expect.stringMatching(
        /^left out of the feed \(skip-unverified\): 2\.4\.2: releases\/2\.4\.2\/release\.yaml: is not signed/,
      ),
    ]);
    expect(skipped.summary).toContain("> Left out because they do not verify (skip-unverified):");
    expect(skipped.summary).toContain("> - 2.4.2: releases/2.4.2/release.yaml: is not signed");
    expect(skipped.summary).toContain("| stable | 3 | 2.4.1 |");

    const feed = join(workspace, "feed");
    const updater = installation(deploy("skipped", feed), trustFirstRoot(feed));
    await updater.refresh();
    expect(versionsOf(await download(updater, "channels/stable.json"))).toEqual([
      "2.4.1",
      "2.4.0",
      "2.0.0",
    ]);
    expect(await updater.getTargetInfo("manifests/2.4.2.yaml")).toBeUndefined();
  });

  it("refuses to continue a published timestamp of version 2^31 that nobody signed, and writes nothing", async () => {
    const workspace = copyExample();
    const genuine = join(temp(), "feed");
    await buildFeed({ root: workspace, out: genuine, keys });
    const site = deploy("hostile", genuine);
    // Whoever controls the site serves a timestamp with a huge version and no signature.
    const path = join(sites.get("hostile") as string, "metadata/timestamp.json");
    const timestamp = JSON.parse(readFileSync(path, "utf8"));
    timestamp.signed.version = 2 ** 31;
    timestamp.signatures = [];
    writeFileSync(path, stableJson(timestamp));

    const before = readdirSync(workspace).sort();
    const run = await publish(workspace, { "previous-url": site });
    expect(run.code).toBe(1);
    const [error] = errorsOf(run);
    expect(error).toMatch(
      /the feed at \S+ does not verify: metadata\/timestamp\.json \(version 2147483648\) is not signed by the timestamp key of the feed's root \(1\.root\.json\): timestamp was signed by 0\/1 keys; refusing to continue its versions \(nothing was built/,
    );
    expect(run.outputs).toEqual({});
    expect(readdirSync(workspace).sort()).toEqual(before);
  });

  it("refuses to continue a site that another set of keys published", async () => {
    const workspace = copyExample();
    const theirs = join(temp(), "feed");
    await buildFeed({ root: workspace, out: theirs, keys: generateFeedKeys() });
    const run = await publish(workspace, { "previous-url": deploy("theirs", theirs) });
    expect(run.code).toBe(1);
    expect(errorsOf(run)[0]).toMatch(
      /is not signed by the root key given: its newest root, metadata\/1\.root\.json, trusts root key/,
    );
    expect(existsSync(join(workspace, "feed"))).toBe(false);
  });

  it("rotates the root key with PINLINE_FEED_PREVIOUS_ROOT_KEY: installations that trusted the old root follow", async () => {
    const workspace = copyExample();
    const first = await publish(workspace, { "previous-url": `${base}/nothing-yet/` });
    expect(first.code).toBe(0);
    const firstFeed = join(temp(), "feed");
    cpSync(join(workspace, "feed"), firstFeed, { recursive: true });
    const site = deploy("rotating", firstFeed);
    const metadataDir = trustFirstRoot(firstFeed);
    await installation(site, metadataDir).refresh();

    const newRoot = generateFeedKeys().root;
    const rotated = { ...keyEnv, PINLINE_FEED_ROOT_KEY: newRoot };
    // The new root key alone is refused: installations would not trust a root only it signed.
    const alone = await publish(workspace, { "previous-url": site }, rotated);
    expect(alone.code).toBe(1);
    expect(errorsOf(alone)[0]).toContain("is not signed by the root key given");
    expect(errorsOf(alone)[0]).toContain("PINLINE_FEED_PREVIOUS_ROOT_KEY");

    const run = await publish(
      workspace,
      { "previous-url": site },
      { ...rotated, PINLINE_FEED_PREVIOUS_ROOT_KEY: keys.root },
    );
    expect(errorsOf(run)).toEqual([]);
    expect(run.outputs).toMatchObject({ version: "2", "root-version": "2" });
    const masks = run.commands.filter((c) => c.command === "add-mask").map((c) => c.message);
    for (const line of keys.root.split("\n").filter((l) => l.trim()))
      expect(masks).toContain(line.trim());
    const feed = join(workspace, "feed");
    const root2 = JSON.parse(readFileSync(join(feed, "metadata/2.root.json"), "utf8"));
    expect(root2.signatures).toHaveLength(2);

    // An installation holding the old root walks to the new one and reads the feed.
    deploy("rotating", feed);
    const updater = installation(site, metadataDir);
    await updater.refresh();
    expect(JSON.parse(readFileSync(join(metadataDir, "root.json"), "utf8")).signed.version).toBe(2);
    expect(versionsOf(await download(updater, "channels/stable.json"))[0]).toBe("2.4.1");

    // From then on the new root key alone continues the feed.
    const after = await publish(workspace, { "previous-url": site }, rotated);
    expect(errorsOf(after)).toEqual([]);
    expect(after.outputs).toMatchObject({ version: "3", "root-version": "2" });
  });

  it("fails naming the missing key, and writes nothing", async () => {
    const workspace = copyExample();
    const { PINLINE_FEED_SNAPSHOT_KEY: _, ...env } = keyEnv;
    const run = await publish(workspace, { "previous-url": `${base}/nothing-yet/` }, env);
    expect(run.code).toBe(1);
    expect(errorsOf(run)).toEqual([
      expect.stringContaining("no key to sign the feed: PINLINE_FEED_SNAPSHOT_KEY is not set"),
    ]);
    // The keys that were there are masked all the same.
    expect(run.commands.filter((c) => c.command === "add-mask")).toHaveLength(9);
    expect(existsSync(join(workspace, "feed"))).toBe(false);
  });

  it("fails clearly when the site answers 500, and writes nothing", async () => {
    const workspace = copyExample();
    const before = readdirSync(workspace).sort();
    const run = await publish(workspace, { "previous-url": `${base}/broken/` });
    expect(run.code).toBe(1);
    const [error] = errorsOf(run);
    expect(error).toContain(
      `cannot read the published feed: GET ${base}/broken/metadata/timestamp.json answered 500 Internal Server Error`,
    );
    expect(error).toContain("nothing was built");
    expect(readdirSync(workspace).sort()).toEqual(before);
  });

  it("refuses a site over plain http that is not loopback", async () => {
    const workspace = copyExample();
    const run = await publish(workspace, { "previous-url": "http://example.com/feed/" });
    expect(run.code).toBe(1);
    expect(errorsOf(run)[0]).toContain("previous-url http://example.com/feed/ is not https");
  });
});

it("the publish action's page shows the publish workflow exactly as it is", () => {
  const workflow = readFileSync(join(repoRoot, ".github/workflows/publish.yml"), "utf8");
  const page = readFileSync(join(repoRoot, "docs/actions/publish.md"), "utf8");
  const shown = page
    .split("```yaml\n")
    .map((block) => block.split("```")[0])
    .find((block) => block?.includes("\nname: publish\n"));
  expect(shown).toBe(workflow);
});
