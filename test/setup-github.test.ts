/**
 * `pinline setup github` against the GitHub simulator, which models what it sets as GitHub's
 * REST API documents it (test/harness/github-simulator/routes-settings.ts cites each page):
 * rulesets (https://docs.github.com/en/rest/repos/rules), environments and deployment branch
 * policies (https://docs.github.com/en/rest/deployments/environments,
 * https://docs.github.com/en/rest/deployments/branch-policies), labels, Pages
 * (https://docs.github.com/en/rest/pages/pages) and the names of secrets and variables
 * (https://docs.github.com/en/rest/actions/secrets, https://docs.github.com/en/rest/actions/variables).
 */

import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../src/cli/program.js";
import { PinlineError } from "../src/core/errors.js";
import { createOctokit } from "../src/github/create-octokit.js";
import { copyExample, removeCopies } from "./harness/example-repo.js";
import { createOpenApiValidator } from "./harness/github-simulator/openapi.js";
import { type GitHubSimulator, startGitHubSimulator } from "./harness/github-simulator.js";

let sim: GitHubSimulator;
let admin: string;
let writer: string;
let root: string;

beforeAll(async () => {
  sim = await startGitHubSimulator();
  admin = sim.addUser("olga", { permission: "admin" });
  writer = sim.addUser("walt", { permission: "write" });
  sim.addApp("pinline-gate", { permissions: { checks: "write", pull_requests: "read" } });
  sim.addApp("other-bot", { permissions: { checks: "write" } });
  // Three pins are enough, and each write waits out Octokit's throttle (one write a second).
  root = copyExample();
  for (const pin of ["qa", "production-partial", "production-majority", "production-full"]) {
    rmSync(join(root, `environments/${pin}.yaml`));
  }
  await sim.seed(root);
});

afterAll(async () => {
  await sim?.close();
  removeCopies();
});

async function setup(
  args: string[],
  token = admin,
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const saved = { url: process.env.GITHUB_API_URL, token: process.env.GITHUB_TOKEN };
  process.env.GITHUB_API_URL = sim.url;
  process.env.GITHUB_TOKEN = token;
  process.exitCode = 0;
  try {
    const program = buildProgram({ out: (s) => (out += s), err: (s) => (err += s) });
    await program.parseAsync(
      [
        "setup",
        "github",
        "--gate-app",
        "pinline-gate",
        "--repo",
        `${sim.owner}/${sim.repo}`,
        "--root",
        root,
        ...args,
      ],
      { from: "user" },
    );
    return { code: Number(process.exitCode ?? 0), out, err };
  } catch (error) {
    const said = error instanceof PinlineError ? error.describe() : (error as Error).message;
    return { code: 2, out, err: `${err}${said}` };
  } finally {
    process.exitCode = 0;
    if (saved.url === undefined) delete process.env.GITHUB_API_URL;
    else process.env.GITHUB_API_URL = saved.url;
    if (saved.token === undefined) delete process.env.GITHUB_TOKEN;
    else process.env.GITHUB_TOKEN = saved.token;
  }
}

const PIN_ENVIRONMENTS = ["dev", "staging", "production-canary"];

describe("pinline setup github", () => {
  it("refuses a token that may not administer the repository, saying what it needs", async () => {
    const run = await setup([], writer);
    expect(run.err).toMatch(/GitHub refused to create the ruleset pinline \(403/);
    expect(run.err).toContain("nothing was changed before it");
    expect(run.err).toContain("repository admin's token");
    expect(sim.state.rulesets).toEqual([]);
    expect(sim.state.environments).toEqual([]);
  });

  it("--dry-run lists every change and changes nothing", async () => {
    const run = await setup(["--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("nothing is changed");
    expect(run.out).toMatch(/create\s+ruleset\s+pinline/);
    for (const name of [...PIN_ENVIRONMENTS, "pinline-gate", "pinline-release", "github-pages"]) {
      expect(run.out).toMatch(new RegExp(`create\\s+environment\\s+${name}\\s`));
    }
    expect(run.out).toMatch(/create\s+label\s+pinline:promotion/);
    expect(run.out).toMatch(/create\s+pages\s+GitHub Pages/);
    expect(sim.state.rulesets).toEqual([]);
    expect(sim.state.environments).toEqual([]);
    expect(sim.state.pages).toBeUndefined();
  });

  it("applies the ruleset, environments admitting only main, labels and Pages; a second run changes nothing", async () => {
    const run = await setup([]);
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    const [ruleset] = sim.state.rulesets;
    expect(ruleset?.name).toBe("pinline");
    const checks = ruleset?.rules.find((r) => r.type === "required_status_checks")?.parameters
      ?.required_status_checks;
    const gateApp = sim.state.apps.find((app) => app.slug === "pinline-gate");
    expect(checks).toEqual([
      { context: "pinline/gate", integration_id: gateApp?.id },
      { context: "validate", integration_id: 15368 },
    ]);
    for (const name of [...PIN_ENVIRONMENTS, "pinline-gate", "pinline-release", "github-pages"]) {
      const environment = sim.state.environments.find((e) => e.name === name);
      expect(environment?.deploymentBranchPolicy).toEqual({
        protected_branches: false,
        custom_branch_policies: true,
      });
      expect(environment?.branchPolicies.map((p) => `${p.type}:${p.name}`)).toEqual([
        "branch:main",
      ]);
    }
    expect(sim.state.labels.map((l) => l.name).sort()).toEqual([
      "pinline:promotion",
      "pinline:revert",
    ]);
    expect(sim.state.pages).toEqual({ buildType: "workflow" });

    const again = await setup([]);
    expect(again.code).toBe(0);
    expect(again.out).not.toMatch(/created|updated/);
    expect(again.out).toMatch(/\d+ already as they should be/);
    expect(sim.state.environments).toHaveLength(PIN_ENVIRONMENTS.length + 3);
    expect(sim.state.rulesets).toHaveLength(1);
  });

  it("lists exactly the secrets and variables still to set, by name, with the command for each", async () => {
    sim.state.secrets.push(
      { name: "CM_DB_URL_DEV", environment: "dev", createdAt: "2026-01-01T00:00:00Z" },
      { name: "SLACK_WEBHOOK_URL", createdAt: "2026-01-01T00:00:00Z" },
    );
    const run = await setup(["--dry-run"]);
    const items = run.out.split("\n").filter((line) => /^\d+\. /.test(line));
    expect(items).toContain(
      `1. secret PINLINE_GATE_PRIVATE_KEY in pinline-gate: gh secret set PINLINE_GATE_PRIVATE_KEY --env pinline-gate --repo ${sim.owner}/${sim.repo}`,
    );
    expect(items.some((item) => item.includes("secret CM_DB_URL_STAGING in staging"))).toBe(true);
    expect(
      items.some((item) => item.includes("variable PINLINE_RELEASE_CLIENT_ID in pinline-release")),
    ).toBe(true);
    // Set already: in dev's environment, and repository-wide.
    expect(items.some((item) => item.includes("CM_DB_URL_DEV"))).toBe(false);
    expect(items.some((item) => item.includes("SLACK_WEBHOOK_URL"))).toBe(false);
  });

  it("restores a ruleset someone weakened", async () => {
    const octokit = createOctokit({ token: admin, baseUrl: sim.url });
    const id = sim.state.rulesets[0]?.id ?? 0;
    await octokit.rest.repos.updateRepoRuleset({
      owner: sim.owner,
      repo: sim.repo,
      ruleset_id: id,
      rules: [{ type: "deletion" }],
    });
    const run = await setup([]);
    expect(run.out).toContain("updated ruleset pinline");
    expect(sim.state.rulesets[0]?.rules.map((r) => r.type).sort()).toEqual([
      "deletion",
      "non_fast_forward",
      "pull_request",
      "required_status_checks",
    ]);
  });

  it("the ruleset it made refuses a merge whose pinline/gate check comes from another App", async () => {
    await sim.commitFiles(
      "promote-dev",
      { "environments/dev.yaml": "name: dev\n" },
      { author: "walt" },
    );
    const walt = createOctokit({ token: writer, baseUrl: sim.url });
    const repo = { owner: sim.owner, repo: sim.repo };
    const { data: pull } = await walt.rest.pulls.create({
      ...repo,
      head: "promote-dev",
      base: "main",
      title: "Promote dev",
    });
    const check = (token: string) =>
      createOctokit({ token, baseUrl: sim.url }).rest.checks.create({
        ...repo,
        name: "pinline/gate",
        head_sha: pull.head.sha,
        status: "completed",
        conclusion: "success",
      });
    await check(sim.installationToken("other-bot"));
    await check(sim.actionsToken({ permissions: { checks: "write" } }));
    const refused = await walt.rest.pulls
      .merge({ ...repo, pull_number: pull.number })
      .catch((e) => e);
    expect(refused.status).toBe(405);
    expect(String(refused.message)).toContain("pinline/gate");
  });

  it("served only responses that match GitHub's OpenAPI description", () => {
    const validator = createOpenApiValidator();
    const settings = sim.requests.filter((r) =>
      /environments|pages|secrets|variables|rulesets|labels|apps\//.test(r.route),
    );
    expect(settings.length).toBeGreaterThan(20);
    expect(settings.flatMap((response) => validator.check(response) ?? [])).toEqual([]);
  });
});
