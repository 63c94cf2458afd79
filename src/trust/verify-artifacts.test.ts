import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import type { Component, ReleaseManifest } from "../core/schema-types.js";
import {
  localArtifactName,
  type OpenFile,
  REFUSED_ESCAPE,
  verifyArtifacts,
} from "./verify-artifacts.js";

const KiB = 1024;
const content = Buffer.alloc(KiB, "a");
const digest = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

let work: string;
let artifacts: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "pinline-verify-artifacts-"));
  artifacts = join(work, "artifacts");
  mkdirSync(artifacts);
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function manifestWith(components: Record<string, Partial<Component>>): ReleaseManifest {
  const full: ReleaseManifest["components"] = {};
  for (const [name, c] of Object.entries(components)) {
    full[name] = {
      version: "2.4.1",
      artifact: `${name}-2.4.1.tgz`,
      sha256: digest(content),
      size: content.length,
      ...c,
    };
  }
  return {
    version: "2.4.1",
    channel: "stable",
    releaseDate: "2024-03-15T00:00:00Z",
    components: full,
  };
}

/** Opens files for real, counting every byte read from them. */
function countingOpen(): { open: OpenFile; bytesRead: () => number } {
  let total = 0;
  return {
    bytesRead: () => total,
    open: async (path, flags) => {
      const handle = await open(path, flags);
      const read = handle.read.bind(handle) as (
        ...args: unknown[]
      ) => Promise<{ bytesRead: number }>;
      Object.assign(handle, {
        read: async (...args: unknown[]) => {
          const result = await read(...args);
          total += result.bytesRead;
          return result;
        },
      });
      return handle;
    },
  };
}

async function verifyOne(component: Partial<Component> = {}, openFile?: OpenFile) {
  const verdicts = await verifyArtifacts({
    manifest: manifestWith({ backend: component }),
    artifactsDir: artifacts,
    ...(openFile ? { open: openFile } : {}),
  });
  expect(verdicts).toHaveLength(1);
  return verdicts[0];
}

describe("verifyArtifacts", () => {
  it("accepts an artifact whose size and sha256 match", async () => {
    writeFileSync(join(artifacts, "backend-2.4.1.tgz"), content);
    expect(await verifyOne()).toEqual({
      component: "backend",
      path: "backend-2.4.1.tgz",
      expectedSize: KiB,
      expectedSha256: digest(content),
      actualSize: KiB,
      actualSha256: digest(content),
      verdict: "valid",
      reason: "size (1024 bytes) and sha256 match",
    });
  });

  it("reads a human size such as 1KB as 1024 bytes", async () => {
    writeFileSync(join(artifacts, "backend-2.4.1.tgz"), content);
    const verdict = await verifyOne({ size: "1KB" });
    expect(verdict).toMatchObject({ verdict: "valid", expectedSize: 1024, actualSize: 1024 });
  });

  it("refuses a file one byte longer than the size, reading no more than size + 1 bytes", async () => {
    writeFileSync(join(artifacts, "backend-2.4.1.tgz"), Buffer.concat([content, Buffer.from("x")]));
    const counter = countingOpen();
    const verdict = await verifyOne({}, counter.open);
    expect(verdict).toMatchObject({
      verdict: "invalid",
      reason: "is longer than the manifest's size (1024 bytes): refused without reading further",
    });
    expect(verdict?.actualSha256).toBeUndefined();
    expect(counter.bytesRead()).toBeLessThanOrEqual(KiB + 1);
  });

  it("stops after size + 1 bytes of a 1 GiB file", async () => {
    const file = join(artifacts, "backend-2.4.1.tgz");
    writeFileSync(file, "");
    truncateSync(file, 1024 ** 3); // sparse: costs no disk
    const counter = countingOpen();
    const verdict = await verifyOne({}, counter.open);
    expect(verdict).toMatchObject({
      verdict: "invalid",
      reason: "is longer than the manifest's size (1024 bytes): refused without reading further",
    });
    expect(counter.bytesRead()).toBe(KiB + 1);
  });

  it("refuses a file shorter than the size, naming both sizes", async () => {
    writeFileSync(join(artifacts, "backend-2.4.1.tgz"), content.subarray(0, 1000));
    const verdict = await verifyOne();
    expect(verdict).toMatchObject({
      verdict: "invalid",
      actualSize: 1000,
      reason: "is 1000 bytes, shorter than the manifest's size (1024 bytes)",
    });
  });

  it("refuses the right size with the wrong hash", async () => {
    const other = Buffer.alloc(KiB, "b");
    writeFileSync(join(artifacts, "backend-2.4.1.tgz"), other);
    const verdict = await verifyOne();
    expect(verdict).toMatchObject({
      verdict: "invalid",
      actualSize: KiB,
      actualSha256: digest(other),
      reason: `sha256 mismatch: expected ${digest(content)}, got ${digest(other)}`,
    });
  });

  it("compares an uppercase sha256 from the manifest without regard to case", async () => {
    writeFileSync(join(artifacts, "backend-2.4.1.tgz"), content);
    const verdict = await verifyOne({ sha256: digest(content).toUpperCase() });
    expect(verdict?.verdict).toBe("valid");
  });

  it("reports a missing file as missing, leaving the decision to the caller", async () => {
    const verdict = await verifyOne();
    expect(verdict).toMatchObject({ verdict: "missing", path: "backend-2.4.1.tgz" });
    expect(verdict?.reason).toContain("no local copy: looked for backend-2.4.1.tgz");
  });

  it("refuses ../../x without opening it", async () => {
    writeFileSync(join(work, "x"), content); // outside the artifacts directory, and matching
    const counter = countingOpen();
    const verdict = await verifyOne({ artifact: "../x" }, counter.open);
    expect(verdict).toMatchObject({ verdict: "invalid", path: "../x", reason: REFUSED_ESCAPE });
    const deeper = await verifyOne({ artifact: "../../x" }, counter.open);
    expect(deeper).toMatchObject({ verdict: "invalid", reason: REFUSED_ESCAPE });
    expect(counter.bytesRead()).toBe(0);
  });

  it("refuses an absolute path and a URL whose file name decodes to one", async () => {
    writeFileSync(join(work, "x"), content);
    expect(await verifyOne({ artifact: join(work, "x") })).toMatchObject({
      verdict: "invalid",
      reason: REFUSED_ESCAPE,
    });
    expect(await verifyOne({ artifact: "https://example.com/d/..%2F..%2Fx" })).toMatchObject({
      verdict: "invalid",
      path: "../../x",
      reason: REFUSED_ESCAPE,
    });
  });

  it("refuses a symbolic link that points outside the artifacts directory", async () => {
    writeFileSync(join(work, "outside.tgz"), content);
    symlinkSync(join(work, "outside.tgz"), join(artifacts, "backend-2.4.1.tgz"));
    const counter = countingOpen();
    const verdict = await verifyOne({}, counter.open);
    expect(verdict).toMatchObject({
      verdict: "invalid",
      path: "backend-2.4.1.tgz",
      reason: REFUSED_ESCAPE,
    });
    expect(counter.bytesRead()).toBe(0);
  });

  it("follows a symbolic link that stays inside the artifacts directory", async () => {
    mkdirSync(join(artifacts, "downloads"));
    writeFileSync(join(artifacts, "downloads", "backend.tgz"), content);
    symlinkSync(join("downloads", "backend.tgz"), join(artifacts, "backend-2.4.1.tgz"));
    expect((await verifyOne())?.verdict).toBe("valid");
  });

  it("refuses a FIFO without blocking on it", async () => {
    execFileSync("mkfifo", [join(artifacts, "backend-2.4.1.tgz")]);
    const verdict = await verifyOne();
    expect(verdict).toMatchObject({ verdict: "invalid", reason: "is a FIFO, not a regular file" });
  });

  it("finds the copy of an image or a URL by the file name rule", async () => {
    const manifest = manifestWith({
      backend: { artifact: "ghcr.io/acme/cm-diagnostics-backend:2.4.1" },
      frontend: { artifact: "https://downloads.example.com/files/frontend-2.4.1.tgz?sig=1" },
      "rules-engine": { artifact: "ghcr.io/acme/cm-diagnostics-rules-engine@sha256:abc123" },
    });
    writeFileSync(join(artifacts, "cm-diagnostics-backend-2.4.1.tar"), content);
    writeFileSync(join(artifacts, "frontend-2.4.1.tgz"), content);
    writeFileSync(join(artifacts, "cm-diagnostics-rules-engine-2.4.1.tar"), content);
    const verdicts = await verifyArtifacts({ manifest, artifactsDir: artifacts });
    expect(verdicts.map((v) => [v.component, v.path, v.verdict])).toEqual([
      ["backend", "cm-diagnostics-backend-2.4.1.tar", "valid"],
      ["frontend", "frontend-2.4.1.tgz", "valid"],
      ["rules-engine", "cm-diagnostics-rules-engine-2.4.1.tar", "valid"],
    ]);
  });

  it("falls back to <component>-<version>.<extension>, and calls two candidates ambiguous", async () => {
    const image = { artifact: "ghcr.io/acme/cm-diagnostics-backend:2.4.1" };
    writeFileSync(join(artifacts, "backend-2.4.1.tar"), content);
    expect(await verifyOne(image)).toMatchObject({ verdict: "valid", path: "backend-2.4.1.tar" });
    writeFileSync(join(artifacts, "backend-2.4.1.tar.gz"), content);
    const verdict = await verifyOne(image);
    expect(verdict?.verdict).toBe("invalid");
    expect(verdict?.reason).toContain("ambiguous: backend-2.4.1.tar, backend-2.4.1.tar.gz");
  });

  it("does not read anything for a manifest whose sha256 is not a digest", async () => {
    writeFileSync(join(artifacts, "backend-2.4.1.tgz"), content);
    const verdict = await verifyOne({ sha256: "" });
    expect(verdict).toMatchObject({ verdict: "invalid", expectedSize: KiB });
    expect(verdict?.reason).toContain('the manifest\'s sha256 "" is not a sha256 digest');
  });

  it("throws a usage error when the artifacts directory does not exist", async () => {
    await expect(
      verifyArtifacts({
        manifest: manifestWith({ backend: {} }),
        artifactsDir: join(work, "nope"),
      }),
    ).rejects.toBeInstanceOf(UsageError);
  });
});

describe("localArtifactName", () => {
  it.each([
    ["https://downloads.example.com/frontend-2.4.1.tgz", "frontend-2.4.1.tgz"],
    ["https://example.com/a%20b.tgz#x", "a b.tgz"],
    ["https://example.com/dir/", undefined],
    ["ghcr.io/acme/cm-diagnostics-backend:2.4.1", "cm-diagnostics-backend-2.4.1.tar"],
    ["localhost:5000/acme/backend:2.4.1", "backend-2.4.1.tar"],
    ["ghcr.io/acme/backend@sha256:0123abcd", "backend-2.5.0.tar"],
    ["backend-2.4.1.tar", "backend-2.4.1.tar"],
    ["sub/backend.tar", "sub/backend.tar"],
  ])("%s → %s", (artifact, expected) => {
    expect(localArtifactName({ artifact, version: "2.5.0" })).toBe(expected);
  });
});
