/**
 * `pinline plan`, `pinline gate` and `pinline promote` from the CLI bundle: offline on the
 * example data, and against GitHub (the simulator at GITHUB_API_URL, with GITHUB_TOKEN).
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitExample, removeCopies, runPinline, runPinlineAsync } from "./harness/example-repo.js";
import { hoursAfter, type PromotionRepo, startPromotionRepo } from "./harness/promotion-repo.js";

const RULES = [
  "policy",
  "approvals",
  "signatures",
  "blocked versions",
  "revert hold",
  "channel",
  "upgrade path",
  "stage order",
  "soak",
  "compliance checks",
  "compatibility",
  "maintenance window",
];

afterAll(() => removeCopies());

describe("pinline plan (offline)", () => {
  it("prints every rule with its verdict for production-canary --to 2.4.1 on the example data", () => {
    const root = gitExample();
    const run = runPinline(["plan", "production-canary", "--to", "2.4.1", "--root", root]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("plan production-canary: 2.4.1 → 2.4.1 (stage production-canary)");
    expect(run.stdout).toContain("offline: approvals and compliance checks need GitHub (--github)");
    for (const rule of RULES)
      expect(run.stdout).toMatch(new RegExp(`^${rule} +(✓ pass|… waiting|✗ fail) `, "m"));
    expect(run.stdout).toMatch(/^verdict: (waiting|pass)/m);
  });

  it("shows the upgrade path and exits 1 when a rule fails", () => {
    const root = gitExample();
    const run = runPinline(["plan", "production-full", "--root", root]);
    expect(run.stdout).toContain("plan production-full: 2.4.0 → 2.4.1");
    expect(run.stdout).toContain("upgrade path: 2.4.0 → 2.4.1");
    expect(run.stdout).toMatch(
      /^stage order +✗ fail +production-majority has never run 2\.4\.1|2\.4\.1 has not passed production-majority/m,
    );
    expect(run.code).toBe(1);
    const json = JSON.parse(
      runPinline(["plan", "production-full", "--root", root, "--json"]).stdout,
    );
    expect(json.evaluation.verdicts.map((v: { rule: string }) => v.rule)).toEqual(RULES);
  });

  it("refuses an unknown environment and a version that is not one, with exit 2", () => {
    const root = gitExample();
    const unknown = runPinline(["plan", "moon", "--root", root]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no environment "moon"');
    expect(unknown.stderr).toContain("environments: dev,");
    const bad = runPinline(["plan", "production-canary", "--to", "2.4", "--root", root]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"2.4" is not a version');
  });
});

describe("pinline promote --local", () => {
  it("commits the one-line pin change", () => {
    const root = gitExample();
    const run = runPinline(["promote", "production-full", "2.4.1", "--local", "--root", root]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      /^environments\/production-full\.yaml: 2\.4\.0 → 2\.4\.1 \(commit [0-9a-f]{7}\)/,
    );
    const diff = execFileSync("git", ["-C", root, "show", "--format=%s", "HEAD"], {
      encoding: "utf8",
    });
    expect(diff).toContain("Promote production-full to 2.4.1");
    expect(diff.split("\n").filter((l) => /^[+-][^+-]/.test(l))).toEqual([
      '-version: "2.4.0"',
      '+version: "2.4.1"',
    ]);
  });
});

describe("pinline revert --local", () => {
  it("restores the version the environment ran before, as a commit", () => {
    const root = gitExample();
    runPinline(["promote", "production-full", "2.4.1", "--local", "--root", root]);
    const run = runPinline([
      "revert",
      "production-full",
      "--local",
      "--reason",
      "canary errors",
      "--root",
      root,
    ]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      /^environments\/production-full\.yaml: 2\.4\.1 → 2\.4\.0 \(commit [0-9a-f]{7}\)/,
    );
    const head = execFileSync("git", ["-C", root, "log", "-1", "--format=%B"], {
      encoding: "utf8",
    });
    expect(head).toContain("Revert production-full to 2.4.0");
    expect(head).toContain("2.4.1 → 2.4.0: canary errors");
  });

  it("refuses when the environment has run no other version", () => {
    const run = runPinline(["revert", "production-full", "--local", "--root", gitExample()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "production-full has run no other version: there is nothing to revert to",
    );
  });
});

describe("against GitHub", () => {
  let repo: PromotionRepo;
  let root: string;
  const env = () => ({
    GITHUB_API_URL: repo.sim.url,
    GITHUB_TOKEN: repo.tokens.bot,
    GITHUB_REPOSITORY: `${repo.sim.owner}/${repo.sim.repo}`,
  });

  beforeAll(async () => {
    repo = await startPromotionRepo({ soakStart: hoursAfter(new Date(), -60) });
    await repo.passCompliance("2.4.1");
    root = repo.checkout();
  });
  afterAll(async () => repo?.close());

  it("promote opens the PR, plan --github reads its reviews, gate --pr writes the check", async () => {
    const promote = await runPinlineAsync(
      ["promote", "production-canary", "2.4.1", "--root", root],
      { env: env() },
    );
    expect(promote.stderr).toBe("");
    const number = Number(/PR #(\d+)/.exec(promote.stdout)?.[1]);
    expect(promote.stdout).toContain(`created PR #${number}: production-canary 2.4.0 → 2.4.1`);
    for (const person of ["alice", "bob"] as const) {
      await repo.as(person).rest.pulls.createReview({
        owner: repo.sim.owner,
        repo: repo.sim.repo,
        pull_number: number,
        event: "APPROVE",
      });
    }
    const plan = await runPinlineAsync(
      ["plan", "production-canary", "--to", "2.4.1", "--github", "--root", root],
      {
        env: env(),
      },
    );
    expect(plan.stdout).toContain(`reviews of PR #${number}`);
    expect(plan.stdout).toMatch(/^approvals +✓ pass +2 of 2 approvals: alice, bob/m);
    expect(plan.stdout).toMatch(/^compliance checks +✓ pass/m);

    const gate = await runPinlineAsync(["gate", "--pr", String(number), "--root", root], {
      env: env(),
    });
    expect(gate.stdout).toContain(`PR #${number}`);
    expect(gate.stdout).toMatch(/^approvals +✓ pass/m);
    const checks = repo.sim.state.checkRuns.filter((c) => c.name === "pinline/gate");
    expect(checks).toHaveLength(1);
  });

  it("gate without a token is a usage error that says what to set", async () => {
    const run = await runPinlineAsync(["gate", "--pr", "1", "--root", root], {
      env: { GITHUB_TOKEN: "", GH_TOKEN: "", GITHUB_API_URL: repo.sim.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no GitHub token");
    expect(run.stderr).toContain("set GITHUB_TOKEN");
  });
});
