// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${version} is pinline's placeholder
/**
 * `pinline init` for a product that is not CM Diagnostics, through the CLI bundle: what it
 * writes validates, its workflows name each pin's secrets and the installed pinline version,
 * it never overwrites a file without --force, and `init --check` (validate's workflows rule)
 * fails once the pins and the workflows disagree.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot, runPinline } from "./harness/example-repo.js";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

let keyFile = "";
let artifacts = "";
beforeAll(async () => {
  const dir = scratch("pinline-init-inputs-");
  const { privateKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "Billing Releases", email: "releases@billing.example" }],
    format: "armored",
  });
  keyFile = join(dir, "private.asc");
  writeFileSync(keyFile, privateKey);
  artifacts = join(dir, "artifacts");
  mkdirSync(artifacts);
  writeFileSync(join(artifacts, "billing-api-3.2.0.tar.gz"), "the running build\n");
});

const INIT = () => [
  "init",
  "--yes",
  "--product",
  "Acme Billing",
  "--stages",
  "dev,qa,prod-eu,prod-us",
  "--current-version",
  "3.2.0",
  "--artifacts",
  artifacts,
  "--artifact-url",
  "https://downloads.billing.example/{version}/{file}",
  "--key",
  keyFile,
  "--release-managers",
  "@acme/billing-leads,carol",
  "--developers",
  "@acme/billing",
  "--deploy-command",
  "helm upgrade billing ./chart --set image.tag=${version}",
  "--slack",
  "BILLING_SLACK_WEBHOOK",
];

function initialised(): string {
  const root = scratch("pinline-init-");
  execFileSync("git", ["init", "-q", "-b", "main", root]);
  const run = runPinline([...INIT(), "--root", root]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return root;
}

describe("pinline init", () => {
  it("scaffolds a repository for another product that validates as it is", () => {
    const root = initialised();
    const validate = runPinline(["validate", "--root", root]);
    expect(validate.stdout).toContain("0 errors, 0 warnings");
    expect(validate.code).toBe(0);
    const rollout = parse(readFileSync(join(root, "policies/rollout.yaml"), "utf8"));
    expect(rollout.stages.map((s: { name: string }) => s.name)).toEqual([
      "dev",
      "qa",
      "prod-eu",
      "prod-us",
    ]);
    const production = parse(readFileSync(join(root, "policies/production.yaml"), "utf8"));
    expect(production.appliesTo).toEqual(["prod-eu", "prod-us"]);
    expect(production.testing.environments).toEqual(["qa"]);
    const pin = parse(readFileSync(join(root, "environments/prod-us.yaml"), "utf8"));
    expect(pin).toMatchObject({
      name: "prod-us",
      version: "3.2.0",
      database: { urlEnv: "ACME_BILLING_DB_URL_PROD_US" },
      notify: { slack: "BILLING_SLACK_WEBHOOK" },
    });
    expect(readFileSync(join(root, ".github/CODEOWNERS"), "utf8")).toContain(
      "/policies/ @acme/billing-leads carol",
    );
    const verify = runPinline(["verify", join(root, "releases/3.2.0"), "--root", root]);
    expect(verify.stdout).toContain("verified");
  });

  it("generates workflows for these pins: their secrets, their names, this pinline's actions", () => {
    const root = initialised();
    const deploy = readFileSync(join(root, ".github/workflows/deploy.yml"), "utf8");
    for (const secret of [
      "ACME_BILLING_DB_URL_DEV",
      "ACME_BILLING_DB_URL_QA",
      "ACME_BILLING_DB_URL_PROD_EU",
      "ACME_BILLING_DB_URL_PROD_US",
      "BILLING_SLACK_WEBHOOK",
    ]) {
      expect(deploy).toContain(`${secret}: \${{ secrets.${secret} }}`);
    }
    expect(deploy).not.toContain("CM_DB_URL");
    const version = JSON.parse(readFileSync(join(__dirname, "../package.json"), "utf8")).version;
    expect(deploy).toContain(`uses: pinline-dev/pinline/actions/deploy@v${version}`);
    const promote = parse(readFileSync(join(root, ".github/workflows/promote.yml"), "utf8"));
    expect(promote.on.workflow_dispatch.inputs.environment.options).toEqual([
      "dev",
      "qa",
      "prod-eu",
      "prod-us",
    ]);
  });

  it("overwrites nothing without --force, and writes nothing when it would", () => {
    const root = initialised();
    const policy = join(root, "policies/production.yaml");
    writeFileSync(policy, `${readFileSync(policy, "utf8")}# our own note\n`);
    rmSync(join(root, "environments/dev.yaml"));
    const again = runPinline([...INIT(), "--root", root]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("init would overwrite 1 file that differ");
    expect(again.stderr).toContain("policies/production.yaml");
    expect(again.stderr).toContain("--force");
    // Refused as a whole: the missing pin was not written either.
    expect(() => readFileSync(join(root, "environments/dev.yaml"))).toThrow();
    expect(readFileSync(policy, "utf8")).toContain("# our own note");
    const forced = runPinline([...INIT(), "--force", "--root", root]);
    expect(forced.stderr).toBe("");
    expect(forced.code).toBe(0);
    expect(readFileSync(policy, "utf8")).not.toContain("# our own note");
  });

  it("init --check and validate fail once a new pin is missing from the workflows, until --workflows", () => {
    const root = initialised();
    expect(runPinline(["init", "--check", "--root", root]).code).toBe(0);
    const pin = readFileSync(join(root, "environments/qa.yaml"), "utf8")
      .replaceAll("qa", "uat")
      .replace("ACME_BILLING_DB_URL_QA", "ACME_BILLING_DB_URL_UAT");
    writeFileSync(join(root, "environments/uat.yaml"), pin);
    const rollout = join(root, "policies/rollout.yaml");
    writeFileSync(
      rollout,
      readFileSync(rollout, "utf8").replace(
        "  - name: prod-eu",
        '  - name: uat\n    traffic: 100\n    soak: "24h"\n  - name: prod-eu',
      ),
    );
    const policy = join(root, "policies/pre-production.yaml");
    writeFileSync(
      policy,
      readFileSync(policy, "utf8").replace('["dev","qa"]', '["dev","qa","uat"]'),
    );
    const check = runPinline(["init", "--check", "--root", root]);
    expect(check.code, check.stdout).toBe(1);
    expect(check.stdout).toMatch(
      /\.github\/workflows\/deploy\.yml:\d+:1: error: .* no longer matches the pins/,
    );
    expect(check.stdout).toContain("ACME_BILLING_DB_URL_UAT");
    expect(check.stdout).toContain("pinline init --workflows");
    const validate = runPinline(["validate", "--root", root]);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain("promote.yml");
    const regenerate = runPinline(["init", "--workflows", "--root", root]);
    expect(regenerate.code).toBe(0);
    expect(runPinline(["init", "--check", "--root", root]).code).toBe(0);
    expect(readFileSync(join(root, ".github/workflows/deploy.yml"), "utf8")).toContain(
      "ACME_BILLING_DB_URL_UAT: ${{ secrets.ACME_BILLING_DB_URL_UAT }}",
    );
  });

  it("this repository's own workflows are what init generates for the example's pins", () => {
    const run = runPinline(["init", "--check"]);
    expect(run.stdout).toContain("the workflows match the pins");
    expect(run.code).toBe(0);
  });

  it("prints what it cannot do as a numbered checklist, secrets by name", () => {
    const root = scratch("pinline-init-bare-");
    execFileSync("git", ["init", "-q", "-b", "main", root]);
    const run = runPinline([
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
    expect(run.code).toBe(0);
    const items = run.stdout.split("\n").filter((line) => /^\d+\. /.test(line));
    expect(items[0]).toContain("pinline release create 1.0.0 --artifacts");
    expect(items.some((item) => item.includes("deploy.command"))).toBe(true);
    expect(items.some((item) => item.includes("pinline setup github"))).toBe(true);
    expect(
      items.find((item) => item.startsWith("Set the secrets") || item.includes("Set the secrets")),
    ).toContain("ACME_BILLING_DB_URL_PRODUCTION");
    for (const [index, item] of items.entries())
      expect(item.startsWith(`${index + 1}. `)).toBe(true);
  });

  // A terminal is attached through script(1), which gives the CLI a pseudo-terminal.
  const hasScript = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
  if (!hasScript)
    console.warn("init prompt test skipped: script(1) from util-linux is not installed");
  it.runIf(hasScript)("asks at a terminal for what the flags leave out", () => {
    const root = scratch("pinline-init-tty-");
    const cli = join(repoRoot, "dist/cli.js");
    // product, stages (default), version, artifacts (later), approvers, deploy command (later)
    const answers = "Acme Tty\n\n2.0.0\n\ncarol\ndave\n\n";
    const run = spawnSync("script", ["-qec", `node ${cli} init --root ${root}`, "/dev/null"], {
      input: answers,
      encoding: "utf8",
    });
    expect(run.stdout).toContain("Product name");
    expect(run.stdout).toContain("Who approves production");
    expect(run.status).toBe(0);
    expect(readFileSync(join(root, "environments/staging.yaml"), "utf8")).toContain(
      'version: "2.0.0"',
    );
    expect(
      parse(readFileSync(join(root, "policies/production.yaml"), "utf8")).approval.approvers,
    ).toEqual(["carol"]);
  });

  it("refuses bad answers with what to pass instead", () => {
    const root = scratch("pinline-init-bad-");
    const run = runPinline([
      "init",
      "--yes",
      "--product",
      "Acme",
      "--stages",
      "dev,Prod",
      "--release-managers",
      "carol",
      "--developers",
      "dave",
      "--root",
      root,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('stage "Prod" is not a valid environment name');
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});
