import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PARALLEL_THRESHOLD } from "../src/repo/read-releases.js";
import { copyExample, removeCopies, runPinline } from "./harness/example-repo.js";

/**
 * Large trees are read by worker threads as well as the main thread. Whatever the number of
 * threads, validate must say exactly the same things, at the same places.
 */
afterAll(removeCopies);

const COUNT = PARALLEL_THRESHOLD + 100;
/** sha256 of the "SELECT 1;\n" every generated migration and rollback holds. */
const STEP_SHA = createHash("sha256").update("SELECT 1;\n").digest("hex");
let root: string;

beforeAll(() => {
  root = copyExample();
  // A chain of patch releases after 2.0.0: 2.0.1, 2.0.2, ... each migrating from the one before.
  for (let i = 1; i <= COUNT; i++) {
    const version = `2.0.${i}`;
    const from = `2.0.${i - 1}`;
    const dir = join(root, "releases", version);
    mkdirSync(join(dir, "migrations"), { recursive: true });
    mkdirSync(join(dir, "rollback"), { recursive: true });
    writeFileSync(join(dir, `migrations/${from}-${version}_step.sql`), "SELECT 1;\n");
    writeFileSync(join(dir, `rollback/${version}-${from}_step.sql`), "SELECT 1;\n");
    writeFileSync(join(dir, "release.yaml.asc"), "(presence is all validate checks)");
    // Every 97th release is broken in a different way, so both threads report something.
    const channel = i % 97 === 0 ? "beta" : "stable";
    const sha = i % 101 === 0 ? "abc" : "a".repeat(64);
    writeFileSync(
      join(dir, "release.yaml"),
      [
        "# yaml-language-server: $schema=../../schemas/release.schema.json",
        `version: "${version}"`,
        `channel: ${channel}`,
        'releaseDate: "2023-07-01T00:00:00Z"',
        "components:",
        `  backend: { version: "${version}", artifact: "ghcr.io/acme/backend:${version}", sha256: "${sha}", size: 1024 }`,
        "database:",
        `  from: "${from}"`,
        `  migrations: [{ file: migrations/${from}-${version}_step.sql, sha256: "${STEP_SHA}" }]`,
        `  rollback: [{ file: rollback/${version}-${from}_step.sql, sha256: "${STEP_SHA}" }]`,
        "",
      ].join("\n"),
    );
  }
});

describe(`validate on ${COUNT}+ releases`, () => {
  it("reports the same findings with worker threads as without", () => {
    const single = runPinline(["validate", "--root", root, "--json", "--jobs", "1"]);
    const parallel = runPinline(["validate", "--root", root, "--json", "--jobs", "3"]);
    expect(single.stderr).toBe("");
    expect(parallel.stderr).toBe("");
    const a = JSON.parse(single.stdout);
    const b = JSON.parse(parallel.stdout);
    expect(a.threads).toBe(1);
    expect(b.threads).toBe(2);
    expect({ ...b, threads: 1 }).toEqual(a);
    expect(a.counts.releases).toBe(COUNT + 6);
    // 6 wrong channels (97, 194, ... 582) and 5 short digests (101 ... 505), both halves.
    expect(a.errors).toBe(11);
    expect(a.findings).toContainEqual(
      expect.objectContaining({
        file: "releases/2.0.582/release.yaml",
        line: 3,
        column: 10,
        message: "channel is beta, but 2.0.582 is a stable version",
      }),
    );
    expect(a.findings).toContainEqual(
      expect.objectContaining({ file: "releases/2.0.505/release.yaml", line: 6, rule: "schema" }),
    );
  });
});
