/**
 * pinline as another team gets it: `npm pack`, then `npm install` of that tarball into an
 * empty folder, then `npx pinline init` for a product that is not CM Diagnostics, and
 * `validate`, `plan` and `promote --local` there — nothing from this checkout but the tarball.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./harness/example-repo.js";

const work = mkdtempSync(join(tmpdir(), "pinline-package-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const IDENTITY = {
  GIT_AUTHOR_NAME: "Billing Releases",
  GIT_AUTHOR_EMAIL: "releases@billing.example",
  GIT_COMMITTER_NAME: "Billing Releases",
  GIT_COMMITTER_EMAIL: "releases@billing.example",
};

interface Packed {
  filename: string;
  files: { path: string }[];
}

let packed: Packed;
let app = "";

function npx(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync("npx", ["--no-install", "pinline", ...args], {
    cwd: app,
    encoding: "utf8",
    env: { ...process.env, ...IDENTITY },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], {
    cwd: repoRoot,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  packed = (JSON.parse(out) as Packed[])[0] as Packed;
  app = join(work, "acme-billing-gitops");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "acme-billing-gitops", private: true, version: "1.0.0" }),
  );
  execFileSync(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, packed.filename)],
    { cwd: app, stdio: "ignore" },
  );
  execFileSync("git", ["init", "-q", "-b", "main", app]);
}, 300_000);

describe("the pinline package", () => {
  it("holds what runs, and none of the sources, tests or benchmarks", () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain("dist/cli.js");
    expect(paths).toContain("actions/validate/action.yml");
    expect(paths).toContain("templates/workflows/deploy.yml.hbs");
    expect(paths).toContain("schemas/environment.schema.json");
    expect(paths).toContain("examples/cm-service/server.mjs");
    expect(paths.filter((p) => /^(src|test|bench|scripts|node_modules)\//.test(p))).toEqual([]);
  });

  it("installed from its tarball, inits another product's repository that validates, plans and promotes", async () => {
    const inputs = join(work, "inputs");
    mkdirSync(join(inputs, "v2.0.0"), { recursive: true });
    mkdirSync(join(inputs, "v2.1.0"), { recursive: true });
    writeFileSync(join(inputs, "v2.0.0", "billing-api-2.0.0.tar.gz"), "build 2.0.0\n");
    writeFileSync(join(inputs, "v2.1.0", "billing-api-2.1.0.tar.gz"), "build 2.1.0\n");
    const { privateKey } = await openpgp.generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Billing Releases", email: "releases@billing.example" }],
      format: "armored",
    });
    const key = join(inputs, "private.asc");
    writeFileSync(key, privateKey);

    const init = npx([
      "init",
      "--yes",
      "--product",
      "Acme Billing",
      "--stages",
      "dev,staging,production",
      "--current-version",
      "2.0.0",
      "--artifacts",
      join(inputs, "v2.0.0"),
      "--artifact-url",
      "https://downloads.billing.example/{version}/{file}",
      "--key",
      key,
      "--release-managers",
      "@acme/billing-leads",
      "--developers",
      "@acme/billing",
    ]);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    const version = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version;
    expect(readFileSync(join(app, ".github/workflows/deploy.yml"), "utf8")).toContain(
      `pinline-dev/pinline/actions/deploy@v${version}`,
    );

    const validate = npx(["validate"]);
    expect(validate.stdout).toContain("0 errors, 0 warnings");
    expect(validate.code).toBe(0);
    expect(npx(["init", "--check"]).code).toBe(0);

    const git = (...args: string[]) =>
      execFileSync("git", ["-C", app, ...args], { env: { ...process.env, ...IDENTITY } });
    git("add", "-A", "--", ".github", "environments", "keys", "policies", "releases", "schemas");
    git("commit", "-qm", "Adopt pinline");
    const release = npx(["release", "create", "2.1.0", "--artifacts", join(inputs, "v2.1.0")]);
    expect(release.code).toBe(0);
    const manifest = join(app, "releases/2.1.0/release.yaml");
    writeFileSync(
      manifest,
      readFileSync(manifest, "utf8").replace(
        /artifact: "billing-api-2\.1\.0\.tar\.gz"/,
        'artifact: "https://downloads.billing.example/2.1.0/billing-api-2.1.0.tar.gz"',
      ),
    );
    expect(npx(["sign", "releases/2.1.0", "--key", key]).code).toBe(0);
    expect(npx(["validate"]).code).toBe(0);
    git("add", "releases");
    git("commit", "-qm", "Release 2.1.0");

    const plan = npx(["plan", "dev", "--to", "2.1.0"]);
    expect(plan.stdout).toContain("upgrade path: 2.0.0 → 2.1.0");
    expect(plan.stdout).toMatch(/signatures\s+✓ pass/);
    const promote = npx(["promote", "dev", "2.1.0", "--local"]);
    expect(promote.stderr).toBe("");
    expect(promote.stdout).toContain("environments/dev.yaml: 2.0.0 → 2.1.0");
    expect(promote.code).toBe(0);
    expect(readFileSync(join(app, "environments/dev.yaml"), "utf8")).toContain('version: "2.1.0"');
  }, 120_000);

  it("as released (pinline-release.json names its commit), pins pinline's actions to that commit", () => {
    const commit = "0123456789abcdef0123456789abcdef01234567";
    const installed = join(app, "node_modules/pinline/pinline-release.json");
    writeFileSync(installed, JSON.stringify({ repository: "acme/pinline", tag: "v1.4.0", commit }));
    const root = join(work, "pinned");
    mkdirSync(root);
    try {
      const init = npx([
        "init",
        "--yes",
        "--product",
        "Acme Billing",
        "--release-managers",
        "carol",
        "--developers",
        "dave",
        "--root",
        root,
      ]);
      expect(init.code).toBe(0);
      const deploy = readFileSync(join(root, ".github/workflows/deploy.yml"), "utf8");
      expect(deploy).toContain(`uses: acme/pinline/actions/deploy@${commit} # v1.4.0`);
      for (const line of deploy.split("\n").filter((l) => /^\s+(- )?uses: /.test(l))) {
        expect(line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d/);
      }
    } finally {
      rmSync(installed);
    }
  });
});
