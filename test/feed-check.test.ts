/**
 * `pinline check` (issue 7): the specification's update-check answer — channels, minimumVersion
 * stepping, blocked and mandatory releases — from the repository, from a signed feed verified
 * with tuf-js (folder, http, https with a pinned key and mutual TLS), refusing feeds that do not
 * verify.
 */
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createHttpsServer, type ServerOptions } from "node:https";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidValueError } from "../src/core/errors.js";
import { answerUpdateCheck } from "../src/feed/answer-check.js";
import { buildFeed } from "../src/feed/build-feed.js";
import { publicKeyPin } from "../src/feed/feed-client.js";
import { type ChannelIndex, channelIndexPath, feedTargets } from "../src/feed/feed-targets.js";
import { generateFeedKeys } from "../src/feed/keys.js";
import { loadTree } from "../src/repo/load-tree.js";
import { makeCertificates, opensslPin, type TestCertificates } from "./harness/certificates.js";
import {
  copyExample,
  edit,
  removeCopies,
  repoRoot,
  runPinline,
  runPinlineAsync,
  signWithExampleKeys,
} from "./harness/example-repo.js";
import { serveFolders } from "./harness/folder-server.js";
import { runPinlineInProcess } from "./harness/in-process.js";

const temps: string[] = [];
function temp(prefix = "pinline-check-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

/** The example with a withdrawn 2.4.2 (production's policy blocks it) added. */
let repo: string;
const indexes = new Map<string, ChannelIndex>();
const index = (channel: string): ChannelIndex => {
  const found = indexes.get(channel);
  if (!found) throw new Error(`no index ${channel}`);
  return found;
};
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  repo = copyExample();
  cpSync(join(repo, "releases/2.4.1"), join(repo, "releases/2.4.2"), { recursive: true });
  edit(repo, "releases/2.4.2/release.yaml", (text) =>
    text
      .replaceAll('version: "2.4.1"', 'version: "2.4.2"')
      .replace("mandatory: true", "mandatory: false"),
  );
  // Signed by both example keys, as production's threshold asks: the feed lists only what verifies.
  rmSync(join(repo, "releases/2.4.2/release.yaml.asc"));
  await signWithExampleKeys(repo, join(repo, "releases/2.4.2"));
  const targets = feedTargets(await loadTree(repo));
  for (const channel of ["stable", "beta", "early-access", "custom:acme"]) {
    const bytes = targets.get(channelIndexPath(channel));
    if (bytes) indexes.set(channel, JSON.parse(bytes.toString()) as ChannelIndex);
  }
});

describe("the update-check answer", () => {
  it("offers the newest stable release, mandatory, with its notes, download and manifest hash", () => {
    const answer = answerUpdateCheck(index("stable"), "2.0.0");
    const manifest = readFileSync(join(repoRoot, "releases/2.4.1/release.yaml"));
    expect(answer).toMatchObject({
      updateAvailable: true,
      version: "2.4.1",
      mandatory: true,
      releaseNotes: "https://updates.cm-diagnostics.example.com/releases/2.4.1",
      downloadUrl: "ghcr.io/acme/cm-diagnostics-backend:2.4.1",
      signature: `sha256:${sha256(manifest)}`,
      currentVersion: "2.0.0",
      newest: "2.4.1",
      path: ["2.4.1"],
    });
    expect(answer.reason).toContain("2.4.1 is mandatory");
  });

  it("answers the next step when the newest release cannot be reached directly", () => {
    // 2.5.0-beta.3 needs 2.3.0 first; 2.4.1 (mandatory) is on the way, so the answer is mandatory.
    const answer = answerUpdateCheck(index("beta"), "2.0.0");
    expect(answer).toMatchObject({
      updateAvailable: true,
      version: "2.3.0",
      newest: "2.5.0-beta.3",
      path: ["2.3.0", "2.5.0-beta.3"],
      mandatory: true,
    });
    expect(answer.reason).toContain("2.5.0-beta.3 needs 2.3.0 first");
    expect(answerUpdateCheck(index("beta"), "2.3.0")).toMatchObject({
      version: "2.5.0-beta.3",
      path: ["2.5.0-beta.3"],
    });
  });

  it("never offers a version a policy governing the channel blocks", () => {
    // production (stable, custom:acme) blocks 2.4.2; pre-production (early-access) does not.
    expect(index("stable").blockedVersions).toEqual(["2.4.2", ">=2.6.0 <2.6.3"]);
    expect(index("stable").releases.find((r) => r.version === "2.4.2")?.blocked).toBe(true);
    expect(index("early-access").releases.find((r) => r.version === "2.4.2")?.blocked).toBe(false);
    expect(answerUpdateCheck(index("stable"), "2.4.1")).toEqual({
      updateAvailable: false,
      currentVersion: "2.4.1",
      channel: "stable",
      reason: "every newer release on stable is blocked (2.4.2)",
    });
    expect(answerUpdateCheck(index("stable"), "2.0.0").version).toBe("2.4.1");
  });

  it("takes the installation's own blocked versions, and makes leaving a blocked version mandatory", () => {
    expect(
      answerUpdateCheck(index("stable"), "2.0.0", { blockedVersions: [">=2.4.1"] }),
    ).toMatchObject({ version: "2.4.0", mandatory: false });
    const stuck = answerUpdateCheck(index("stable"), "2.4.2");
    expect(stuck.updateAvailable).toBe(false);
    expect(stuck.reason).toContain("the version this installation runs, 2.4.2, is blocked");
    const early = answerUpdateCheck(index("early-access"), "2.4.0", { blockedVersions: ["2.4.0"] });
    expect(early).toMatchObject({ updateAvailable: true, mandatory: true });
    expect(early.reason).toContain("the version this installation runs, 2.4.0, is blocked");
  });
});

/**
 * Running a blocked version: the answer is read by whoever runs the installation, so it says
 * what they can do — update now, roll back, or contact the vendor — and never what a release
 * engineer would do in the repository (edit a policy, open a PR, pinline revert).
 */
describe("the update-check answer for an installation that runs a blocked version", () => {
  const ENGINEERS_WORDS = /policies\/|pull request|\bPR\b|pinline revert|promote/i;

  it("tells it to update now when an update is offered", () => {
    const answer = answerUpdateCheck(index("stable"), "2.4.0", { blockedVersions: ["2.4.0"] });
    expect(answer).toMatchObject({ updateAvailable: true, version: "2.4.1", mandatory: true });
    expect(answer.reason).toBe(
      "the version this installation runs, 2.4.0, is blocked (this installation blocks 2.4.0): update to 2.4.1 now; 2.4.1 is mandatory",
    );
    expect(answer.reason).not.toMatch(ENGINEERS_WORDS);
  });

  it("names the vendor's entry that blocks it, a range included, and the first step of a longer path", () => {
    const blocked: ChannelIndex = { ...index("beta"), blockedVersions: [">=2.0.0 <2.1.0"] };
    const answer = answerUpdateCheck(blocked, "2.0.0");
    expect(answer).toMatchObject({ updateAvailable: true, version: "2.3.0", mandatory: true });
    expect(answer.reason).toBe(
      "the version this installation runs, 2.0.0, is blocked (the vendor blocks >=2.0.0 <2.1.0 on beta): update to 2.3.0 now; 2.4.1 is mandatory; 2.5.0-beta.3 needs 2.3.0 first (minimumVersion)",
    );
  });

  it("tells it to roll back to the newest release that is not blocked, or to contact the vendor, when nothing newer is offered", () => {
    const answer = answerUpdateCheck(index("stable"), "2.4.2");
    expect(answer).toEqual({
      updateAvailable: false,
      currentVersion: "2.4.2",
      channel: "stable",
      reason:
        "the version this installation runs, 2.4.2, is blocked (the vendor blocks 2.4.2 on stable), and stable offers nothing newer: roll back to 2.4.1 (the newest release on stable before 2.4.2 that is not blocked), or contact the vendor",
    });
    expect(answer.reason).not.toMatch(ENGINEERS_WORDS);
  });

  it("says so when every newer release is blocked too", () => {
    const answer = answerUpdateCheck(index("stable"), "2.4.1", { blockedVersions: ["2.4.1"] });
    expect(answer.reason).toBe(
      "the version this installation runs, 2.4.1, is blocked (this installation blocks 2.4.1), and so is every newer release on stable (2.4.2): roll back to 2.4.0 (the newest release on stable before 2.4.1 that is not blocked), or contact the vendor",
    );
  });

  it("sends it to the vendor when there is nothing to update or roll back to", () => {
    const answer = answerUpdateCheck(index("stable"), "2.0.0", { blockedVersions: ["<=2.4.2"] });
    expect(answer).toMatchObject({ updateAvailable: false });
    expect(answer.reason).toBe(
      "the version this installation runs, 2.0.0, is blocked (this installation blocks <=2.4.2), and so is every newer release on stable (2.3.0, 2.4.0, 2.4.1, 2.4.2): contact the vendor: stable offers no release to update or roll back to",
    );
  });

  it("says why no update reaches a newer release, then what to do", () => {
    const lonely: ChannelIndex = {
      channel: "stable",
      blockedVersions: ["2.0.0"],
      releases: [
        { ...index("stable").releases[0], version: "1.9.0", minimumVersion: null, blocked: false },
        {
          ...index("stable").releases[0],
          version: "3.0.0",
          minimumVersion: "2.9.0",
          blocked: false,
        },
      ],
    } as ChannelIndex;
    const answer = answerUpdateCheck(lonely, "2.0.0");
    expect(answer).toMatchObject({ updateAvailable: false, newest: "3.0.0" });
    expect(answer.reason).toMatch(
      /^the version this installation runs, 2\.0\.0, is blocked \(the vendor blocks 2\.0\.0 on stable\), and no update reaches a newer release \(no upgrade path from 2\.0\.0 to 3\.0\.0: .*\): roll back to 1\.9\.0 \(the newest release on stable before 2\.0\.0 that is not blocked\), or contact the vendor$/,
    );
  });

  it("is what pinline check prints", async () => {
    const run = await runPinlineInProcess([
      "check",
      "--channel",
      "stable",
      "--current",
      "2.4.2",
      "--root",
      repo,
    ]);
    expect(run.stdout.split("\n")[0]).toBe(
      "stable, running 2.4.2: no update (the version this installation runs, 2.4.2, is blocked (the vendor blocks 2.4.2 on stable), and stable offers nothing newer: roll back to 2.4.1 (the newest release on stable before 2.4.2 that is not blocked), or contact the vendor)",
    );
    expect(run.code).toBe(0);
  });
});

describe("the update-check answer, channels", () => {
  it("offers a custom channel only its listed versions, and says up to date at the newest", () => {
    expect(index("custom:acme").releases.map((r) => r.version)).toEqual(["2.4.1"]);
    expect(answerUpdateCheck(index("custom:acme"), "2.3.0").version).toBe("2.4.1");
    expect(answerUpdateCheck(index("stable"), "2.4.1", { blockedVersions: [] }).reason).toContain(
      "blocked",
    );
    expect(answerUpdateCheck(index("custom:acme"), "2.4.1")).toMatchObject({
      updateAvailable: false,
      reason: "2.4.1 is up to date on custom:acme",
    });
  });

  it("says why when the newest release is unreachable, and refuses a malformed version", () => {
    const lonely: ChannelIndex = {
      channel: "stable",
      blockedVersions: [],
      releases: [
        {
          ...index("stable").releases[0],
          version: "3.0.0",
          minimumVersion: "2.9.0",
          blocked: false,
        },
      ],
    } as ChannelIndex;
    const answer = answerUpdateCheck(lonely, "2.0.0");
    expect(answer.updateAvailable).toBe(false);
    expect(answer.newest).toBe("3.0.0");
    expect(answer.reason).toMatch(/2\.9\.0/);
    expect(() => answerUpdateCheck(index("stable"), "2.x")).toThrow(InvalidValueError);
  });
});

/** The hash-named file of a target in a feed folder: "manifests/<sha256>.2.4.1.yaml". */
function targetFile(feed: string, path: string): string {
  const timestamp = JSON.parse(readFileSync(join(feed, "metadata/timestamp.json"), "utf8"));
  const version = timestamp.signed.meta["snapshot.json"].version as number;
  const targets = JSON.parse(readFileSync(join(feed, `metadata/${version}.targets.json`), "utf8"));
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}${targets.signed.targets[path].hashes.sha256}.${path.slice(slash + 1)}`;
}

/** Serves folders over http or https: /<name>/<file>. */
function feedServer(...args: Parameters<typeof serveFolders>) {
  const folders = serveFolders(...args);
  servers.push(folders.server);
  return folders;
}

describe("pinline check", () => {
  const keys = temp("pinline-check-keys-");
  let feed: string;
  let http: ReturnType<typeof feedServer>;

  beforeAll(() => {
    rmSync(keys, { recursive: true });
    expect(runPinline(["feed", "keys", "--out", keys]).code).toBe(0);
    feed = join(temp(), "feed");
    const built = runPinline(["feed", "build", "--out", feed, "--keys", keys, "--root", repo]);
    expect(built.stderr).toBe("");
    http = feedServer((handler) => createServer(handler), "http");
  });

  const check = (args: string[]) => runPinlineAsync(["check", ...args]);
  const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

  it("gives the same answer from the repository and from the feed built from it, verified", async () => {
    const fromRepo = await check([
      "--channel",
      "beta",
      "--current",
      "2.0.0",
      "--root",
      repo,
      "--json",
    ]);
    const cache = temp();
    const fromFeed = await check([
      ...["--channel", "beta", "--current", "2.0.0", "--feed", feed, "--cache", cache, "--json"],
    ]);
    expect(fromFeed.code, fromFeed.stderr).toBe(0);
    expect(json(fromFeed.stdout)).toEqual(json(fromRepo.stdout));
    expect(json(fromFeed.stdout).version).toBe("2.3.0");

    const text = await check([
      ...["--channel", "stable", "--current", "2.0.0", "--feed", feed, "--cache", cache],
    ]);
    expect(text.stdout).toContain("stable, running 2.0.0: update to 2.4.1 (mandatory)");
    expect(text.stdout).toMatch(/source: feed .* \(verified\), feed version 1/);
  });

  it("refuses a malformed channel or version as a usage error", async () => {
    const channel = await check(["--channel", "nightly", "--current", "2.0.0", "--root", repo]);
    expect(channel.code).toBe(2);
    expect(channel.stderr).toContain('--channel: "nightly" is not an update channel');
    const version = await check(["--channel", "stable", "--current", "2.x", "--root", repo]);
    expect(version.code).toBe(2);
    expect(version.stderr).toContain('--current: "2.x" is not a version');
  });

  it("needs a trusted root for an URL, then verifies over http", async () => {
    const url = await http.url("good", feed);
    const untrusted = await check(["--channel", "stable", "--current", "2.0.0", "--feed", url]);
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toContain("no trusted root");
    expect(untrusted.stderr).toContain("--trusted-root");

    const trusted = await check([
      ...["--channel", "stable", "--current", "2.4.1", "--feed", url, "--json"],
      ...["--trusted-root", join(feed, "metadata/1.root.json"), "--cache", temp()],
    ]);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(json(trusted.stdout)).toMatchObject({
      updateAvailable: false,
      reason: "every newer release on stable is blocked (2.4.2)",
    });
  });

  it("refuses a manifest that differs from its signed hash, an expired feed and a rollback", async () => {
    const root = ["--trusted-root", join(feed, "metadata/1.root.json")];
    const ask = (url: string, cache: string) =>
      check([
        "--channel",
        "stable",
        "--current",
        "2.0.0",
        "--feed",
        url,
        "--cache",
        cache,
        ...root,
      ]);

    const swapped = join(temp(), "feed");
    cpSync(feed, swapped, { recursive: true });
    writeFileSync(
      join(swapped, "targets", targetFile(swapped, "manifests/2.4.1.yaml")),
      readFileSync(join(swapped, "targets", targetFile(swapped, "manifests/2.4.0.yaml"))),
    );
    const mixed = await ask(await http.url("mixed", swapped), temp());
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain("does not verify");

    const feedKeys = generateFeedKeys();
    const stale = join(temp(), "feed");
    await buildFeed({
      root: repo,
      out: stale,
      keys: feedKeys,
      now: new Date(Date.now() - 30 * 864e5),
    });
    const frozen = await check([
      ...["--channel", "stable", "--current", "2.0.0", "--feed", await http.url("stale", stale)],
      ...["--trusted-root", join(stale, "metadata/1.root.json"), "--cache", temp()],
    ]);
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toMatch(/expired/i);

    const older = join(temp(), "feed");
    cpSync(feed, older, { recursive: true });
    const newer = runPinline(["feed", "build", "--out", feed, "--keys", keys, "--root", repo]);
    expect(newer.code, newer.stderr).toBe(0);
    const cache = temp();
    expect((await ask(await http.url("newer", feed), cache)).code).toBe(0);
    const rolledBack = await ask(await http.url("older", older), cache);
    expect(rolledBack.code).toBe(1);
    expect(rolledBack.stderr).toContain("does not verify");
  });

  describe("over TLS 1.3, with a pinned key and mutual TLS", () => {
    let certs: TestCertificates;
    const https = (options: ServerOptions) =>
      feedServer((handler) => createHttpsServer(options, handler), "https");

    beforeAll(() => {
      certs = makeCertificates();
      temps.push(certs.dir);
    });

    const ask = async (url: string, extra: string[]) =>
      check([
        ...["--channel", "stable", "--current", "2.0.0", "--feed", url, "--json"],
        ...["--trusted-root", join(feed, "metadata/1.root.json"), "--cache", temp()],
        ...["--ca", certs.ca.certFile, ...extra],
      ]);

    it("accepts the pinned key and refuses any other", async () => {
      const pin = opensslPin(certs.server.certFile);
      expect(publicKeyPin(certs.server.cert)).toBe(pin);
      const url = await https({ key: certs.server.key, cert: certs.server.cert }).url("tls", feed);
      const pinned = await ask(url, ["--pin-sha256", `sha256/${pin}`]);
      expect(pinned.code, pinned.stderr).toBe(0);
      expect(json(pinned.stdout).version).toBe("2.4.1");

      const wrong = await ask(url, ["--pin-sha256", opensslPin(certs.client.certFile)]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain("none of the pinned keys");
    });

    it("refuses a server that offers only TLS 1.2", async () => {
      const old = https({ key: certs.server.key, cert: certs.server.cert, maxVersion: "TLSv1.2" });
      const refused = await ask(await old.url("tls12", feed), []);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/protocol|version/i);
    });

    it("presents its client certificate to a server that demands one", async () => {
      const mutual = https({
        key: certs.server.key,
        cert: certs.server.cert,
        ca: certs.ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      });
      const url = await mutual.url("mtls", feed);
      const anonymous = await ask(url, []);
      expect(anonymous.code).toBe(1);
      const stranger = await ask(url, [
        ...["--client-cert", certs.stranger.certFile, "--client-key", certs.stranger.keyFile],
      ]);
      expect(stranger.code).toBe(1);
      const client = await ask(url, [
        ...["--client-cert", certs.client.certFile, "--client-key", certs.client.keyFile],
      ]);
      expect(client.code, client.stderr).toBe(0);
      expect(json(client.stdout).version).toBe("2.4.1");
    });
  });
});
