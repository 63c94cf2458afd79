/** `pinline feed keys|build|timestamp` from the CLI bundle on the example data. */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { copyExample, removeCopies, runPinline } from "./harness/example-repo.js";

const dir = mkdtempSync(join(tmpdir(), "pinline-feed-cli-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

const version = (role: string) =>
  JSON.parse(readFileSync(join(dir, "feed/metadata", `${role}.json`), "utf8")).signed.version;

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
});
