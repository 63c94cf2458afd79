/**
 * What is signed is what runs (DESIGN §6): the manifest lists every SQL file with its sha256,
 * so the signatures over release.yaml cover the migrations and rollbacks too. validate, verify,
 * migrate and deploy each refuse bytes that differ — and never read a link, FIFO or device.
 * Everything here runs the committed CLI bundle as a user does, or the deploy flow on a real
 * PostgreSQL.
 */
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deployEnvironment } from "../src/deploy/deploy-environment.js";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { shippedFileDigest } from "../src/repo/shipped-file-digest.js";
import { CANARY_DB_VAR, startDeployRepo } from "./harness/deploy-repo.js";
import { copyExample, edit, removeCopies, repoRoot, runPinline } from "./harness/example-repo.js";
import { freshDatabase, withClient } from "./harness/postgres.js";

afterAll(removeCopies);

const R241 = "releases/2.4.1/release.yaml";
const M241 = "releases/2.4.1/migrations/2.4.0-2.4.1.sql";
const M230 = "releases/2.3.0/migrations/2.0.0-2.3.0_remediation_runs.sql";
const KEYS = ["cm-diagnostics-example-1", "cm-diagnostics-example-2"].map((k) =>
  join(repoRoot, `examples/signing-keys/${k}.private.asc`),
);

/** `file:line:col` of the sha256 value listed for `entry` in a manifest. */
function shaPosition(root: string, manifest: string, entry: string): string {
  const lines = readFileSync(join(root, manifest), "utf8").split("\n");
  const index = lines.findIndex((l) => l.includes(`file: ${entry},`));
  return `${manifest}:${index + 1}:${(lines[index] ?? "").indexOf('sha256: "') + "sha256: ".length + 1}`;
}

function signAgain(root: string, release: string): void {
  rmSync(join(root, release, "release.yaml.asc"), { force: true });
  for (const key of KEYS) {
    const signed = runPinline(["sign", release, "--key", key, "--root", root], { cwd: root });
    expect(signed.code, signed.stderr).toBe(0);
  }
}

describe("validate holds the manifest to the files it ships", () => {
  it("refuses a migration edited after its sha256 was listed, at the entry's sha256", () => {
    const root = copyExample();
    appendFileSync(join(root, M241), "DROP TABLE diagnostics;\n");
    const run = runPinline(["validate", "--root", root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${shaPosition(root, R241, "migrations/2.4.0-2.4.1.sql")}: error: migrations/2.4.0-2.4.1.sql does not match its sha256: the manifest lists 33ccf2af`,
    );
    expect(run.stdout).toContain("run pinline release hash releases/2.4.1");
  });

  it("asks for pinline release hash when a list still names bare paths", () => {
    const root = copyExample();
    edit(root, R241, (t) =>
      t.replace(/- \{ file: (migrations\/2\.4\.0-2\.4\.1\.sql), sha256: "[0-9a-f]+" \}/, "- $1"),
    );
    const run = runPinline(["validate", "--root", root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /releases\/2\.4\.1\/release\.yaml:34:\d+: error: .*must be \{ file: <path>, sha256: <64 hex> \}: run pinline release hash <release-dir>/,
    );
  });

  it("refuses a link out of the repository and a FIFO in place of SQL, without reading either", () => {
    const root = copyExample();
    const outside = mkdtempSync(join(tmpdir(), "pinline-outside-"));
    // If validate ever read these, it would block on the FIFOs forever (no writer): the run
    // has a time limit, and a blocked run fails the test.
    execFileSync("mkfifo", [join(outside, "secret.sql")]);
    rmSync(join(root, M241));
    symlinkSync(join(outside, "secret.sql"), join(root, M241));
    const rollback = join(root, "releases/2.4.1/rollback/2.4.1-2.4.0_2_drop_ml_score.sql");
    rmSync(rollback);
    execFileSync("mkfifo", [rollback]);
    const run = runPinline(["validate", "--root", root], { timeoutMs: 60_000 });
    rmSync(outside, { recursive: true, force: true });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${M241}:1:1: error: is a symbolic link, not a regular file, so pinline does not read it (a release ships regular files only: commit the file itself, not a link to it)`,
    );
    expect(run.stdout).toContain(
      "releases/2.4.1/rollback/2.4.1-2.4.0_2_drop_ml_score.sql:1:1: error: is a FIFO (named pipe), not a regular file",
    );
  });

  it("refuses a policy that is a link out of the repository: validate and verify both say so", () => {
    const root = copyExample();
    const outside = mkdtempSync(join(tmpdir(), "pinline-outside-"));
    writeFileSync(
      join(outside, "lenient.yaml"),
      readFileSync(join(root, "policies/production.yaml")),
    );
    rmSync(join(root, "policies/production.yaml"));
    symlinkSync(join(outside, "lenient.yaml"), join(root, "policies/production.yaml"));
    const validated = runPinline(["validate", "--root", root]);
    const verified = runPinline(["verify", "releases/2.4.1", "--root", root], { cwd: root });
    rmSync(outside, { recursive: true, force: true });
    expect(validated.code).toBe(1);
    expect(validated.stdout).toContain(
      "policies/production.yaml:1:1: error: is a symbolic link, not a regular file",
    );
    expect(verified.code).not.toBe(0);
    expect(verified.stderr).toContain(
      "policies/production.yaml:1:1: verify refuses to judge with a policy, rollout or pin that does not validate: is a symbolic link, not a regular file",
    );
  });

  it("refuses the local file name release create leaves where the published artifact belongs", () => {
    const root = copyExample();
    edit(root, R241, (t) =>
      t.replace(
        '"ghcr.io/acme/cm-diagnostics-backend:2.4.1"',
        '"cm-diagnostics-backend-2.4.1.tar"',
      ),
    );
    const run = runPinline(["validate", "--root", root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /releases\/2\.4\.1\/release\.yaml:\d+:\d+: error: artifact "cm-diagnostics-backend-2\.4\.1\.tar" is a bare file name, not where the artifact is published/,
    );
  });
});

describe("pinline release hash", () => {
  it("lists a new migration pair and refreshes an edited file, keeping the rest of release.yaml; the release verifies once signed again", () => {
    const root = copyExample();
    const before = readFileSync(join(root, R241), "utf8");
    appendFileSync(join(root, M241), "-- reviewed again\n");
    writeFileSync(
      join(root, "releases/2.4.1/migrations/2.4.0-2.4.1_zz_notes.sql"),
      "ALTER TABLE diagnostics ADD COLUMN notes text;\n",
    );
    writeFileSync(
      join(root, "releases/2.4.1/rollback/2.4.1-2.4.0_0_drop_notes.sql"),
      "ALTER TABLE diagnostics DROP COLUMN notes;\n",
    );

    const hashed = runPinline(["release", "hash", "releases/2.4.1", "--root", root], { cwd: root });
    expect(hashed.code, hashed.stderr).toBe(0);
    expect(hashed.stdout).toMatch(
      /^migrations\/2\.4\.0-2\.4\.1\.sql {2}[0-9a-f]{64} {2}updated \(was 33ccf2af/m,
    );
    expect(hashed.stdout).toMatch(
      /^migrations\/2\.4\.0-2\.4\.1_zz_notes\.sql {2}[0-9a-f]{64} {2}added$/m,
    );
    expect(hashed.stdout).toMatch(
      /^rollback\/2\.4\.1-2\.4\.0_0_drop_notes\.sql {2}[0-9a-f]{64} {2}added$/m,
    );
    expect(hashed.stdout).toContain("its signatures no longer match — sign it again");

    const after = readFileSync(join(root, R241), "utf8");
    const [head] = before.split("database:");
    expect(after.startsWith(`${head}database:`)).toBe(true);
    expect(after.slice(after.indexOf("\nchangelog:"))).toBe(
      before.slice(before.indexOf("\nchangelog:")),
    );
    expect(after).toContain(
      `{ file: migrations/2.4.0-2.4.1_zz_notes.sql, sha256: "${shippedFileDigest("ALTER TABLE diagnostics ADD COLUMN notes text;\n")}" }`,
    );
    expect(runPinline(["validate", "--root", root]).stdout).toContain("0 errors");

    const unsigned = runPinline(["verify", "releases/2.4.1", "--root", root], { cwd: root });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stdout).toContain("the file changed after it was signed");

    signAgain(root, "releases/2.4.1");
    const verified = runPinline(["verify", "releases/2.4.1", "--root", root], { cwd: root });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toContain("6 SQL files match the manifest");

    const again = runPinline(["release", "hash", "releases/2.4.1", "--root", root], { cwd: root });
    expect(again.stdout).toContain("nothing changed");
    expect(readFileSync(join(root, R241), "utf8")).toBe(after);
  });

  it("converts the old list of bare paths", () => {
    const root = copyExample();
    edit(root, R241, (t) => t.replace(/\{ file: ([^,]+), sha256: "[0-9a-f]+" \}/g, "$1"));
    expect(runPinline(["validate", "--root", root]).code).toBe(1);
    const hashed = runPinline(["release", "hash", "releases/2.4.1", "--root", root], { cwd: root });
    expect(hashed.code, hashed.stderr).toBe(0);
    expect(readFileSync(join(root, R241), "utf8")).toBe(readFileSync(join(repoRoot, R241), "utf8"));
  });

  it("refuses a listed file that is not in the folder, at its entry", () => {
    const root = copyExample();
    rmSync(join(root, M241));
    const hashed = runPinline(["release", "hash", "releases/2.4.1", "--root", root], { cwd: root });
    expect(hashed.code).toBe(1);
    expect(hashed.stderr).toContain(
      "pinline: error: releases/2.4.1/release.yaml:34:7: migrations/2.4.0-2.4.1.sql is listed, but releases/2.4.1/migrations/2.4.0-2.4.1.sql does not exist (add the file, or remove its entry from the list)",
    );
    expect(readFileSync(join(root, R241), "utf8")).toBe(readFileSync(join(repoRoot, R241), "utf8"));
  });
});

describe("pinline verify checks the files after the signatures", () => {
  it("refuses a release whose SQL changed after signing, naming the file, though every signature is good", () => {
    const root = copyExample();
    appendFileSync(join(root, M241), "GRANT ALL ON diagnostics TO PUBLIC;\n");
    const run = runPinline(["verify", "releases/2.4.1", "--root", root], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /releases\/2\.4\.1\/release\.yaml: error: migrations\/2\.4\.0-2\.4\.1\.sql differs: the manifest lists sha256 33ccf2af[0-9a-f]+, the file hashes to [0-9a-f]{64}: what the signed manifest lists is not what would run/,
    );
    expect(run.stdout).toMatch(/✓ {2}[0-9A-F]{40} .*good signature/);
    expect(run.stdout).toMatch(/✗ {2}migrations\/2\.4\.0-2\.4\.1\.sql/);
  });
});

const [target] = inject("postgresTargets");

describe("migrate runs only files whose bytes were signed", () => {
  let url: string;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (!target) throw new Error("no PostgreSQL target");
    ({ url, drop } = await freshDatabase(target));
  }, 60_000);
  afterAll(() => drop?.());

  const tables = () =>
    withClient(
      url,
      async (c) =>
        (
          await c.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'pinline_schema_migrations'",
          )
        ).rows[0]?.n,
    );

  it("refuses an intermediate release's SQL changed after signing before any statement runs", async () => {
    const root = copyExample();
    appendFileSync(join(root, M230), "CREATE TABLE smuggled (id int);\n");
    const run = runPinline(
      ["migrate", "--release", "releases/2.4.1", "--database-url", url, "--root", root],
      {
        cwd: root,
      },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("release 2.3.0 does not verify");
    expect(run.stderr).toContain("migrations/2.0.0-2.3.0_remediation_runs.sql differs");
    expect(await tables()).toBe("0");
  });

  it("refuses a manifest re-hashed to the smuggled SQL but not signed again; --unsigned runs it, still hash-checked", async () => {
    const root = copyExample();
    appendFileSync(join(root, M230), "CREATE TABLE smuggled (id int);\n");
    expect(
      runPinline(["release", "hash", "releases/2.3.0", "--root", root], { cwd: root }).code,
    ).toBe(0);
    const refused = runPinline(
      ["migrate", "--release", "releases/2.3.0", "--database-url", url, "--root", root],
      { cwd: root },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "release 2.3.0 does not verify: only 0 of 2 required signatures from distinct trusted keys",
    );
    expect(refused.stderr).toContain("the file changed after it was signed");
    expect(refused.stderr).toContain("nothing was run");
    expect(await tables()).toBe("0");

    appendFileSync(join(root, M230), "CREATE TABLE smuggled_twice (id int);\n");
    const unsigned = runPinline(
      [
        "migrate",
        "--unsigned",
        "--release",
        "releases/2.3.0",
        "--database-url",
        url,
        "--root",
        root,
      ],
      { cwd: root },
    );
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain("--unsigned: signatures are not checked");
    expect(unsigned.stderr).toContain(`${M230} differs from the file its manifest lists`);
    expect(await tables()).toBe("0");
  });

  it("records the manifest's sha256 as each applied file's checksum", async () => {
    const root = copyExample();
    const run = runPinline(
      ["migrate", "--release", "releases/2.4.1", "--database-url", url, "--root", root],
      {
        cwd: root,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const rows = await withClient(
      url,
      async (c) =>
        (
          await c.query<{ version: string; file: string; checksum: string }>(
            "SELECT version, file, checksum FROM pinline_schema_migrations ORDER BY id",
          )
        ).rows,
    );
    expect(rows.length).toBe(5);
    for (const row of rows) {
      const manifest = readFileSync(join(root, "releases", row.version, "release.yaml"), "utf8");
      expect(manifest).toContain(`{ file: ${row.file}, sha256: "${row.checksum}" }`);
    }
  });
});

describe("deploy runs only files whose bytes were signed", () => {
  it("refuses an intermediate release's smuggled SQL on the way to the target, leaving the database where it was", async () => {
    if (!target) throw new Error("no PostgreSQL target");
    const db = await freshDatabase(target);
    const repo = await startDeployRepo(db.url);
    try {
      // production-canary runs 2.4.0; 2.4.2 is signed and verifies, but the path runs 2.4.1's SQL.
      appendFileSync(join(repo.root, M241), "CREATE TABLE smuggled (id int);\n");
      repo.git("commit", "-q", "-am", "Edit 2.4.1's migration after it was signed");
      await commitPromotion({
        root: repo.root,
        environment: "production-canary",
        version: "2.4.2",
      });
      const report = await deployEnvironment({
        root: repo.root,
        environment: "production-canary",
        env: { ...process.env, [CANARY_DB_VAR]: repo.databaseUrl },
        log: () => {},
        metricsFile: join(mkdtempSync(join(tmpdir(), "pinline-metrics-")), "update.json"),
        health: {
          periodMs: 600,
          intervalMs: 300,
          probe: { timeoutMs: 1_000, retries: 1, intervalMs: 100 },
        },
      });
      expect(report.outcome).not.toBe("success");
      expect(report.steps.find((s) => s.status === "failed")?.detail).toContain(
        "release 2.4.1 does not verify: migrations/2.4.0-2.4.1.sql differs",
      );
      expect(report.steps.find((s) => s.name === "migrate")?.status ?? "not run").not.toBe("ok");
      expect(await repo.schemaVersion()).toBe("2.4.0");
      expect(await repo.service.version()).toBe("2.4.0");
      const smuggled = await withClient(
        db.url,
        async (c) =>
          (await c.query("SELECT 1 FROM pg_tables WHERE tablename = 'smuggled'")).rowCount,
      );
      expect(smuggled).toBe(0);
    } finally {
      repo.close();
      await db.drop();
    }
  }, 60_000);
});
