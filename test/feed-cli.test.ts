/** `pinline feed keys|build|timestamp` from the CLI bundle on the example data. */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateFeedKeys } from "../src/feed/keys.js";
import { copyExample, edit, removeCopies, runPinline } from "./harness/example-repo.js";

const dir = mkdtempSync(join(tmpdir(), "pinline-feed-cli-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

const read = (file: string) =>
  JSON.parse(readFileSync(join(dir, "feed/metadata", file), "utf8")).signed;
/** The version of a role's metadata as the feed serves it (versioned names followed). */
const version = (role: "timestamp" | "snapshot") =>
  role === "timestamp"
    ? read("timestamp.json").version
    : read(`${read("timestamp.json").meta["snapshot.json"].version}.snapshot.json`).version;

describe("pinline feed", () => {
  it("makes keys readable by their owner only, and never overwrites them", () => {
    const made = runPinline(["feed", "keys", "--out", join(dir, "keys")]);
    expect(made.code).toBe(0);
    expect(made.stdout.trim().split("\n")).toHaveLength(4);
    expect(statSync(join(dir, "keys/root.pem")).mode & 0o777).toBe(0o600);
    const again = runPinline(["feed", "keys", "--out", join(dir, "keys")]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("pinline never overwrites a key");
  });

  it("builds the feed, continues its versions on the next build, and re-signs the timestamp", () => {
    const root = copyExample();
    const args = [
      "feed",
      "build",
      "--out",
      join(dir, "feed"),
      "--keys",
      join(dir, "keys"),
      "--root",
      root,
    ];
    const first = runPinline(args);
    expect(first.stderr).toBe("");
    expect(first.stdout).toMatch(/feed version 1 \(root 1\)/);
    const second = runPinline(args);
    expect(second.stdout).toMatch(/feed version 2 \(root 1\)/);
    expect(version("timestamp")).toBe(2);
    const stamped = runPinline([
      "feed",
      "timestamp",
      "--out",
      join(dir, "feed"),
      "--keys",
      join(dir, "keys"),
    ]);
    expect(stamped.stdout).toMatch(/^timestamp version 3, expires /);
    expect(version("timestamp")).toBe(3);
    expect(version("snapshot")).toBe(2);
  });

  it("says where a missing key should come from", () => {
    const run = runPinline(
      ["feed", "build", "--out", join(dir, "other"), "--root", copyExample()],
      {
        env: { PINLINE_FEED_ROOT_KEY: "" },
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no root key for the feed");
    expect(run.stderr).toContain("PINLINE_FEED_ROOT_KEY");
  });

  it("refuses to build while a release does not verify, naming it; --skip-unverified builds without it, warning", () => {
    const root = copyExample();
    cpSync(join(root, "releases/2.4.1"), join(root, "releases/2.4.2"), { recursive: true });
    rmSync(join(root, "releases/2.4.2/release.yaml.asc"));
    edit(root, "releases/2.4.2/release.yaml", (text) =>
      text.replaceAll('version: "2.4.1"', 'version: "2.4.2"'),
    );
    const args = ["feed", "build", "--keys", join(dir, "keys"), "--root", root];
    const refused = runPinline([...args, "--out", join(dir, "refused")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "pinline: error: the feed lists only releases that verify, and 1 release does not, so no feed was built:\n  - 2.4.2: releases/2.4.2/release.yaml: is not signed: releases/2.4.2/release.yaml.asc does not exist",
    );
    expect(refused.stdout).toBe("");
    expect(existsSync(join(dir, "refused"))).toBe(false);

    const skipped = runPinline([
      ...args,
      "--out",
      join(dir, "skipped"),
      "--skip-unverified",
      "--json",
    ]);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(
      /^pinline: warning: left out of the feed \(--skip-unverified\): 2\.4\.2: releases\/2\.4\.2\/release\.yaml: is not signed/,
    );
    const built = JSON.parse(skipped.stdout);
    expect(built.skipped).toEqual([
      expect.objectContaining({ version: "2.4.2", file: "releases/2.4.2/release.yaml" }),
    ]);
    expect(built.files.some((f: string) => f.endsWith(".2.4.2.yaml"))).toBe(false);
  });

  it("rotates the root key with previous-root.pem beside the new keys", () => {
    const root = copyExample();
    const out = join(dir, "rotated");
    const oldKeys = join(dir, "keys");
    const build = (keys: string) =>
      runPinline(["feed", "build", "--out", out, "--keys", keys, "--root", root]);
    expect(build(oldKeys).code).toBe(0);

    const newKeys = mkdtempSync(join(tmpdir(), "pinline-feed-cli-keys-"));
    for (const role of ["targets", "snapshot", "timestamp"])
      cpSync(join(oldKeys, `${role}.pem`), join(newKeys, `${role}.pem`));
    writeFileSync(join(newKeys, "root.pem"), generateFeedKeys().root, { mode: 0o600 });
    const alone = build(newKeys);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain("is not signed by the root key given");
    expect(alone.stderr).toContain("previous-root.pem in the --keys folder");

    cpSync(join(oldKeys, "root.pem"), join(newKeys, "previous-root.pem"));
    const rotated = build(newKeys);
    expect(rotated.stderr).toBe("");
    expect(rotated.stdout).toMatch(/feed version 2 \(root 2\)/);
    rmSync(join(newKeys, "previous-root.pem"));
    expect(build(newKeys).stdout).toMatch(/feed version 3 \(root 2\)/);
    rmSync(newKeys, { recursive: true, force: true });
  });
});
