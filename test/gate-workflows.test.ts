// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are plain text here
/**
 * Trusted execution (DESIGN §6): no workflow or code from a pull request ever runs with the
 * gate's privileges. The simulated repository holds this project's own workflows, actions and
 * bundles; the workflow runner (test/harness/workflow-runner.ts) decides, as GitHub does,
 * which copy of which workflow file runs for each event, with which token and secrets, and runs
 * its steps — actions/create-github-app-token and actions/checkout emulated, ./actions/gate the
 * real bundle. main is protected by a ruleset requiring pinline/gate from the gate's App.
 */
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeCopies, repoRoot } from "./harness/example-repo.js";
import { type PromotionRepo, startLivePromotionRepo } from "./harness/promotion-repo.js";
import {
  cleanup,
  plannedRuns,
  type RepositorySettings,
  runWorkflow,
  type TriggerEvent,
} from "./harness/workflow-runner.js";

let repo: PromotionRepo;
let settings: RepositorySettings;
let branches = 0;

const GATE = "pinline/gate";

beforeAll(async () => {
  // The repository runs pinline's own workflows and actions, as this one does.
  repo = await startLivePromotionRepo((example) => {
    for (const dir of [".github", "actions", "dist"]) {
      cpSync(join(repoRoot, dir), join(example, dir), { recursive: true });
    }
  });
  const gate = repo.apps.pinline;
  settings = {
    environments: {
      // One-time setup (README): the App's key lives in an environment only main may use.
      "pinline-gate": {
        secrets: { PINLINE_GATE_PRIVATE_KEY: gate.privateKey },
        variables: { PINLINE_GATE_CLIENT_ID: gate.clientId },
        deploymentBranches: ["main"],
      },
    },
    secrets: { SOME_REPOSITORY_SECRET: "reachable-from-any-branch" },
  };
  repo.protectMain();
});

afterAll(async () => {
  cleanup();
  await repo?.close();
  removeCopies();
});

const where = () => ({ owner: repo.sim.owner, repo: repo.sim.repo });

function mainSha(): string {
  return repo.git("rev-parse", "main");
}

async function openPr(files: Record<string, string | null>, by: "dana" | "erin" = "dana") {
  branches += 1;
  const branch = `workflow-${branches}`;
  const headSha = await repo.sim.commitFiles(branch, files, {
    author: by,
    message: `Change ${branch}`,
  });
  const { data } = await repo.as(by).rest.pulls.create({
    ...where(),
    head: branch,
    base: "main",
    title: `Change ${branch}`,
  });
  return { number: data.number, headSha, branch };
}

/** Every workflow GitHub starts for the event, run to the end. */
async function trigger(event: TriggerEvent) {
  const planned = plannedRuns(repo.sim, event, settings);
  const results = [];
  for (const run of planned) results.push(await runWorkflow(repo.sim, run, settings));
  return { planned, results };
}

function checksOn(sha: string) {
  return repo.sim.state.checkRuns.filter((run) => run.headSha === sha && run.name === GATE);
}

async function merge(number: number) {
  try {
    await repo
      .as("bob")
      .rest.pulls.merge({ ...where(), pull_number: number, merge_method: "squash" });
    return { merged: true, message: "" };
  } catch (error) {
    return { merged: false, message: (error as Error).message };
  }
}

const PASSING_GATE = `name: gate
on: [pull_request_target, pull_request]
permissions:
  checks: write
jobs:
  gate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
        with:
          persist-credentials: false
      - uses: ./evil
        with:
          token: \${{ github.token }}
`;

const EVIL_ACTION = `name: evil
description: posts a passing pinline/gate
inputs:
  token: { description: token, required: true }
runs:
  using: node20
  main: main.js
`;

const EVIL_MAIN = `const fs = require("node:fs");
(async () => {
  const event = JSON.parse(fs.readFileSync(process.env.GITHUB_EVENT_PATH, "utf8"));
  const sha = event.pull_request.head.sha;
  const response = await fetch(process.env.GITHUB_API_URL + "/repos/" + process.env.GITHUB_REPOSITORY + "/check-runs", {
    method: "POST",
    headers: { authorization: "token " + process.env.INPUT_TOKEN, "content-type": "application/json" },
    body: JSON.stringify({ name: "pinline/gate", head_sha: sha, status: "completed", conclusion: "success" }),
  });
  fs.appendFileSync(process.env.GITHUB_OUTPUT, "status=" + response.status + "\\n");
})();
`;

describe("trusted execution", () => {
  it("a writer's PR that rewrites gate.yml to pass cannot post a passing check", async () => {
    const pr = await openPr({
      ".github/workflows/gate.yml": PASSING_GATE,
      "evil/action.yml": EVIL_ACTION,
      "evil/main.js": EVIL_MAIN,
      "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
    });
    const { planned, results } = await trigger({
      name: "pull_request_target",
      action: "opened",
      pull: pr.number,
      sender: "dana",
    });
    // docs.github.com/en/actions/reference/security/securely-using-pull_request_target: the
    // workflow is taken from the base repository's default branch.
    expect(planned.map((run) => [run.file, run.sourceSha])).toEqual([
      [".github/workflows/gate.yml", mainSha()],
    ]);
    expect(results[0]?.jobs[0]?.steps.map((step) => step.uses)).toEqual([
      "actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3",
      "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
      "./actions/gate",
    ]);
    const checks = checksOn(pr.headSha);
    expect(checks.map((c) => [c.appSlug, c.conclusion])).toEqual([["pinline", "failure"]]);
    expect(checks[0]?.output.summary).toContain(".github/workflows/gate.yml is not a promotion");
    expect(await merge(pr.number)).toMatchObject({ merged: false });
  });

  it("a PR's own pull_request workflow may post pinline/gate, but not as the gate's App: GitHub refuses the merge", async () => {
    const evil = PASSING_GATE.replace("name: gate", "name: evil").replace(
      "on: [pull_request_target, pull_request]",
      "on: pull_request",
    );
    const pr = await openPr({
      ".github/workflows/evil.yml": evil,
      "evil/action.yml": EVIL_ACTION,
      "evil/main.js": EVIL_MAIN,
    });
    const { planned } = await trigger({
      name: "pull_request",
      action: "opened",
      pull: pr.number,
      sender: "dana",
    });
    // pull_request runs the PR's merge commit's copy: the evil workflow does run...
    expect(planned.map((run) => run.file)).toContain(".github/workflows/evil.yml");
    const posted = checksOn(pr.headSha);
    expect(posted.map((c) => [c.appSlug, c.conclusion])).toEqual([["github-actions", "success"]]);
    // ...but the ruleset requires pinline/gate from the gate's App (docs: "If the status is set
    // by any other person or integration, merging won't be allowed").
    const refused = await merge(pr.number);
    expect(refused.merged).toBe(false);
    expect(refused.message).toContain('Required status check "pinline/gate"');
    // And the gate itself, on pull_request_target, judges the new workflow as configuration.
    await trigger({
      name: "pull_request_target",
      action: "opened",
      pull: pr.number,
      sender: "dana",
    });
    const mine = checksOn(pr.headSha).filter((c) => c.appSlug === "pinline");
    expect(mine.at(-1)).toMatchObject({ status: "in_progress" });
    expect(mine.at(-1)?.output.summary).toContain("| .github/workflows/evil.yml | added |");
  });

  it("a PR's workflow cannot reach the gate App's key: the environment admits main only", async () => {
    const steal = `name: steal
on: pull_request
permissions: {}
jobs:
  steal:
    runs-on: ubuntu-latest
    environment: pinline-gate
    steps:
      - run: echo "\${{ secrets.PINLINE_GATE_PRIVATE_KEY }}" > /dev/null
`;
    const pr = await openPr({ ".github/workflows/steal.yml": steal });
    const { results } = await trigger({
      name: "pull_request",
      action: "opened",
      pull: pr.number,
      sender: "dana",
    });
    const job = results.find((r) => r.file === ".github/workflows/steal.yml")?.jobs[0];
    expect(job?.conclusion).toBe("failure");
    expect(job?.environmentRefused).toContain("is not allowed to deploy to pinline-gate");
    expect(job?.secretsSeen).not.toContain("PINLINE_GATE_PRIVATE_KEY");
    expect(job?.steps).toEqual([]);
  });

  it("reaches the gate from a review only through the unprivileged relay, judged from main", async () => {
    const pr = await openPr({
      "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1"),
    });
    await trigger({
      name: "pull_request_target",
      action: "opened",
      pull: pr.number,
      sender: "dana",
    });
    expect(checksOn(pr.headSha).at(-1)).toMatchObject({ status: "in_progress" });
    for (const person of ["alice", "bob"] as const) {
      await repo.as(person).rest.pulls.createReview({
        ...where(),
        pull_number: pr.number,
        event: "APPROVE",
      });
    }
    const relay = await trigger({
      name: "pull_request_review",
      action: "submitted",
      pull: pr.number,
      sender: "bob",
    });
    expect(relay.planned.map((run) => run.file)).toEqual([".github/workflows/gate-review.yml"]);
    const relayJob = relay.results[0]?.jobs[0];
    // A same-repository PR's workflow may read repository secrets (only forks get none), which
    // is why the gate's key is an environment secret: the relay sees no environment's.
    expect(relayJob?.secretsSeen).not.toContain("PINLINE_GATE_PRIVATE_KEY");
    expect(relayJob?.environment).toBeUndefined();
    // permissions: {} leaves the token nothing but metadata: read, which every token has.
    const granted = Object.entries(relayJob?.tokenPermissions ?? {}).filter(
      ([, p]) => p !== "none",
    );
    expect(granted).toEqual([["metadata", "read"]]);
    const run = relay.results[0];
    if (!run) throw new Error("the relay did not run");
    const gate = await trigger({ name: "workflow_run", action: "completed", run });
    expect(gate.planned.map((p) => [p.file, p.sourceSha])).toEqual([
      [".github/workflows/gate.yml", mainSha()],
    ]);
    expect(checksOn(pr.headSha).at(-1)).toMatchObject({
      appSlug: "pinline",
      status: "completed",
      conclusion: "success",
    });
    expect(await merge(pr.number)).toMatchObject({ merged: true });
  });

  it("gives a fork's pull_request workflows no secrets and a read-only token; the gate still runs from main", async () => {
    const fork = repo.sim.addFork("erin");
    const headSha = await repo.sim.commitFiles(
      "fork-change",
      { "docs/fork.md": "from a fork\n" },
      { author: "erin", fork: "erin" },
    );
    const { data } = await repo.as("erin").rest.pulls.create({
      ...where(),
      head: `${fork.owner}:fork-change`,
      base: "main",
      title: "From a fork",
    });
    const prRuns = plannedRuns(
      repo.sim,
      { name: "pull_request", action: "opened", pull: data.number, sender: "erin" },
      settings,
    );
    expect(prRuns.length).toBeGreaterThan(0);
    for (const run of prRuns)
      expect([run.secretsAvailable, run.tokenReadOnly]).toEqual([false, true]);
    const { planned } = await trigger({
      name: "pull_request_target",
      action: "opened",
      pull: data.number,
      sender: "erin",
    });
    expect(planned.map((run) => run.sourceSha)).toEqual([mainSha()]);
    expect(checksOn(headSha).at(-1)).toMatchObject({ appSlug: "pinline", conclusion: "success" });
  });
});

it("the shipped gate workflow is the one this test ran", () => {
  const shipped = readFileSync(join(repoRoot, ".github/workflows/gate.yml"), "utf8");
  expect(repo.git("show", "main:.github/workflows/gate.yml")).toBe(shipped.trimEnd());
});
