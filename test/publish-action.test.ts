/**
 * actions/publish, run as the runner runs it, against a feed site served on loopback (standing in
 * for GitHub Pages): what it publishes must verify with tuf-js, continue the versions of the
 * published feed, and fail without writing anything when a key or the site is missing.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize, sep } from "node:path";
import { Updater } from "tuf-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildFeed } from "../src/feed/build-feed.js";
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

const signed = (feed: string, file: string) =>
  JSON.parse(readFileSync(join(feed, "metadata", file), "utf8")).signed as {
    version: number;
    expires: string;
  };
const versionsOf = (index: Buffer) =>
  (JSON.parse(index.toString()).releases as { version: string }[]).map((r) => r.version);
const errorsOf = (run: { commands: { command: string; message: string }[] }) =>
  run.commands.filter((c) => c.command === "error").map((c) => c.message);

describe("actions/publish", () => {
  it("declares node24, its bundle, and the inputs and outputs the workflow uses", () => {
    const action = parse(readFileSync(join(repoRoot, "actions/publish/action.yml"), "utf8"));
    expect(action.runs).toEqual({ using: "node24", main: "../../dist/publish.js" });
    expect(Object.keys(action.inputs)).toEqual(["root", "out", "mode", "previous-url", "previous"]);
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
    // Only the metadata was read back, each file with a query no cache has seen.
    expect(requests.map((r) => r.replace(/\?pinline-fresh=[\d-]+$/, ""))).toEqual(
      ["timestamp.json", "snapshot.json", "targets.json", "root.json", "1.root.json"].map(
        (f) => `/pages/metadata/${f}`,
      ),
    );

    const secondFeed = join(workspace, "feed");
    for (const file of ["timestamp.json", "snapshot.json", "targets.json"]) {
      expect(signed(secondFeed, file).version).toBeGreaterThan(signed(firstFeed, file).version);
    }
    expect(readFileSync(join(secondFeed, "metadata/root.json"))).toEqual(
      readFileSync(join(firstFeed, "metadata/root.json")),
    );

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
    for (const file of ["targets.json", "snapshot.json", "root.json", "1.root.json"]) {
      expect(readFileSync(join(feed, "metadata", file))).toEqual(
        readFileSync(join(published, "metadata", file)),
      );
    }
    expect(signed(feed, "timestamp.json").version).toBe(2);
    const moved =
      Date.parse(signed(feed, "timestamp.json").expires) -
      Date.parse(signed(published, "timestamp.json").expires);
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
    rmSync(join(workspace, "releases/2.5.0-nightly.20240315"), { recursive: true });

    const run = await publish(workspace, { mode: "timestamp", "previous-url": site });
    expect(run.code).toBe(0);
    expect(run.summary).toContain(
      "Built a whole new version instead of re-signing the timestamp: the releases or policies differ from the published feed.",
    );
    const feed = join(workspace, "feed");
    expect(signed(feed, "snapshot.json").version).toBe(2);
    expect(existsSync(join(feed, "targets/manifests/2.5.0-nightly.20240315.yaml"))).toBe(false);
  });

  it("mode timestamp rebuilds a feed whose timestamp has expired and whose snapshot nearly has", async () => {
    const workspace = copyExample();
    const published = join(temp(), "feed");
    await buildFeed({ root: workspace, out: published, keys, now: new Date(Date.now() - 6 * DAY) });
    const site = deploy("stale", published);
    const metadataDir = trustFirstRoot(published);

    const run = await publish(workspace, { mode: "timestamp", "previous-url": site });
    expect(run.code).toBe(0);
    expect(run.summary).toMatch(
      /Built a whole new version instead of re-signing the timestamp: the published snapshot\.json expires at \S+, too soon/,
    );
    const feed = join(workspace, "feed");
    expect(signed(feed, "snapshot.json").version).toBe(2);
    expect(Date.parse(signed(feed, "snapshot.json").expires)).toBeGreaterThan(Date.now() + 6 * DAY);

    deploy("stale", feed);
    await installation(site, metadataDir).refresh();
  });

  it("continues a local copy of the published feed given as previous", async () => {
    const workspace = copyExample();
    await buildFeed({ root: workspace, out: join(workspace, "published"), keys });
    const run = await publish(workspace, { previous: "published", out: "published" });
    expect(errorsOf(run)).toEqual([]);
    expect(run.outputs).toMatchObject({ version: "2", path: join(workspace, "published") });
    expect(signed(join(workspace, "published"), "snapshot.json").version).toBe(2);
    expect(readdirSync(workspace).filter((f) => f.startsWith("."))).toEqual([]);
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

it("the README shows the publish workflow exactly as it is", () => {
  const workflow = readFileSync(join(repoRoot, ".github/workflows/publish.yml"), "utf8");
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const shown = readme
    .split("```yaml\n")
    .map((block) => block.split("```")[0])
    .find((block) => block?.startsWith("# Publishes the signed update feed"));
  expect(shown).toBe(workflow);
});
