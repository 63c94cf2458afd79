/**
 * The gate through GitHub (the simulator over real HTTP, with Octokit): the specification's
 * promotion scenarios and the approval forgeries, each judged into ONE pinline/gate check run
 * that says why.
 */
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GateVerdict } from "../src/core/gates/gate-input.js";
import { GATE_CHECK_NAME, gatePullRequest } from "../src/gate/evaluate-pull-request.js";
import type { Forge } from "../src/github/forge.js";
import { edit, removeCopies } from "./harness/example-repo.js";
import { hoursAfter, type PromotionRepo, startPromotionRepo } from "./harness/promotion-repo.js";

/** Saturday 03:00 UTC: inside production's window (saturday, sunday 02:00–06:00 UTC). */
const NOW = new Date("2024-03-16T03:00:00Z");
const SOAK_START = hoursAfter(NOW, -60);

let repo: PromotionRepo;
let root: string;
let branches = 0;

beforeAll(async () => {
  repo = await startPromotionRepo({
    soakStart: SOAK_START,
    // 2.4.2 is blocked by policies/production.yaml (a bad release, withdrawn).
    prepare: (example) => {
      cpSync(join(example, "releases/2.4.1"), join(example, "releases/2.4.2"), { recursive: true });
      rmSync(join(example, "releases/2.4.2/release.yaml.asc"));
      edit(example, "releases/2.4.2/release.yaml", (text) => text.replaceAll('"2.4.1"', '"2.4.2"'));
    },
  });
  await repo.passCompliance("2.4.1");
  root = repo.checkout();
});

afterAll(async () => {
  await repo?.close();
  removeCopies();
});

async function review(
  person: Parameters<PromotionRepo["as"]>[0],
  number: number,
  event: "APPROVE" | "REQUEST_CHANGES" | "COMMENT",
  commitId?: string,
) {
  await repo.as(person).rest.pulls.createReview({
    owner: repo.sim.owner,
    repo: repo.sim.repo,
    pull_number: number,
    event,
    body: event === "APPROVE" ? "LGTM" : "see comments",
    ...(commitId ? { commit_id: commitId } : {}),
  });
}

async function promoteCanary(version = "2.4.1") {
  branches += 1;
  return repo.openPinPr(`promote-canary-${branches}`, { "production-canary": version });
}

async function gate(number: number, now = NOW) {
  return gatePullRequest({ root, forge: repo.forge, number, now });
}

function verdict(run: Awaited<ReturnType<typeof gate>>, rule: string): GateVerdict {
  const found = run.report.evaluations[0]?.verdicts.find((v) => v.rule === rule);
  if (!found) throw new Error(`no ${rule} verdict in ${JSON.stringify(run.report)}`);
  return found;
}

function checkRunsOf(headSha: string) {
  return repo.sim.state.checkRuns.filter(
    (c) => c.headSha === headSha && c.name === GATE_CHECK_NAME,
  );
}

describe("approvals", () => {
  it("passes a promotion with two valid approvals (one through a team), in one check run", async () => {
    const pr = await promoteCanary();
    await review("alice", pr.number, "APPROVE");
    await review("carol", pr.number, "APPROVE");
    const run = await gate(pr.number);
    expect(verdict(run, "approvals")).toMatchObject({ status: "pass" });
    expect(verdict(run, "approvals").reason).toContain("carol (via @acme/release-managers)");
    expect(run.report.status).toBe("pass");
    const [check, ...others] = checkRunsOf(pr.headSha);
    expect(others).toHaveLength(0);
    expect(check).toMatchObject({ status: "completed", conclusion: "success" });
    expect(check?.output.summary).toContain("| approvals | ✅ pass |");
    expect(check?.output.summary).toContain("```mermaid");
    // Judged again (a review, a schedule): the same check run is updated, never a second one.
    await gate(pr.number);
    expect(checkRunsOf(pr.headSha)).toHaveLength(1);
  });

  it("does not count an approval of an older commit", async () => {
    const pr = await promoteCanary();
    await review("alice", pr.number, "APPROVE");
    const head = await repo.sim.commitFiles(
      `promote-canary-${branches}`,
      {
        "environments/production-canary.yaml": `${repo.pinWith("production-canary", "2.4.1")}# reviewed\n`,
      },
      { author: "dana" },
    );
    await review("bob", pr.number, "APPROVE");
    const run = await gate(pr.number);
    expect(verdict(run, "approvals").status).toBe("waiting");
    expect(verdict(run, "approvals").reason).toContain(
      `alice approved ${pr.headSha.slice(0, 7)}, an older commit (head is ${head.slice(0, 7)})`,
    );
    expect(verdict(run, "approvals").reason).toContain("1 of 2 approvals: bob");
  });

  it("does not count the approval of whoever pushed the head commit", async () => {
    const pr = await promoteCanary();
    await repo.sim.commitFiles(
      `promote-canary-${branches}`,
      {
        "environments/production-canary.yaml": `${repo.pinWith("production-canary", "2.4.1")}# bob\n`,
      },
      { author: "bob" },
    );
    await review("bob", pr.number, "APPROVE");
    await review("alice", pr.number, "APPROVE");
    const run = await gate(pr.number);
    expect(verdict(run, "approvals").reason).toContain("bob pushed the head commit");
    expect(verdict(run, "approvals").status).toBe("waiting");
  });

  it("refuses self-approval: GitHub refuses it, and the author never counts", async () => {
    const pr = await promoteCanary();
    await expect(review("dana", pr.number, "APPROVE")).rejects.toMatchObject({ status: 422 });
    await review("alice", pr.number, "APPROVE");
    const run = await gate(pr.number);
    expect(verdict(run, "approvals").reason).toContain("1 of 2 approvals: alice");
  });

  it("does not count a read-only team member, nor someone outside the approvers", async () => {
    const pr = await promoteCanary();
    await review("mallory", pr.number, "APPROVE");
    await review("erin", pr.number, "APPROVE");
    await review("alice", pr.number, "APPROVE");
    const run = await gate(pr.number);
    const { reason, status } = verdict(run, "approvals");
    expect(status).toBe("waiting");
    expect(reason).toContain("mallory has only read access (write is needed)");
    expect(reason).toContain("erin is not an approver in policies/production.yaml");
  });

  it("counts two approvals by one person once", async () => {
    const pr = await promoteCanary();
    await review("alice", pr.number, "APPROVE");
    await review("alice", pr.number, "APPROVE");
    const run = await gate(pr.number);
    expect(verdict(run, "approvals")).toMatchObject({ status: "waiting" });
    expect(verdict(run, "approvals").reason).toMatch(/^1 of 2 approvals: alice/);
  });

  it("cancels an approval followed by a request for changes, and holds the PR", async () => {
    const pr = await promoteCanary();
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    await review("carol", pr.number, "APPROVE");
    await review("alice", pr.number, "REQUEST_CHANGES");
    const run = await gate(pr.number);
    const { reason, status } = verdict(run, "approvals");
    expect(status).toBe("waiting");
    expect(reason).toContain("alice requested changes");
    expect(run.report.status).toBe("waiting");
    expect(checkRunsOf(pr.headSha)[0]).toMatchObject({ status: "in_progress", conclusion: null });
  });
});

describe("soak, stages, versions, window", () => {
  it("waits for a version that soaked 47h of a 48h policy, until the exact time", async () => {
    const pr = await promoteCanary();
    const run = await gate(pr.number, hoursAfter(SOAK_START, 47));
    const soak = verdict(run, "soak");
    expect(soak.status).toBe("waiting");
    expect(soak.until).toEqual(hoursAfter(SOAK_START, 48));
    expect(soak.reason).toContain("staging: 47h of 48h");
    expect(soak.reason).toContain("soaked at Fri 2024-03-15 15:00 UTC");
  });

  it("fails a promotion to production-full that skips production-canary", async () => {
    branches += 1;
    const pr = await repo.openPinPr(`promote-full-${branches}`, { "production-full": "2.4.1" });
    const run = await gate(pr.number);
    expect(verdict(run, "stage order")).toMatchObject({ status: "fail" });
    expect(verdict(run, "stage order").reason).toContain("production-majority has never run 2.4.1");
    expect(checkRunsOf(pr.headSha)[0]).toMatchObject({
      status: "completed",
      conclusion: "failure",
    });
    expect(checkRunsOf(pr.headSha)[0]?.output.title).toContain("blocked by stage order");
  });

  it("fails a blocked version, naming the policy", async () => {
    const pr = await promoteCanary("2.4.2");
    const run = await gate(pr.number);
    expect(verdict(run, "blocked versions")).toMatchObject({
      status: "fail",
      reason: "2.4.2 is blocked by policies/production.yaml",
    });
    expect(verdict(run, "signatures").status).toBe("fail");
  });

  it("refuses a promotion that also moves its pin to another platform: platform is the base's", async () => {
    branches += 1;
    const branch = `promote-old-k8s-${branches}`;
    const text = repo
      .pinWith("production-canary", "2.4.1")
      .replace('kubernetes: "1.28"', 'kubernetes: "1.25"');
    await repo.sim.commitFiles(
      branch,
      { "environments/production-canary.yaml": text },
      { author: "dana" },
    );
    const { data } = await repo.as("dana").rest.pulls.create({
      owner: repo.sim.owner,
      repo: repo.sim.repo,
      head: branch,
      base: "main",
      title: "Promote canary on an old cluster",
    });
    const run = await gate(data.number);
    expect(run.report.status).toBe("fail");
    expect(run.report.problems[0]).toContain(
      "environments/production-canary.yaml changes platform.kubernetes besides version",
    );
  });

  it("fails a nightly on a stable-only environment", async () => {
    const pr = await promoteCanary("2.5.0-nightly.20240315");
    const run = await gate(pr.number);
    expect(verdict(run, "channel")).toMatchObject({ status: "fail" });
    expect(verdict(run, "channel").reason).toContain("2.5.0-nightly.20240315 is a nightly build");
  });

  it("waits outside the maintenance window until it next opens", async () => {
    const pr = await promoteCanary();
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    const friday = new Date("2024-03-15T18:00:00Z");
    const run = await gate(pr.number, friday);
    const window = verdict(run, "maintenance window");
    expect(window.status).toBe("waiting");
    expect(window.until).toEqual(new Date("2024-03-16T02:00:00Z"));
    expect(window.reason).toContain("it opens Sat 2024-03-16 02:00 UTC");
    expect(run.report.status).toBe("waiting");
  });
});

describe("a head that moves while it is judged", () => {
  it("judges the head it read the files of: a push while the files are read is judged again", async () => {
    const pr = await promoteCanary();
    const branch = `promote-canary-${branches}`;
    let moved: string | undefined;
    // The forge as GitHub answers it, with a push landing right after the file list is read.
    const forge: Forge = Object.create(repo.forge);
    forge.listPullRequestFiles = async (number) => {
      const files = await repo.forge.listPullRequestFiles(number);
      moved ??= await repo.sim.commitFiles(
        branch,
        {
          "environments/production-canary.yaml": `${repo.pinWith("production-canary", "2.4.1")}# moved\n`,
        },
        { author: "dana", message: "Move the head" },
      );
      return files;
    };
    const run = await gatePullRequest({ root, forge, number: pr.number, now: NOW });
    expect(moved).toBeDefined();
    expect(run.pullRequest.headSha).toBe(moved);
    expect(checkRunsOf(pr.headSha)).toEqual([]);
    expect(checkRunsOf(moved ?? "")).toHaveLength(1);
  });
});

describe("what the gate refuses to judge", () => {
  it("fails a PR that changes a policy along with a pin (fail closed)", async () => {
    branches += 1;
    const branch = `sneaky-${branches}`;
    await repo.sim.commitFiles(
      branch,
      {
        "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
        "policies/production.yaml": "appliesTo: [nothing]\n",
      },
      { author: "dana" },
    );
    const { data } = await repo.as("dana").rest.pulls.create({
      owner: repo.sim.owner,
      repo: repo.sim.repo,
      head: branch,
      base: "main",
      title: "Promote and relax the policy",
    });
    const run = await gate(data.number);
    expect(run.report.status).toBe("fail");
    expect(run.report.problems.join("\n")).toContain(
      "policies/production.yaml is not a promotion: a promotion PR changes only `version`",
    );
  });

  it("passes a PR that changes neither a pin nor configuration, saying there is nothing to gate", async () => {
    branches += 1;
    const branch = `docs-${branches}`;
    await repo.sim.commitFiles(branch, { "docs/notes.md": "hello\n" }, { author: "dana" });
    const { data } = await repo.as("dana").rest.pulls.create({
      owner: repo.sim.owner,
      repo: repo.sim.repo,
      head: branch,
      base: "main",
      title: "Docs",
    });
    const run = await gate(data.number);
    expect(run.report).toMatchObject({ status: "pass", problems: [], evaluations: [] });
    const [check] = repo.sim.state.checkRuns.filter((c) => c.headSha === run.pullRequest.headSha);
    expect(check).toMatchObject({ conclusion: "success" });
    expect(check?.output.title).toBe("No environment pin or configuration changed");
  });
});

// Last: it records a failed deployment in qa, which every later promotion would inherit.
describe("deployments", () => {
  it("counts soak from the successful deployment, and a failed one interrupts it", async () => {
    // The deploy workflow records deployments with the release App's token (deployments: write).
    const octokit = new Octokit({ baseUrl: repo.sim.url, auth: repo.tokens.bot });
    const where = { owner: repo.sim.owner, repo: repo.sim.repo };
    repo.sim.setClock(() => hoursAfter(SOAK_START, 2));
    const { data: deployment } = await octokit.rest.repos.createDeployment({
      ...where,
      ref: "main",
      environment: "qa",
      payload: { version: "2.4.1" },
      required_contexts: [],
      auto_merge: false,
    });
    const id = (deployment as { id: number }).id;
    await octokit.rest.repos.createDeploymentStatus({
      ...where,
      deployment_id: id,
      state: "success",
    });
    const pr = await promoteCanary();
    const soaking = verdict(await gate(pr.number, hoursAfter(SOAK_START, 49)), "soak");
    expect(soaking.status).toBe("waiting");
    expect(soaking.reason).toContain("qa: 47h of 48h (since Wed 2024-03-13 17:00 UTC, deployed)");
    expect(soaking.until).toEqual(hoursAfter(SOAK_START, 50));

    repo.sim.setClock(() => hoursAfter(SOAK_START, 30));
    await octokit.rest.repos.createDeploymentStatus({
      ...where,
      deployment_id: id,
      state: "failure",
    });
    const interrupted = verdict(await gate(pr.number), "soak");
    expect(interrupted.status).toBe("fail");
    expect(interrupted.reason).toContain(
      "qa: the latest deployment of 2.4.1 failed at Thu 2024-03-14 21:00 UTC",
    );
  });
});

describe("a stale checkout", () => {
  it("is named in the check run, so nobody trusts policies read from an old commit", async () => {
    const stale = repo.checkout();
    await repo.sim.commitFiles("main", { "docs/moved-on.md": "main moved on\n" });
    const pr = await promoteCanary();
    const run = await gatePullRequest({
      root: stale,
      forge: repo.forge,
      number: pr.number,
      now: NOW,
    });
    expect(run.report.notes?.[0]).toMatch(
      /^policies, releases and pin history were read at [0-9a-f]{7}, but main is at [0-9a-f]{7}/,
    );
    const [check] = repo.sim.state.checkRuns.filter((c) => c.headSha === pr.headSha);
    expect(check?.output.summary).toContain("> [!NOTE]");
  });
});
