import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidValueError, RefusedError } from "../core/errors.js";
import type { ReleaseManifest } from "../core/schema-types.js";
import { componentNameOf, createRelease } from "./create-release.js";
import { parseYaml } from "./parse-yaml.js";
import { validateTree } from "./validate-tree.js";

const EXAMPLE = fileURLToPath(new URL("../../", import.meta.url));
const NOW = new Date("2024-04-02T09:30:00.250Z");

let work: string;
let root: string;
let artifacts: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "pinline-create-release-"));
  root = join(work, "repo");
  for (const dir of ["releases", "policies", "environments", "schemas"]) {
    cpSync(join(EXAMPLE, dir), join(root, dir), { recursive: true });
  }
  artifacts = join(work, "artifacts");
  mkdirSync(artifacts);
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const releaseFolders = () => readdirSync(join(root, "releases")).sort();

function readManifest(text: string): ReleaseManifest {
  const parsed = parseYaml(text, "release.yaml");
  expect(parsed.findings).toEqual([]);
  return parsed.yaml?.value as ReleaseManifest;
}

/** What the engineer does next: each artifact's file name becomes where it is published. */
function publishArtifacts(file: string): void {
  const text = readFileSync(file, "utf8");
  writeFileSync(
    file,
    text.replace(
      /artifact: "([^"]+)"/g,
      (_, name: string) => `artifact: "https://downloads.example.com/${name}"`,
    ),
  );
}

describe("createRelease", () => {
  it("scaffolds 2.4.2 from two artifacts; the tree validates once each artifact says where it is published", async () => {
    const backend = Buffer.alloc(3000, 7);
    const frontend = Buffer.from("frontend bundle\n");
    writeFileSync(join(artifacts, "cm-diagnostics-backend-2.4.2.tar"), backend);
    writeFileSync(join(artifacts, "frontend-2.4.2.tgz"), frontend);

    const created = await createRelease({
      root,
      version: "2.4.2",
      artifactsDir: artifacts,
      now: NOW,
    });

    expect(created.dir).toBe(join(root, "releases", "2.4.2"));
    expect(readFileSync(created.file, "utf8")).toBe(created.text);
    expect(readdirSync(created.dir).sort()).toEqual(["migrations", "release.yaml", "rollback"]);
    expect(readdirSync(join(created.dir, "migrations"))).toEqual([]);
    expect(created.text.split("\n")[0]).toBe(
      "# yaml-language-server: $schema=../../schemas/release.schema.json",
    );
    expect(created.text).toContain('version: "2.4.2"\n');
    expect(created.text).toContain('releaseDate: "2024-04-02T09:30:00Z"\n');

    const manifest = readManifest(created.text);
    expect(manifest).toMatchObject({
      version: "2.4.2",
      channel: "stable",
      releaseDate: "2024-04-02T09:30:00Z",
      minimumVersion: "2.0.0",
      mandatory: false,
      // 2.5.0-beta.3 and the nightly sort after 2.4.2: they are not older
      database: { from: "2.4.1", migrations: [], rollback: [] },
      changelog: { features: [], fixes: [], security: [] },
      compatibility: { database: ["PostgreSQL 14+", "15", "16"] },
    });
    expect(manifest.components).toEqual({
      "cm-diagnostics-backend": {
        version: "2.4.2",
        artifact: "cm-diagnostics-backend-2.4.2.tar",
        sha256: sha256(backend),
        size: 3000,
        required: true,
      },
      frontend: {
        version: "2.4.2",
        artifact: "frontend-2.4.2.tgz",
        sha256: sha256(frontend),
        size: frontend.length,
        required: true,
      },
    });
    expect(created.text).toContain("# TODO: replace the local file name with where the artifact");

    // The local file names are placeholders: validate refuses them until they are replaced.
    const before = await validateTree(root);
    expect(
      before.findings
        .filter((f) => f.severity === "error" && f.rule !== "signature")
        .map((f) => `${f.file}:${f.line}: ${f.message}`),
    ).toEqual([
      expect.stringMatching(
        /^releases\/2\.4\.2\/release\.yaml:\d+: artifact "cm-diagnostics-backend-2\.4\.2\.tar" is a bare file name/,
      ),
      expect.stringMatching(/artifact "frontend-2\.4\.2\.tgz" is a bare file name/),
    ]);
    publishArtifacts(created.file);

    // Signing happens when the release PR is merged: until then the signature rule may object.
    const report = await validateTree(root);
    const errors = report.findings.filter((f) => f.severity === "error" && f.rule !== "signature");
    expect(errors).toEqual([]);
    expect(report.findings.filter((f) => f.file.startsWith("releases/2.4.2"))).toEqual(
      report.findings.filter((f) => f.file.startsWith("releases/2.4.2") && f.rule === "signature"),
    );
  });

  it("creates 2.5.0-beta.4 after beta.3, on the beta channel, continuing the chain from beta.3", async () => {
    writeFileSync(join(artifacts, "backend-2.5.0-beta.4.tar"), "backend");
    const created = await createRelease({
      root,
      version: "2.5.0-beta.4",
      channel: "beta",
      artifactsDir: artifacts,
      now: NOW,
    });
    const manifest = readManifest(created.text);
    expect(manifest).toMatchObject({
      version: "2.5.0-beta.4",
      channel: "beta",
      minimumVersion: "2.3.0",
      database: { from: "2.5.0-beta.3" },
    });
    expect(created.text).toContain("channel: beta\n");
    publishArtifacts(created.file);
    const report = await validateTree(root);
    expect(report.findings.filter((f) => f.severity === "error" && f.rule !== "signature")).toEqual(
      [],
    );
  });

  it("with --sql, copies the migrations and rollbacks in and lists each with its sha256", async () => {
    const sql = join(work, "sql");
    mkdirSync(join(sql, "migrations"), { recursive: true });
    mkdirSync(join(sql, "rollback"), { recursive: true });
    const forward = Buffer.from("ALTER TABLE diagnostics ADD COLUMN note text;\r\n");
    const backward = Buffer.from("ALTER TABLE diagnostics DROP COLUMN note;\n");
    writeFileSync(join(sql, "migrations/2.4.1-2.4.2.sql"), forward);
    writeFileSync(join(sql, "rollback/2.4.2-2.4.1.sql"), backward);
    writeFileSync(join(artifacts, "backend-2.4.2.tar"), "backend");

    const created = await createRelease({
      root,
      version: "2.4.2",
      artifactsDir: artifacts,
      sqlDir: sql,
      now: NOW,
    });
    expect(readManifest(created.text).database).toEqual({
      from: "2.4.1",
      migrations: [
        // CRLF is read as LF, as the runner sends it and records it.
        {
          file: "migrations/2.4.1-2.4.2.sql",
          sha256: sha256(Buffer.from("ALTER TABLE diagnostics ADD COLUMN note text;\n")),
        },
      ],
      rollback: [{ file: "rollback/2.4.2-2.4.1.sql", sha256: sha256(backward) }],
    });
    expect(created.text).toContain(
      `    - { file: rollback/2.4.2-2.4.1.sql, sha256: "${sha256(backward)}" }\n`,
    );
    expect(readFileSync(join(created.dir, "migrations/2.4.1-2.4.2.sql"))).toEqual(forward);
    publishArtifacts(created.file);
    const report = await validateTree(root);
    expect(report.findings.filter((f) => f.severity === "error" && f.rule !== "signature")).toEqual(
      [],
    );
  });

  it("writes 2.4.2-stable as 2.4.2", async () => {
    writeFileSync(join(artifacts, "backend-2.4.2.tar"), "backend");
    const created = await createRelease({ root, version: "2.4.2-stable", artifactsDir: artifacts });
    expect(created.dir).toBe(join(root, "releases", "2.4.2"));
    expect(readManifest(created.text).version).toBe("2.4.2");
  });

  it("without artifacts, copies the previous components with placeholders that fail validation", async () => {
    const created = await createRelease({ root, version: "2.4.2", now: NOW });
    const manifest = readManifest(created.text);
    expect(Object.keys(manifest.components)).toEqual(["backend", "frontend", "rules-engine"]);
    expect(manifest.components.backend).toEqual({
      version: "2.4.2",
      artifact: "ghcr.io/acme/cm-diagnostics-backend:2.4.2",
      sha256: "",
      size: "",
      required: true,
    });
    expect(manifest.components["rules-engine"]?.required).toBe(false);
    expect(created.text).toContain("# TODO: the artifact's sha256 and size in bytes");

    const report = await validateTree(root);
    const ours = report.findings.filter((f) => f.file === "releases/2.4.2/release.yaml");
    expect(ours.map((f) => [f.severity, f.message.split(" must")[0]])).toEqual(
      expect.arrayContaining([
        ["error", "`components.backend.sha256`"],
        ["error", "`components.backend.size`"],
      ]),
    );
    const sha = ours.find((f) => f.message.startsWith("`components.backend.sha256`"));
    expect(sha?.message).toContain("must be a sha256 digest");
    expect(sha?.line).toBe(created.text.split("\n").findIndex((l) => l.includes('sha256: ""')) + 1);
    expect(report.errors).toBeGreaterThan(0);
  });

  it("refuses 2.4.1, which exists, and leaves the tree as it was", async () => {
    const before = readFileSync(join(root, "releases/2.4.1/release.yaml"), "utf8");
    const attempt = createRelease({ root, version: "2.4.1" });
    await expect(attempt).rejects.toBeInstanceOf(RefusedError);
    await expect(attempt).rejects.toThrow("2.4.1 already exists: releases/2.4.1/");
    expect(readFileSync(join(root, "releases/2.4.1/release.yaml"), "utf8")).toBe(before);
  });

  it("refuses 2.4.1-stable, another spelling of 2.4.1", async () => {
    const folders = releaseFolders();
    await expect(createRelease({ root, version: "2.4.1-stable" })).rejects.toThrow(
      "2.4.1-stable already exists: releases/2.4.1/ (2.4.1-stable is another spelling of 2.4.1)",
    );
    expect(releaseFolders()).toEqual(folders);
  });

  it("refuses 2.3.5: it does not sort after 2.4.1, the latest stable release", async () => {
    const folders = releaseFolders();
    const attempt = createRelease({ root, version: "2.3.5" });
    await expect(attempt).rejects.toBeInstanceOf(RefusedError);
    await expect(attempt).rejects.toThrow("2.3.5 must sort after 2.4.1, the latest stable release");
    expect(releaseFolders()).toEqual(folders);
  });

  it("refuses 2.5.0-beta.2 before beta.3, but judges each channel on its own", async () => {
    await expect(createRelease({ root, version: "2.5.0-beta.2" })).rejects.toThrow(
      "2.5.0-beta.2 must sort after 2.5.0-beta.3, the latest beta release",
    );
  });

  it("refuses a channel that disagrees with the version, naming both", async () => {
    const attempt = createRelease({ root, version: "2.6.0-beta.1", channel: "stable" });
    await expect(attempt).rejects.toBeInstanceOf(InvalidValueError);
    await expect(attempt).rejects.toThrow(
      "--channel stable does not agree with 2.6.0-beta.1, which is a beta version",
    );
    expect(existsSync(join(root, "releases/2.6.0-beta.1"))).toBe(false);
  });

  it("refuses an invalid version with parseVersion's message", async () => {
    await expect(createRelease({ root, version: "v2.4.2" })).rejects.toThrow(
      /"v2.4.2" is not a version: drop the "v" prefix/,
    );
  });

  it("refuses two artifact files that name the same component, creating nothing", async () => {
    writeFileSync(join(artifacts, "backend-2.4.2.tar"), "a");
    writeFileSync(join(artifacts, "Backend-2.4.2.tgz"), "b");
    const folders = releaseFolders();
    await expect(
      createRelease({ root, version: "2.4.2", artifactsDir: artifacts }),
    ).rejects.toThrow("Backend-2.4.2.tgz and backend-2.4.2.tar");
    expect(releaseFolders()).toEqual(folders);
  });

  it("refuses an empty artifacts folder", async () => {
    await expect(
      createRelease({ root, version: "2.4.2", artifactsDir: artifacts }),
    ).rejects.toThrow("holds no files");
    expect(existsSync(join(root, "releases/2.4.2"))).toBe(false);
  });

  it("gives the first release no database.from and needs artifacts for it", async () => {
    rmSync(join(root, "releases"), { recursive: true });
    mkdirSync(join(root, "releases"));
    await expect(createRelease({ root, version: "1.0.0" })).rejects.toThrow(
      "1.0.0 would be the first release",
    );
    writeFileSync(join(artifacts, "backend-1.0.0.tar"), "backend");
    const created = await createRelease({ root, version: "1.0.0", artifactsDir: artifacts });
    const manifest = readManifest(created.text);
    expect(manifest.database).toEqual({ migrations: [], rollback: [] });
    expect(manifest.minimumVersion).toBeUndefined();
  });
});

describe("componentNameOf", () => {
  it.each([
    ["cm-diagnostics-backend-2.4.2.tar", "cm-diagnostics-backend"],
    ["frontend-2.4.2.tgz", "frontend"],
    ["Frontend.tar.gz", "frontend"],
    ["rules_engine-2.5.0-beta.4.tar", "rules-engine"],
    ["my.app-1.0.0.zip", "my-app"],
    ["2.4.2.tar", undefined],
  ])("%s → %s", (file, name) => {
    expect(componentNameOf(file)).toBe(name);
  });
});
