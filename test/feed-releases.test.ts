/**
 * The feed lists only releases that verify (issue item 2, DESIGN §6): every release goes through
 * pinline verify — signatures from keys/ at the threshold of the strictest policy that can
 * deploy it — before it is listed. A build with releases that do not verify is refused, naming
 * each and why; skipUnverified leaves them out and says so. What is listed is read back with
 * tuf-js, as an installation reads it.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Updater } from "tuf-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RefusedError } from "../src/core/errors.js";
import { buildFeed } from "../src/feed/build-feed.js";
import { generateFeedKeys } from "../src/feed/keys.js";
import { signRelease } from "../src/trust/sign-release.js";
import { copyExample, edit, removeCopies, replaceOnce, repoRoot } from "./harness/example-repo.js";
import { type FolderServer, serveFolders } from "./harness/folder-server.js";

const KEY_1 = readFileSync(
  join(repoRoot, "examples/signing-keys/cm-diagnostics-example-1.private.asc"),
  "utf8",
);
const FINGERPRINT_1 = "EF13F75E36F1146F2C0430C21D01C25370214718";

const temps: string[] = [];
function temp(prefix = "pinline-feed-releases-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

let folders: FolderServer;
beforeAll(() => {
  folders = serveFolders();
});
afterAll(async () => {
  await folders.close();
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

/**
 * A copy of a release under a new version (its version fields changed, its files as they are),
 * its signature removed: not signed yet.
 */
function copyRelease(root: string, from: string, to: string, change = (t: string) => t): void {
  cpSync(join(root, "releases", from), join(root, "releases", to), { recursive: true });
  rmSync(join(root, "releases", to, "release.yaml.asc"));
  edit(root, `releases/${to}/release.yaml`, (text) =>
    change(text.replaceAll(`version: "${from}"`, `version: "${to}"`)),
  );
}

const sign = (root: string, version: string, key = KEY_1) =>
  signRelease({ root, releaseDir: join(root, "releases", version), armoredPrivateKey: key });

/**
 * The example with four releases that do not verify, one of each kind, and a nightly signed by
 * one key (enough: only pre-production, threshold 1, may deploy a nightly).
 */
async function repositoryWithBadReleases(): Promise<string> {
  const root = copyExample();
  copyRelease(root, "2.4.1", "2.4.2", (t) => t.replace("mandatory: true", "mandatory: false"));
  copyRelease(root, "2.4.1", "2.4.3");
  await sign(root, "2.4.3"); // stable: production asks for 2 signatures
  edit(
    root,
    "releases/2.4.0/release.yaml",
    replaceOnce("diagnostic categories.", "diagnostic categories!"),
  );
  copyRelease(root, "2.4.1", "2.4.4", (t) =>
    t.replace(/^components:[\s\S]*?^database:/m, "database:"),
  );
  copyRelease(root, "2.5.0-nightly.20240315", "2.5.0-nightly.20240401");
  await sign(root, "2.5.0-nightly.20240401");
  return root;
}

async function installation(feed: string, name: string): Promise<Updater> {
  const base = await folders.url(name, feed);
  const metadataDir = temp("pinline-tuf-client-");
  cpSync(join(feed, "metadata/1.root.json"), join(metadataDir, "root.json"));
  const updater = new Updater({
    metadataDir,
    metadataBaseUrl: `${base}/metadata`,
    targetBaseUrl: `${base}/targets`,
    targetDir: temp("pinline-tuf-targets-"),
    config: { fetchRetries: 0, fetchTimeout: 5000 },
  });
  await updater.refresh();
  return updater;
}

async function channel(updater: Updater, name: string) {
  const info = await updater.getTargetInfo(`channels/${name}.json`);
  if (!info) throw new Error(`no channel ${name}`);
  const bytes = readFileSync(await updater.downloadTarget(info));
  return JSON.parse(bytes.toString()).releases as {
    version: string;
    signedBy: { fingerprint: string }[];
  }[];
}

describe("the feed lists only releases that verify", () => {
  it("refuses to build, naming every release that does not verify and why, and writes nothing", async () => {
    const root = await repositoryWithBadReleases();
    const out = join(temp(), "feed");
    const refusal = await buildFeed({ root, out, keys: generateFeedKeys() }).catch(
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(RefusedError);
    const message = (refusal as RefusedError).message;
    expect(message).toMatch(/^the feed lists only releases that verify, and 4 releases do not/);
    // Every one, in version order, each with what pinline verify would say.
    expect(message).toContain(
      "  - 2.4.0: releases/2.4.0/release.yaml: only 0 of 2 required signatures from distinct trusted keys",
    );
    expect(message).toContain("the file changed after it was signed");
    expect(message).toContain(
      "  - 2.4.2: releases/2.4.2/release.yaml: is not signed: releases/2.4.2/release.yaml.asc does not exist",
    );
    expect(message).toContain(
      "  - 2.4.3: releases/2.4.3/release.yaml: only 1 of 2 required signatures from distinct trusted keys (threshold from policies/production.yaml)",
    );
    expect(message).toMatch(
      / {2}- 2\.4\.4: releases\/2\.4\.4\/release\.yaml: does not pass its schema/,
    );
    expect(message.indexOf("2.4.0:")).toBeLessThan(message.indexOf("2.4.2:"));
    expect(message).not.toContain("2.5.0-nightly.20240401");
    expect((refusal as RefusedError).hint).toContain("--skip-unverified");
    expect(existsSync(out)).toBe(false);
  });

  it("with skipUnverified, leaves them out and names them; tuf-js reads a feed without them", async () => {
    const root = await repositoryWithBadReleases();
    const out = join(temp(), "feed");
    const built = await buildFeed({ root, out, keys: generateFeedKeys(), skipUnverified: true });
    expect(built.skipped.map((r) => r.version)).toEqual(["2.4.0", "2.4.2", "2.4.3", "2.4.4"]);
    expect(built.skipped[1]).toMatchObject({
      file: "releases/2.4.2/release.yaml",
      reason: expect.stringContaining("is not signed"),
    });

    const updater = await installation(out, "skipped");
    expect((await channel(updater, "stable")).map((r) => r.version)).toEqual([
      "2.4.1",
      "2.3.0",
      "2.0.0",
    ]);
    for (const version of ["2.4.0", "2.4.2", "2.4.3", "2.4.4"]) {
      expect(await updater.getTargetInfo(`manifests/${version}.yaml`)).toBeUndefined();
    }
    // The nightly one key signed is listed: its strictest policy asks for one signature.
    const early = await channel(updater, "early-access");
    expect(early[0]).toMatchObject({
      version: "2.5.0-nightly.20240401",
      signedBy: [{ fingerprint: FINGERPRINT_1 }],
    });
  });

  it("lists a release again once it is signed by enough keys", async () => {
    const root = copyExample();
    copyRelease(root, "2.4.1", "2.4.2", (t) => t.replace("mandatory: true", "mandatory: false"));
    await sign(root, "2.4.2");
    await sign(
      root,
      "2.4.2",
      readFileSync(
        join(repoRoot, "examples/signing-keys/cm-diagnostics-example-2.private.asc"),
        "utf8",
      ),
    );
    const out = join(temp(), "feed");
    const built = await buildFeed({ root, out, keys: generateFeedKeys() });
    expect(built.skipped).toEqual([]);
    const updater = await installation(out, "signed");
    const stable = await channel(updater, "stable");
    expect(stable[0]?.version).toBe("2.4.2");
    expect(stable[0]?.signedBy.map((s) => s.fingerprint).sort()).toEqual([
      "EF13F75E36F1146F2C0430C21D01C25370214718",
      "FA5896FC3ADF1C96F054064DF370DECCAE2EADD6",
    ]);
  });

  it("refuses a release whose signature file is not a signature, as that release's problem", async () => {
    const root = copyExample();
    writeFileSync(join(root, "releases/2.3.0/release.yaml.asc"), "not a signature\n");
    const refusal = (await buildFeed({
      root,
      out: join(temp(), "feed"),
      keys: generateFeedKeys(),
    }).catch((error: unknown) => error)) as RefusedError;
    expect(refusal).toBeInstanceOf(RefusedError);
    expect(refusal.message).toContain("1 release does not");
    expect(refusal.message).toContain("  - 2.3.0: releases/2.3.0/release.yaml.asc: ");
  });
});
