// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are plain text here
/**
 * The workflow runner (test/harness/workflow-runner.ts): which workflow file GitHub runs for
 * each event, with which ref, sha, secrets and token, and jobs run as GitHub's runner runs
 * them, against the GitHub simulator. Each behaviour cites the GitHub documentation it
 * models (research notes: test/harness/github-behaviour.md).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitHubSimulator, startGitHubSimulator } from "./harness/github-simulator.js";
import { resolve as resolveSha } from "./harness/workflow-runner/git.js";
import {
  APP_TOKEN_ERRORS,
  cleanup,
  expandMatrix,
  type PlannedRun,
  plannedRuns,
  type RepositorySettings,
  runWorkflow,
  type TriggerEvent,
  validateWorkflowFile,
  type WorkflowRunResult,
} from "./harness/workflow-runner.js";

/** A local action that reports what the runner gave it, as outputs. */
const PROBE_ACTION = `name: probe
description: Reports its inputs and the runner's environment as outputs.
inputs:
  message:
    description: any text
    required: false
    default: ""
  token:
    description: a token (the job's GITHUB_TOKEN unless given)
    required: false
    default: \${{ github.token }}
  fail:
    description: exit 1 when "true"
    required: false
    default: "false"
runs:
  using: node24
  main: main.js
`;

const PROBE_MAIN = `const fs = require("node:fs");
const out = (key, value) =>
  fs.appendFileSync(process.env.GITHUB_OUTPUT, key + "<<PROBE_EOF\\n" + value + "\\nPROBE_EOF\\n");
out("message", process.env.INPUT_MESSAGE ?? "");
out("token", process.env.INPUT_TOKEN ?? "");
out("marker", fs.existsSync("marker.txt") ? fs.readFileSync("marker.txt", "utf8").trim() : "");
for (const key of ["GITHUB_REF", "GITHUB_SHA", "GITHUB_EVENT_NAME", "GITHUB_API_URL", "GITHUB_REPOSITORY", "GITHUB_TOKEN"]) {
  out(key.toLowerCase(), process.env[key] ?? "");
}
const event = JSON.parse(fs.readFileSync(process.env.GITHUB_EVENT_PATH, "utf8"));
out("event-action", event.action ?? "");
fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, "probe: " + (process.env.INPUT_MESSAGE ?? "") + "\\n");
if (process.env.INPUT_FAIL === "true") {
  console.log("::error::probe asked to fail");
  process.exit(1);
}
`;

/** A local action that posts a completed check run on the PR's head with the token it gets. */
const POST_CHECK_ACTION = `name: post-check
description: Posts a completed check run on the pull request's head.
inputs:
  token: { description: token, required: true }
  name: { description: check name, required: true }
  conclusion: { description: conclusion, required: true }
runs:
  using: node20
  main: main.js
`;

const POST_CHECK_MAIN = `const fs = require("node:fs");
(async () => {
  const event = JSON.parse(fs.readFileSync(process.env.GITHUB_EVENT_PATH, "utf8"));
  const sha = (event.pull_request && event.pull_request.head.sha) || process.env.GITHUB_SHA;
  const response = await fetch(process.env.GITHUB_API_URL + "/repos/" + process.env.GITHUB_REPOSITORY + "/check-runs", {
    method: "POST",
    headers: { authorization: "token " + process.env.INPUT_TOKEN, accept: "application/vnd.github+json", "content-type": "application/json" },
    body: JSON.stringify({ name: process.env.INPUT_NAME, head_sha: sha, status: "completed", conclusion: process.env.INPUT_CONCLUSION }),
  });
  const body = await response.json();
  fs.appendFileSync(process.env.GITHUB_OUTPUT, "status=" + response.status + "\\n");
  if (!response.ok) {
    console.log("::error::" + response.status + " " + body.message);
    process.exit(1);
  }
  fs.appendFileSync(process.env.GITHUB_OUTPUT, "app=" + (body.app && body.app.slug) + "\\n");
})();
`;

function probeStep(id: string, message: string, extra = ""): string {
  return `      - id: ${id}
        uses: ./probe
        with:
          message: ${message}${extra}
`;
}

const CHECKOUT = `      - uses: actions/checkout@v4
        with:
          persist-credentials: false
`;

const WORKFLOWS: Record<string, string> = {
  // pull_request_target, filtered on the PR's base branch.
  "target.yml": `name: target
on:
  pull_request_target:
    branches: [main, release]
permissions:
  contents: read
jobs:
  judge:
    runs-on: ubuntu-latest
    steps:
${CHECKOUT}${probeStep("probe", "main-copy")}${probeStep("secret", "${{ secrets.REPO_SECRET || 'none' }}")}`,
  // pull_request, default activity types.
  "ci.yml": `name: CI
on:
  pull_request:
    branches: [main]
permissions:
  contents: read
  checks: write
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
${CHECKOUT}${probeStep("probe", "main-copy")}${probeStep("secret", "${{ secrets.REPO_SECRET || 'none' }}")}${probeStep("variable", "${{ vars.REPO_VAR || 'none' }}")}      - id: check
        continue-on-error: true
        uses: ./post-check
        with:
          token: \${{ github.token }}
          name: ci
          conclusion: success
`,
  // A job in an environment restricted to main, on every kind of event.
  "deploy.yml": `name: deploy
on:
  pull_request:
  pull_request_target:
  schedule:
    - cron: "0 3 * * *"
  workflow_run:
    workflows: [CI]
    types: [completed]
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: gate
    steps:
${CHECKOUT}${probeStep("env", "${{ secrets.ENV_SECRET || 'none' }}")}`,
  // workflow_run: matched by the triggering workflow's name, with a glob.
  "after-ci.yml": `name: after CI
on:
  workflow_run:
    workflows: ["C*"]
    branches: [feature, "edit-*", "fork-*"]
permissions:
  actions: read
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
${CHECKOUT}${probeStep("probe", "main-copy")}${probeStep("run", "${{ github.event.workflow_run.name }}/${{ github.event.workflow_run.conclusion }}")}${probeStep("secret", "${{ secrets.REPO_SECRET || 'none' }}")}`,
  // Expressions as GitHub evaluates them, on several events.
  "expr.yml": `name: expressions
on:
  schedule:
    - cron: "*/15 * * * *"
  pull_request_target:
    types: [opened, edited]
  workflow_dispatch:
    inputs:
      flag:
        description: a boolean
        type: boolean
        default: false
      text:
        description: a string
        required: false
        default: fallback
env:
  LEVEL: workflow
jobs:
  expr:
    runs-on: ubuntu-latest
    env:
      LEVEL: job
      JOB_ONLY: job-value
    steps:
${CHECKOUT}${probeStep("base", "${{ github.event.pull_request.base.ref || github.event.repository.default_branch }}")}${probeStep("ternary", "${{ github.event_name == 'schedule' && 'a' || 'b' }}")}${probeStep("inputs", "${{ inputs.flag }}/${{ inputs.text }}/${{ github.event.inputs.flag }}")}${probeStep("secret", "${{ secrets.REPO_SECRET }}")}${probeStep("token", "${{ secrets.GITHUB_TOKEN == github.token }}")}      - id: interpolated
        run: echo "title=\${{ github.event.pull_request.title }}"
      - id: through-env
        env:
          TITLE: \${{ github.event.pull_request.title }}
          LEVEL: step
        run: |
          echo "title=$TITLE" >> "$GITHUB_OUTPUT"
          echo "level=$LEVEL job-only=$JOB_ONLY" >> "$GITHUB_OUTPUT"
`,
  // needs, matrix from a job output, if/always, continue-on-error, working-directory.
  "matrix.yml": `name: matrix
on: workflow_dispatch
jobs:
  list:
    runs-on: ubuntu-latest
    outputs:
      list: \${{ steps.list.outputs.list }}
    steps:
      - id: list
        run: echo 'list=["a","b"]' >> "$GITHUB_OUTPUT"
  build:
    needs: list
    runs-on: ubuntu-latest
    strategy:
      matrix:
        v: \${{ fromJSON(needs.list.outputs.list) }}
    outputs:
      last: \${{ steps.echo.outputs.v }}
    steps:
${CHECKOUT}      - id: echo
        run: echo "v=\${{ matrix.v }}" >> "$GITHUB_OUTPUT"
      - id: broken
        continue-on-error: true
        run: exit 3
      - id: after-broken
        run: echo "outcome=\${{ steps.broken.outcome }} conclusion=\${{ steps.broken.conclusion }}" >> "$GITHUB_OUTPUT"
      - id: dir
        working-directory: sub
        run: echo "pwd=$(basename "$PWD")" >> "$GITHUB_OUTPUT"
  fails:
    needs: list
    runs-on: ubuntu-latest
    steps:
      - run: exit 1
      - id: skipped-after-failure
        run: echo never
      - id: on-failure
        if: failure()
        run: echo "ran=yes" >> "$GITHUB_OUTPUT"
  dependent:
    needs: fails
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  always:
    needs: fails
    if: always()
    runs-on: ubuntu-latest
    steps:
      - id: result
        run: echo "fails=\${{ needs.fails.result }}" >> "$GITHUB_OUTPUT"
  push-only:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    steps:
      - run: echo never
`,
  // GITHUB_TOKEN permissions: workflow default, job overrides.
  "perms.yml": `name: perms
on: workflow_dispatch
jobs:
  default:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  none:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - run: "true"
  readall:
    runs-on: ubuntu-latest
    permissions: read-all
    steps:
      - run: "true"
  checks:
    runs-on: ubuntu-latest
    permissions:
      checks: write
    steps:
      - run: "true"
`,
  // push filters.
  "push.yml": `name: push
on:
  push:
    branches: [main, "release/**"]
    paths: ["src/**", "!src/**/*.md"]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
`,
  "tags.yml": `name: tags
on:
  push:
    tags: ["v*"]
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
`,
  // pull_request closed and pull_request_review.
  "closed.yml": `name: closed
on:
  pull_request:
    types: [closed]
  pull_request_review:
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - run: echo "merged=\${{ github.event.pull_request.merged }}"
`,
  // Job outputs: one carries a secret (dropped by the runner), one a masked value.
  "outputs.yml": `name: outputs
on: workflow_dispatch
jobs:
  produce:
    runs-on: ubuntu-latest
    outputs:
      plain: \${{ steps.out.outputs.plain }}
      secret: \${{ steps.out.outputs.secret }}
      masked: \${{ steps.out.outputs.masked }}
    steps:
      - id: out
        env:
          SECRET: \${{ secrets.REPO_SECRET }}
        run: |
          echo "::add-mask::hidden-value"
          echo "plain=visible" >> "$GITHUB_OUTPUT"
          echo "secret=$SECRET" >> "$GITHUB_OUTPUT"
          echo "masked=hidden-value" >> "$GITHUB_OUTPUT"
          echo "FROM_ENV_FILE=set-by-step" >> "$GITHUB_ENV"
      - id: next
        run: echo "env=$FROM_ENV_FILE" >> "$GITHUB_OUTPUT"
  consume:
    needs: produce
    runs-on: ubuntu-latest
    steps:
      - id: read
        run: echo "got=\${{ needs.produce.outputs.plain }}/\${{ needs.produce.outputs.secret }}/\${{ needs.produce.outputs.masked }}" >> "$GITHUB_OUTPUT"
`,
  // A GitHub App token minted in an environment restricted to main (the gate's pattern).
  "gate.yml": `name: gate
on:
  pull_request_target:
permissions:
  contents: read
  checks: write
jobs:
  gate:
    runs-on: ubuntu-latest
    environment: gate
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.base.ref || github.event.repository.default_branch }}
          fetch-depth: 0
          persist-credentials: false
      - id: app
        uses: actions/create-github-app-token@v3
        with:
          client-id: \${{ vars.GATE_APP_CLIENT_ID }}
          private-key: \${{ secrets.GATE_APP_KEY }}
          permission-checks: write
      - uses: ./post-check
        with:
          token: \${{ steps.app.outputs.token }}
          name: pinline/gate
          conclusion: failure
`,
};

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let sim: GitHubSimulator;
let fixture: string;
let writer: Octokit;
let prCount = 0;
/** The gate's GitHub App (one per simulator: see the report on client ids), when available. */
let gateApp: { clientId: string; privateKey: string; installationId: number } | undefined;

interface AppContract {
  addApp?: (
    slug: string,
    options: { permissions: Record<string, string> },
  ) => { clientId: string; privateKey: string; installationId: number };
}

/** Settings used throughout: a repository secret and variable, the `gate` environment on main. */
const SETTINGS: RepositorySettings = {
  secrets: { REPO_SECRET: "repo-secret-value" },
  variables: { REPO_VAR: "repo-var-value" },
  environments: {
    gate: { secrets: { ENV_SECRET: "env-secret-value" }, deploymentBranches: ["main"] },
  },
};

function mainSha(): string {
  return resolveSha(sim.bareRepo, "refs/heads/main") ?? "";
}

async function openPull(
  branch: string,
  files: Record<string, string | null>,
  base = "main",
): Promise<number> {
  prCount += 1;
  await sim.commitFiles(branch, files, { author: "writer", message: `${branch}: change` });
  const { data } = await writer.pulls.create({
    owner: sim.owner,
    repo: sim.repo,
    title: `PR ${prCount} $(touch /tmp/pwned) \`id\``,
    head: branch,
    base,
  });
  return data.number;
}

function prEvent(
  name: "pull_request" | "pull_request_target",
  pull: number,
  action: "opened" | "synchronize" | "edited" = "opened",
): TriggerEvent {
  return { name, action, pull, sender: "writer" };
}

function only(runs: PlannedRun[], file: string): PlannedRun {
  const run = runs.find((candidate) => candidate.file === `.github/workflows/${file}`);
  if (!run)
    throw new Error(`${file} is not planned (planned: ${runs.map((r) => r.file).join(", ")})`);
  return run;
}

function step(result: WorkflowRunResult, id: string) {
  const found = result.jobs.flatMap((job) => job.steps).find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no step ${id}`);
  return found;
}

/** The same workflow with one text replaced (a PR's edit of it). */
function edited(file: string, from: string, to: string): string {
  const text = WORKFLOWS[file] ?? "";
  if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
  return text.replaceAll(from, to);
}

beforeAll(async () => {
  sim = await startGitHubSimulator();
  writer = new Octokit({ baseUrl: sim.url, auth: sim.addUser("writer"), log: quiet });
  fixture = mkdtempSync(join(tmpdir(), "workflow-runner-fixture-"));
  const files: Record<string, string> = {
    "marker.txt": "main\n",
    "conflict.txt": "base\n",
    "sub/.keep": "",
    "src/app.ts": "export {};\n",
    "probe/action.yml": PROBE_ACTION,
    "probe/main.js": PROBE_MAIN,
    "post-check/action.yml": POST_CHECK_ACTION,
    "post-check/main.js": POST_CHECK_MAIN,
  };
  for (const [name, text] of Object.entries(WORKFLOWS)) files[`.github/workflows/${name}`] = text;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(fixture, path)), { recursive: true });
    writeFileSync(join(fixture, path), text);
  }
  await sim.seed(fixture);
  const apps = sim as unknown as AppContract;
  if (typeof apps.addApp === "function") {
    gateApp = apps.addApp("pinline-gate", {
      permissions: { checks: "write", contents: "read", pull_requests: "read" },
    });
  }
  // A second long-lived branch, for pull requests against a non-default base.
  await sim.commitFiles("release", { "release.txt": "release\n" }, { message: "release branch" });
});

afterAll(async () => {
  cleanup();
  await sim?.close();
  if (fixture) rmSync(fixture, { recursive: true, force: true });
});

describe("which workflow file runs", () => {
  it("pull_request_target runs the default branch's copy even when the PR edits it", async () => {
    // Changelog 2025-11-07 (in effect 2025-12-08): "The pull_request_target event now always
    // uses the default branch for workflow source and reference"; "GITHUB_REF for
    // pull_request_target will resolve to the default branch, and GITHUB_SHA will point to the
    // latest commit on that branch."
    // https://github.blog/changelog/2025-11-07-actions-pull_request_target-and-environment-branch-protections-changes
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request_target
    const pull = await openPull("edit-target", {
      ".github/workflows/target.yml": edited("target.yml", "main-copy", "pr-copy"),
      "marker.txt": "pr\n",
    });
    const planned = only(
      plannedRuns(sim, prEvent("pull_request_target", pull), SETTINGS),
      "target.yml",
    );
    expect(planned).toMatchObject({
      sourceSha: mainSha(),
      githubSha: mainSha(),
      githubRef: "refs/heads/main",
      secretsAvailable: true,
      tokenReadOnly: false,
      baseRef: "main",
      headRef: "edit-target",
    });
    const run = await runWorkflow(sim, planned, SETTINGS);
    expect(run.conclusion).toBe("success");
    // The default branch's copy ran, and checkout without `ref` got the default branch too
    // ("any subsequent actions/checkout call that does not specify a ref").
    expect(step(run, "probe").outputs).toMatchObject({
      message: "main-copy",
      marker: "main",
      github_ref: "refs/heads/main",
      github_sha: mainSha(),
      github_event_name: "pull_request_target",
      github_api_url: sim.url,
      "event-action": "opened",
    });
    // GITHUB_TOKEN is never in the environment by default; an input default gives it.
    expect(step(run, "probe").outputs.github_token).toBe("");
    expect(step(run, "probe").outputs.token).toBe(run.jobs[0]?.token);
    expect(step(run, "secret").outputs.message).toBe("repo-secret-value");
  });

  it("pull_request_target takes the default branch's copy whatever the PR's base", async () => {
    // Changelog 2025-11-07: "The workflow file and checkout commit will always be taken from
    // the repository's default branch, regardless of the pull request's base branch."
    // The `branches` filter still matches the base (events page, pull_request_target).
    // https://github.blog/changelog/2025-11-07-actions-pull_request_target-and-environment-branch-protections-changes
    await sim.commitFiles("release", {
      ".github/workflows/target.yml": edited("target.yml", "main-copy", "release-copy"),
    });
    const pull = await openPull("to-release", { "feature.txt": "x\n" }, "release");
    const planned = only(plannedRuns(sim, prEvent("pull_request_target", pull)), "target.yml");
    expect(planned.sourceSha).toBe(mainSha());
    expect(planned.githubRef).toBe("refs/heads/main");
    expect((planned.payload.pull_request as { base: { ref: string } }).base.ref).toBe("release");
    const run = await runWorkflow(sim, planned, SETTINGS);
    expect(step(run, "probe").outputs.message).toBe("main-copy");
  });

  it("pull_request runs the PR's copy, from its merge commit", async () => {
    // Events page: pull_request GITHUB_SHA "Last merge commit on the GITHUB_REF branch",
    // GITHUB_REF "PR merge branch refs/pull/PULL_REQUEST_NUMBER/merge"; securely-using page:
    // it "runs the workflow file from the merge commit of the pull request".
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request
    // https://docs.github.com/en/actions/reference/security/securely-using-pull_request_target
    const pull = await openPull("edit-ci", {
      ".github/workflows/ci.yml": edited("ci.yml", "main-copy", "pr-copy"),
      "marker.txt": "pr\n",
    });
    const planned = only(plannedRuns(sim, prEvent("pull_request", pull), SETTINGS), "ci.yml");
    const merge = resolveSha(sim.bareRepo, `refs/pull/${pull}/merge`);
    expect(merge).toBeDefined();
    expect(planned).toMatchObject({
      sourceSha: merge,
      githubSha: merge,
      githubRef: `refs/pull/${pull}/merge`,
      secretsAvailable: true,
      tokenReadOnly: false,
    });
    const run = await runWorkflow(sim, planned, SETTINGS);
    expect(step(run, "probe").outputs).toMatchObject({
      message: "pr-copy",
      marker: "pr",
      github_ref: `refs/pull/${pull}/merge`,
      github_sha: merge,
    });
    // A same-repository PR: secrets and variables are passed (only forks are restricted).
    expect(step(run, "secret").outputs.message).toBe("repo-secret-value");
    expect(step(run, "variable").outputs.message).toBe("repo-var-value");
    expect(run.jobs[0]?.tokenPermissions).toMatchObject({ contents: "read", checks: "write" });
    // GITHUB_TOKEN is the github-actions App's installation token (checks are Apps-only).
    expect(step(run, "check").outputs).toEqual({ status: "201", app: "github-actions" });
    expect(run).toMatchObject({ headSha: sim.state.pulls.find((p) => p.number === pull)?.headSha });
    expect(run.headBranch).toBe("edit-ci");
  });

  it("pull_request does not run on a conflicting PR; pull_request_target still does", async () => {
    // Events page: "Workflows will not run on pull_request activity if the pull request has a
    // merge conflict." … "workflows with the pull_request_target event will run even if the
    // pull request has a merge conflict."
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request
    const pull = await openPull("conflicting", { "conflict.txt": "branch\n" });
    await sim.commitFiles("main", { "conflict.txt": "main moved\n" }, { message: "conflict" });
    expect(plannedRuns(sim, prEvent("pull_request", pull))).toEqual([]);
    expect(plannedRuns(sim, prEvent("pull_request_target", pull)).map((r) => r.file)).toContain(
      ".github/workflows/target.yml",
    );
  });

  it("activity types: pull_request and pull_request_target default to opened, synchronize, reopened", async () => {
    // Events page: "a workflow only runs when a pull_request_target event's activity type is
    // opened, synchronize, or reopened" (the same default for pull_request); `edited` runs only
    // workflows that list it.
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request_target
    const pull = await openPull("types", { "types.txt": "x\n" });
    const edited = plannedRuns(sim, {
      ...prEvent("pull_request_target", pull, "edited"),
      changes: { base: { ref: { from: "release" }, sha: { from: "0".repeat(40) } } },
    } as TriggerEvent).map((r) => r.file);
    expect(edited).toContain(".github/workflows/expr.yml");
    expect(edited).not.toContain(".github/workflows/target.yml");
    const synchronize = plannedRuns(sim, prEvent("pull_request", pull, "synchronize"));
    expect(synchronize.map((r) => r.file)).toContain(".github/workflows/ci.yml");
    expect(only(synchronize, "ci.yml").payload).toMatchObject({ action: "synchronize" });
  });

  it("pull_request closed (merged) runs on the base branch at the merge commit; reviews use refs/pull/N/merge", async () => {
    // Events page, pull_request: a merged PR's GITHUB_REF is "the fully qualified ref of the
    // branch it was merged into"; pull_request_review: GITHUB_SHA "Last merge commit on the
    // GITHUB_REF branch", GITHUB_REF refs/pull/N/merge.
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request_review
    const pull = await openPull("to-merge", { "merge.txt": "x\n" });
    const reviewer = new Octokit({ baseUrl: sim.url, auth: sim.addUser("reviewer"), log: quiet });
    const head = sim.state.pulls.find((p) => p.number === pull)?.headSha ?? "";
    await reviewer.pulls.createReview({
      owner: sim.owner,
      repo: sim.repo,
      pull_number: pull,
      event: "APPROVE",
      body: "ok",
    });
    const review = only(
      plannedRuns(sim, {
        name: "pull_request_review",
        action: "submitted",
        pull,
        sender: "reviewer",
      }),
      "closed.yml",
    );
    expect(review).toMatchObject({
      githubRef: `refs/pull/${pull}/merge`,
      githubSha: resolveSha(sim.bareRepo, `refs/pull/${pull}/merge`),
      payload: expect.objectContaining({
        action: "submitted",
        review: expect.objectContaining({ state: "approved", commit_id: head }),
      }),
    });
    await writer.pulls.merge({
      owner: sim.owner,
      repo: sim.repo,
      pull_number: pull,
      merge_method: "squash",
    });
    const merged = sim.state.pulls.find((p) => p.number === pull);
    const closed = only(
      plannedRuns(sim, { name: "pull_request", action: "closed", pull, sender: "writer" }),
      "closed.yml",
    );
    expect(closed).toMatchObject({
      githubRef: "refs/heads/main",
      githubSha: merged?.mergeCommitSha,
      sourceSha: merged?.mergeCommitSha,
    });
    expect(closed.payload.pull_request).toMatchObject({ merged: true, state: "closed" });
  });

  it("workflow_run runs the default branch's copy, matched by the workflow's name", async () => {
    // Events page, workflow_run: "This event will only trigger a workflow run if the workflow
    // file exists on the default branch"; GITHUB_SHA "Last commit on default branch"; it "is
    // able to access secrets and write tokens, even if the previous workflow was not".
    // Workflow syntax: `workflows` filters match workflow names and accept glob patterns.
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#workflow_run
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
    const pull = await openPull("edit-after-ci", {
      ".github/workflows/after-ci.yml": edited("after-ci.yml", "main-copy", "pr-copy"),
      ".github/workflows/pr-only.yml": edited("after-ci.yml", "after CI", "pr only"),
    });
    const ci = await runWorkflow(
      sim,
      only(plannedRuns(sim, prEvent("pull_request", pull), SETTINGS), "ci.yml"),
      SETTINGS,
    );
    expect(ci.workflowName).toBe("CI");
    const runs = plannedRuns(sim, { name: "workflow_run", action: "completed", run: ci }, SETTINGS);
    // after-ci.yml (workflows: ["C*"]) and deploy.yml (workflows: [CI]); pr-only.yml only
    // exists on the PR branch.
    expect(runs.map((r) => r.file).sort()).toEqual([
      ".github/workflows/after-ci.yml",
      ".github/workflows/deploy.yml",
    ]);
    const planned = only(runs, "after-ci.yml");
    expect(planned).toMatchObject({
      sourceSha: mainSha(),
      githubRef: "refs/heads/main",
      secretsAvailable: true,
      tokenReadOnly: false,
    });
    expect(planned.payload.workflow_run).toMatchObject({
      name: "CI",
      head_branch: "edit-after-ci",
      conclusion: "success",
      pull_requests: [expect.objectContaining({ number: pull })],
    });
    const run = await runWorkflow(sim, planned, SETTINGS);
    expect(step(run, "probe").outputs.message).toBe("main-copy");
    expect(step(run, "run").outputs.message).toBe("CI/success");
    expect(step(run, "secret").outputs.message).toBe("repo-secret-value");
  });

  it("workflow_run: the branches filter is the triggering run's head branch; other names do not match", async () => {
    // Workflow syntax / events page: `branches` restricts "what branches the triggering
    // workflow must run on" (community: ossf/scorecard#3861 — a PR head named like the branch
    // matches too).
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#workflow_run
    const run = {
      id: 1,
      workflowName: "CI",
      eventName: "pull_request",
      headSha: mainSha(),
      headBranch: "other",
      conclusion: "failure" as const,
    };
    const files = plannedRuns(sim, { name: "workflow_run", action: "completed", run }).map(
      (r) => r.file,
    );
    expect(files).toEqual([".github/workflows/deploy.yml"]);
    const unknown = plannedRuns(sim, {
      name: "workflow_run",
      action: "completed",
      run: { ...run, workflowName: "Build", headBranch: "feature" },
    });
    expect(unknown).toEqual([]);
    // deploy.yml lists types: [completed]; after-ci.yml lists none (every type).
    const requested = plannedRuns(sim, {
      name: "workflow_run",
      action: "requested",
      run: { ...run, headBranch: "feature" },
    }).map((r) => r.file);
    expect(requested).toEqual([".github/workflows/after-ci.yml"]);
  });

  it("schedule runs the default branch's latest commit, for the matching cron", async () => {
    // Events page, schedule: GITHUB_SHA "Last commit on default branch", GITHUB_REF "Default
    // branch"; "Scheduled workflows will only run on the default branch."
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#schedule
    const runs = plannedRuns(sim, { name: "schedule", cron: "*/15 * * * *" });
    expect(runs.map((r) => r.file)).toEqual([".github/workflows/expr.yml"]);
    expect(runs[0]).toMatchObject({
      sourceSha: mainSha(),
      githubSha: mainSha(),
      githubRef: "refs/heads/main",
      payload: expect.objectContaining({ schedule: "*/15 * * * *" }),
    });
  });

  it("push runs the pushed commit's copy, through branches, tags and paths filters", async () => {
    // Workflow syntax: on.push.branches/tags/paths, `!` negates, `**` crosses `/`; with only
    // `tags`, branch pushes do not run the workflow.
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
    const before = mainSha();
    const docs = await sim.commitFiles("main", { "src/readme.md": "docs\n" });
    const push = (ref: string, from: string, to: string): TriggerEvent => ({
      name: "push",
      ref,
      before: from,
      after: to,
      sender: "writer",
    });
    expect(plannedRuns(sim, push("refs/heads/main", before, docs)).map((r) => r.file)).toEqual([]);
    const code = await sim.commitFiles("main", { "src/app.ts": "export const a = 1;\n" });
    const runs = plannedRuns(sim, push("refs/heads/main", docs, code));
    expect(runs.map((r) => r.file)).toEqual([".github/workflows/push.yml"]);
    expect(runs[0]).toMatchObject({ sourceSha: code, githubRef: "refs/heads/main" });
    const payload = only(runs, "push.yml").payload as { commits: { id: string }[] };
    expect(payload.commits.map((c) => c.id)).toEqual([code]);
    expect(
      plannedRuns(sim, push("refs/tags/v1.0.0", "0".repeat(40), code)).map((r) => r.file),
    ).toEqual([".github/workflows/tags.yml"]);
    expect(plannedRuns(sim, push("refs/heads/feature", docs, code))).toEqual([]);
  });

  it("workflow_dispatch runs the chosen ref's copy, with typed inputs", async () => {
    // Events page, workflow_dispatch: GITHUB_SHA "Last commit on the GITHUB_REF branch or tag";
    // the inputs context keeps booleans (github.event.inputs has strings).
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#workflow_dispatch
    const branch = await sim.commitFiles("dispatch-branch", {
      ".github/workflows/expr.yml": edited("expr.yml", "fallback", "branch-default"),
    });
    const runs = plannedRuns(sim, {
      name: "workflow_dispatch",
      ref: "dispatch-branch",
      inputs: { flag: "true" },
      sender: "writer",
      workflow: "expr.yml",
    });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ sourceSha: branch, githubRef: "refs/heads/dispatch-branch" });
    const run = await runWorkflow(sim, runs[0] as PlannedRun, SETTINGS);
    expect(step(run, "inputs").outputs.message).toBe("true/branch-default/true");
    expect(() =>
      plannedRuns(sim, {
        name: "workflow_dispatch",
        ref: "main",
        inputs: { nope: "x" },
        sender: "writer",
        workflow: "expr.yml",
      }),
    ).toThrow(/Unexpected inputs/);
  });
});

describe("secrets, tokens and environments", () => {
  it("an environment restricted to main refuses a pull_request job, with GitHub's message", async () => {
    // Changelog 2025-11-07: environment rules for pull_request are evaluated against
    // refs/pull/<number>/merge; deployments page: "The deployment branch or tag rule is matched
    // against the GITHUB_REF of the workflow run."
    // https://github.blog/changelog/2025-11-07-actions-pull_request_target-and-environment-branch-protections-changes
    // https://docs.github.com/en/actions/reference/workflows-and-actions/deployments-and-environments
    const pull = await openPull("env-pr", { "env.txt": "x\n" });
    const planned = only(plannedRuns(sim, prEvent("pull_request", pull), SETTINGS), "deploy.yml");
    const run = await runWorkflow(sim, planned, SETTINGS);
    expect(run.conclusion).toBe("failure");
    expect(run.jobs[0]).toMatchObject({
      environment: "gate",
      conclusion: "failure",
      environmentRefused: `Branch "refs/pull/${pull}/merge" is not allowed to deploy to gate due to environment protection rules.`,
      steps: [],
      secretsSeen: [],
    });
    // "Adding another branch rule for refs/pull/*/merge would also allow workflows triggered by
    // pull_request events to deploy".
    const widened: RepositorySettings = {
      ...SETTINGS,
      environments: {
        gate: { ...SETTINGS.environments?.gate, deploymentBranches: ["main", "refs/pull/*/merge"] },
      },
    };
    const allowed = await runWorkflow(sim, planned, widened);
    expect(allowed.conclusion).toBe("success");
    expect(step(allowed, "env").outputs.message).toBe("env-secret-value");
  });

  it("the same environment accepts pull_request_target, schedule and workflow_run jobs", async () => {
    // Changelog 2025-11-07: pull_request_target is evaluated against the default branch;
    // schedule and workflow_run run on the default branch (events page).
    // https://github.blog/changelog/2025-11-07-actions-pull_request_target-and-environment-branch-protections-changes
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#workflow_run
    const pull = await openPull("env-prt", { "env2.txt": "x\n" });
    const events: TriggerEvent[] = [
      prEvent("pull_request_target", pull),
      { name: "schedule", cron: "0 3 * * *" },
      {
        name: "workflow_run",
        action: "completed",
        run: {
          id: 9,
          workflowName: "CI",
          eventName: "pull_request",
          headSha: mainSha(),
          headBranch: "env-prt",
          conclusion: "success",
        },
      },
    ];
    for (const event of events) {
      const planned = only(plannedRuns(sim, event, SETTINGS), "deploy.yml");
      const run = await runWorkflow(sim, planned, SETTINGS);
      expect(run.jobs[0], event.name).toMatchObject({
        conclusion: "success",
        environment: "gate",
        secretsSeen: ["ENV_SECRET", "REPO_SECRET"],
      });
      expect(run.jobs[0]?.environmentRefused).toBeUndefined();
      expect(step(run, "env").outputs.message).toBe("env-secret-value");
    }
  });

  it("a fork PR's pull_request run gets no secrets and a read-only token", async (context) => {
    // Events page (forked-secrets): "With the exception of GITHUB_TOKEN, secrets are not passed
    // to the runner when a workflow is triggered from a forked repository." "The GITHUB_TOKEN has
    // read-only permissions in pull requests from forked repositories."
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request
    const forks = sim as unknown as {
      addFork?: (owner: string) => unknown;
      commitFiles: (
        branch: string,
        files: Record<string, string | null>,
        options: { fork?: string; author?: string },
      ) => Promise<string>;
    };
    if (typeof forks.addFork !== "function") {
      context.skip("the simulator has no sim.addFork yet");
      return;
    }
    const outsider = new Octokit({
      baseUrl: sim.url,
      auth: sim.addUser("outsider", { permission: "read" }),
      log: quiet,
    });
    forks.addFork("outsider");
    await forks.commitFiles(
      "fork-change",
      {
        ".github/workflows/ci.yml": edited("ci.yml", "main-copy", "fork-copy"),
        "marker.txt": "fork\n",
      },
      { fork: "outsider", author: "outsider" },
    );
    const { data } = await outsider.pulls.create({
      owner: sim.owner,
      repo: sim.repo,
      title: "from a fork",
      head: "outsider:fork-change",
      base: "main",
    });
    const event: TriggerEvent = {
      name: "pull_request",
      action: "opened",
      pull: data.number,
      sender: "outsider",
    };
    const planned = only(plannedRuns(sim, event, SETTINGS), "ci.yml");
    expect(planned).toMatchObject({ secretsAvailable: false, tokenReadOnly: true });
    expect(planned.payload.pull_request).toMatchObject({
      head: { repo: { fork: true, full_name: `outsider/${sim.repo}` } },
    });
    const run = await runWorkflow(sim, planned, SETTINGS);
    expect(step(run, "probe").outputs.message).toBe("fork-copy");
    expect(step(run, "secret").outputs.message).toBe("none");
    // Variables are withheld as well (settings page: "They are not passed to workflows that
    // are triggered by a pull request from a fork.").
    expect(step(run, "variable").outputs.message).toBe("none");
    expect(run.jobs[0]?.secretsSeen).toEqual([]);
    expect(run.jobs[0]?.tokenPermissions).toMatchObject({ contents: "read", checks: "read" });
    expect(run.pullRequests).toEqual([]);
    // The token itself cannot write: the job's check run is refused (checks: write asked).
    expect(step(run, "check")).toMatchObject({ outcome: "failure", outputs: { status: "403" } });
    // pull_request_target for the same fork PR: the default branch's copy, with secrets.
    const target = only(plannedRuns(sim, { ...event, name: "pull_request_target" }), "target.yml");
    expect(target).toMatchObject({ secretsAvailable: true, tokenReadOnly: false });
    // actions/checkout v7+ refuses a fork PR's head on pull_request_target and on workflow_run
    // after it, unless allow-unsafe-pr-checkout (securely-using page; the action's own
    // message, src/unsafe-pr-checkout-helper.ts at v7.0.1 = 3d3c42e5).
    // https://docs.github.com/en/actions/reference/security/securely-using-pull_request_target
    await sim.commitFiles("main", {
      ".github/workflows/unsafe.yml": `name: unsafe
on:
  pull_request_target:
  workflow_run:
    workflows: [CI]
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - id: head
        uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          ref: \${{ github.event.pull_request.head.sha || github.event.workflow_run.head_sha }}
      - id: allowed
        if: always()
        uses: actions/checkout@v7
        with:
          ref: \${{ github.event.pull_request.head.sha || github.event.workflow_run.head_sha }}
          allow-unsafe-pr-checkout: true
          path: allowed
      - id: old
        if: always()
        uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.head.sha || github.event.workflow_run.head_sha }}
          path: old
`,
    });
    const refusal =
      /^Refusing to check out fork pull request code from a '(pull_request_target|workflow_run)' workflow\./;
    const unsafeRuns = [
      only(plannedRuns(sim, { ...event, name: "pull_request_target" }), "unsafe.yml"),
      only(plannedRuns(sim, { name: "workflow_run", action: "completed", run }), "unsafe.yml"),
    ];
    for (const unsafePlan of unsafeRuns) {
      const unsafe = await runWorkflow(sim, unsafePlan, SETTINGS);
      expect(step(unsafe, "head"), unsafePlan.eventName).toMatchObject({
        conclusion: "failure",
        error: expect.stringMatching(refusal),
      });
      expect(step(unsafe, "allowed").outputs.commit).toBe(planned.runHeadSha);
      expect(step(unsafe, "old").outputs.commit).toBe(planned.runHeadSha);
    }
  });

  it("permissions: workflow/job levels, {} none, read-all, absent → the repository default", async () => {
    // GITHUB_TOKEN docs: permissions not listed are none; the default is the repository's
    // setting (restricted: contents and packages read; permissive: read/write). Events page
    // (pull_request_target): write "unless the permissions key is explicitly specified".
    // https://docs.github.com/en/actions/concepts/security/github_token
    const planned = only(
      plannedRuns(sim, { name: "workflow_dispatch", ref: "main", sender: "writer" }),
      "perms.yml",
    );
    const jobs = (await runWorkflow(sim, planned, SETTINGS)).jobs;
    const perms = (id: string) => jobs.find((job) => job.id === id)?.tokenPermissions;
    expect(perms("default")).toMatchObject({ contents: "read", packages: "read", checks: "none" });
    expect(perms("none")).toMatchObject({ contents: "none", checks: "none", metadata: "read" });
    expect(perms("readall")).toMatchObject({ contents: "read", checks: "read", issues: "read" });
    expect(perms("checks")).toMatchObject({ checks: "write", contents: "none" });
    const permissive = (await runWorkflow(sim, planned, { defaultTokenPermissions: "write" })).jobs;
    expect(permissive.find((job) => job.id === "default")?.tokenPermissions).toMatchObject({
      contents: "write",
      checks: "write",
      "id-token": "none",
    });
  });

  it("GITHUB_TOKEN expires when its job ends", async () => {
    // GITHUB_TOKEN docs: "Before each job begins, GitHub fetches an installation access token
    // for the job. The token expires when the job is finished."
    // https://docs.github.com/en/actions/concepts/security/github_token
    const planned = only(
      plannedRuns(sim, { name: "workflow_dispatch", ref: "main", sender: "writer" }),
      "perms.yml",
    );
    const run = await runWorkflow(sim, planned, SETTINGS);
    const token = run.jobs.find((job) => job.id === "readall")?.token;
    expect(token).toMatch(/^ghs_/);
    const response = await fetch(`${sim.url}/repos/${sim.owner}/${sim.repo}`, {
      headers: { authorization: `token ${token}` },
    });
    expect(response.status).toBe(401);
  });

  it("job outputs that contain a secret or a masked value do not reach other jobs", async () => {
    // Workflow syntax, jobs.<job_id>.outputs: "Outputs containing secrets are redacted on the
    // runner and not sent to GitHub Actions." Workflow commands: add-mask, GITHUB_ENV.
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
    const planned = only(
      plannedRuns(sim, { name: "workflow_dispatch", ref: "main", sender: "writer" }),
      "outputs.yml",
    );
    const run = await runWorkflow(sim, planned, SETTINGS);
    const produce = run.jobs.find((job) => job.id === "produce");
    expect(produce?.outputs).toEqual({ plain: "visible" });
    expect(step(run, "next").outputs.env).toBe("set-by-step");
    expect(step(run, "read").outputs.got).toBe("visible//");
  });

  it("Dependabot pull requests are treated as though they come from a fork", async () => {
    // Events page: "Workflows triggered by Dependabot pull requests are treated as though they
    // are from a forked repository, and are also subject to these restrictions."
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request
    const dependabot = new Octokit({
      baseUrl: sim.url,
      auth: sim.addUser("dependabot[bot]", { type: "Bot" }),
      log: quiet,
    });
    await sim.commitFiles("dependabot/npm", { "deps.txt": "x\n" }, { author: "dependabot[bot]" });
    const { data } = await dependabot.pulls.create({
      owner: sim.owner,
      repo: sim.repo,
      title: "Bump x",
      head: "dependabot/npm",
      base: "main",
    });
    const planned = only(
      plannedRuns(sim, {
        name: "pull_request",
        action: "opened",
        pull: data.number,
        sender: "dependabot[bot]",
      }),
      "ci.yml",
    );
    expect(planned).toMatchObject({ secretsAvailable: false, tokenReadOnly: true });
  });

  it("create-github-app-token mints a token only when its secret is there", async (context) => {
    // actions/create-github-app-token (research point 11): JWT from private-key and client-id,
    // GET /repos/{owner}/{repo}/installation, POST /app/installations/{id}/access_tokens with
    // the permission-* inputs; outputs token, installation-id, app-slug. Without a private key
    // @octokit/auth-app throws "privateKey option is required".
    // https://github.com/actions/create-github-app-token
    const pull = await openPull("app-pr", { "app.txt": "x\n" });
    const planned = only(plannedRuns(sim, prEvent("pull_request_target", pull)), "gate.yml");
    const missing = await runWorkflow(sim, planned, {
      ...SETTINGS,
      variables: { GATE_APP_CLIENT_ID: "Iv1.none" },
    });
    expect(step(missing, "app")).toMatchObject({
      conclusion: "failure",
      error: APP_TOKEN_ERRORS.missingPrivateKey,
      outputs: {},
    });
    const noClient = await runWorkflow(sim, planned, SETTINGS);
    expect(step(noClient, "app").error).toBe(APP_TOKEN_ERRORS.missingClientId);
    const app = gateApp;
    if (!app) {
      context.skip("the simulator has no sim.addApp yet");
      return;
    }
    const settings: RepositorySettings = {
      ...SETTINGS,
      variables: { GATE_APP_CLIENT_ID: app.clientId },
      environments: {
        gate: { secrets: { GATE_APP_KEY: app.privateKey }, deploymentBranches: ["main"] },
      },
    };
    const run = await runWorkflow(sim, planned, settings);
    expect(step(run, "app")).toMatchObject({
      conclusion: "success",
      outputs: {
        token: expect.stringMatching(/.+/),
        "installation-id": String(app.installationId),
        "app-slug": "pinline-gate",
      },
    });
    const head = sim.state.pulls.find((p) => p.number === pull)?.headSha;
    const checks = sim.state.checkRuns.filter(
      (c) => c.headSha === head && c.name === "pinline/gate",
    );
    expect(checks.map((c) => c.conclusion)).toEqual(["failure"]);
  });

  it("a writer's PR that edits gate.yml cannot post a passing gate check", async (context) => {
    // The attack: the PR rewrites gate.yml to post "success", and adds a pull_request trigger
    // so its own copy runs. pull_request_target runs main's copy (changelog 2025-11-07); the
    // PR's copy runs on pull_request but the `gate` environment (main only) refuses
    // refs/pull/N/merge, so the App key never reaches it.
    // https://github.blog/changelog/2025-11-07-actions-pull_request_target-and-environment-branch-protections-changes
    // https://docs.github.com/en/actions/reference/workflows-and-actions/deployments-and-environments
    const app = gateApp;
    if (!app) {
      context.skip("the simulator has no sim.addApp yet");
      return;
    }
    const settings: RepositorySettings = {
      ...SETTINGS,
      variables: { GATE_APP_CLIENT_ID: app.clientId },
      environments: {
        gate: { secrets: { GATE_APP_KEY: app.privateKey }, deploymentBranches: ["main"] },
      },
    };
    const attack = edited("gate.yml", "conclusion: failure", "conclusion: success").replace(
      "on:\n  pull_request_target:\n",
      "on:\n  pull_request_target:\n  pull_request:\n",
    );
    const pull = await openPull("attack", { ".github/workflows/gate.yml": attack });
    const runs: WorkflowRunResult[] = [];
    for (const name of ["pull_request_target", "pull_request"] as const) {
      for (const planned of plannedRuns(sim, prEvent(name, pull), settings)) {
        if (planned.file === ".github/workflows/gate.yml")
          runs.push(await runWorkflow(sim, planned, settings));
      }
    }
    expect(runs.map((r) => `${r.eventName}:${r.conclusion}`)).toEqual([
      "pull_request_target:success",
      "pull_request:failure",
    ]);
    expect(runs[1]?.jobs[0]?.environmentRefused).toMatch(/is not allowed to deploy to gate/);
    const head = sim.state.pulls.find((p) => p.number === pull)?.headSha;
    const gateChecks = sim.state.checkRuns.filter(
      (c) => c.headSha === head && c.name === "pinline/gate",
    );
    expect(gateChecks.map((c) => c.conclusion)).toEqual(["failure"]);
  });
});

describe("expressions and steps", () => {
  it("evaluates expressions as GitHub does, on each event", async () => {
    // Expressions (`||`/`&&` return operands, contexts github/secrets/steps/inputs):
    // https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
    // Contexts per event: events page, e.g. schedule has no pull_request in github.event.
    // https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows
    const schedule = await runWorkflow(
      sim,
      only(plannedRuns(sim, { name: "schedule", cron: "*/15 * * * *" }), "expr.yml"),
      SETTINGS,
    );
    expect(step(schedule, "base").outputs.message).toBe("main");
    expect(step(schedule, "ternary").outputs.message).toBe("a");
    expect(step(schedule, "secret").outputs.message).toBe("repo-secret-value");
    expect(step(schedule, "token").outputs.message).toBe("true");
    const pull = await openPull("expr-pr", { "expr.txt": "x\n" }, "release");
    const prt = await runWorkflow(
      sim,
      only(plannedRuns(sim, prEvent("pull_request_target", pull)), "expr.yml"),
      SETTINGS,
    );
    expect(step(prt, "base").outputs.message).toBe("release");
    expect(step(prt, "ternary").outputs.message).toBe("b");
    // env at workflow, job and step level: the innermost wins.
    expect(step(prt, "through-env").outputs.level).toBe("step job-only=job-value");
  });

  it("keeps the evaluated script, so a test can show event text never reaches a shell", async () => {
    // Security hardening: an expression in `run:` is substituted into the script before the
    // shell sees it; through `env:` it stays data. Securely-using page / Security Lab part 2.
    // https://securitylab.github.com/resources/github-actions-untrusted-input/
    const pull = await openPull("inject", { "inject.txt": "x\n" });
    const run = await runWorkflow(
      sim,
      only(plannedRuns(sim, prEvent("pull_request_target", pull, "edited")), "expr.yml"),
      SETTINGS,
    );
    const title = (run.jobs[0]?.steps ?? []).find((s) => s.id === "interpolated");
    expect(title?.run).toContain("$(touch /tmp/pwned)");
    const safe = step(run, "through-env");
    expect(safe.run).not.toContain("pwned");
    expect(safe.outputs.title).toMatch(/^PR \d+ \$\(touch \/tmp\/pwned\) `id`$/);
  });

  it("runs jobs in needs order: matrix from fromJSON(needs…), if, failure(), always(), continue-on-error", async () => {
    // Workflow syntax: jobs.<id>.needs, if, strategy.matrix, continue-on-error, outcome vs
    // conclusion, working-directory; a job whose need failed is skipped unless if: always().
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
    const planned = only(
      plannedRuns(sim, { name: "workflow_dispatch", ref: "main", sender: "writer" }),
      "matrix.yml",
    );
    const run = await runWorkflow(sim, planned, SETTINGS);
    const byId = (id: string) => run.jobs.filter((job) => job.id === id);
    expect(byId("build").map((job) => [job.name, job.conclusion])).toEqual([
      ["build (a)", "success"],
      ["build (b)", "success"],
    ]);
    const first = byId("build")[0];
    expect(first?.steps.map((s) => [s.id, s.outcome, s.conclusion])).toEqual([
      [undefined, "success", "success"],
      ["echo", "success", "success"],
      ["broken", "failure", "success"],
      ["after-broken", "success", "success"],
      ["dir", "success", "success"],
    ]);
    expect(first?.steps[3]?.outputs.outcome).toBe("failure conclusion=success");
    expect(first?.steps[4]?.outputs.pwd).toBe("sub");
    expect(byId("fails")[0]?.steps.map((s) => [s.id, s.conclusion])).toEqual([
      [undefined, "failure"],
      ["skipped-after-failure", "skipped"],
      ["on-failure", "success"],
    ]);
    expect(byId("dependent")[0]?.conclusion).toBe("skipped");
    expect(byId("always")[0]?.steps[0]?.outputs.fails).toBe("failure");
    expect(byId("push-only")[0]?.conclusion).toBe("skipped");
    expect(run.conclusion).toBe("failure");
    expect(
      expandMatrix({ os: ["a", "b"], v: [1], include: [{ os: "a", x: 1 }, { os: "c" }] }),
    ).toEqual([{ os: "a", v: 1, x: 1 }, { os: "b", v: 1 }, { os: "c" }]);
  });

  it("checkout: with.ref, fetch-depth 0 (every branch as origin/*) and depth 1 (shallow)", async () => {
    // actions/checkout: an empty ref checks out github.sha; fetch-depth 0 "fetch all history for
    // all branches and tags" (research point 1: the gate checks out the base with full history).
    // https://docs.github.com/en/actions/reference/security/securely-using-pull_request_target
    const pull = await openPull("checkout-pr", { "checkout.txt": "x\n" }, "release");
    const text = `name: checkout
on: pull_request_target
jobs:
  look:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.base.ref }}
          fetch-depth: 0
          path: full
      - uses: actions/checkout@v4
        with:
          path: shallow
      - id: look
        run: |
          echo "branch=$(git -C full rev-parse --abbrev-ref HEAD)" >> "$GITHUB_OUTPUT"
          echo "remotes=$(git -C full branch -r | tr -d ' ' | sort | tr '\\n' ',')" >> "$GITHUB_OUTPUT"
          echo "shallow=$(git -C shallow rev-parse --is-shallow-repository)" >> "$GITHUB_OUTPUT"
          echo "head=$(git -C shallow rev-parse HEAD)" >> "$GITHUB_OUTPUT"
`;
    await sim.commitFiles("main", { ".github/workflows/checkout.yml": text });
    const planned = only(plannedRuns(sim, prEvent("pull_request_target", pull)), "checkout.yml");
    const run = await runWorkflow(sim, planned, SETTINGS);
    const look = step(run, "look").outputs;
    expect(look.branch).toBe("release");
    expect(look.remotes).toContain("origin/main,");
    expect(look.remotes).toContain("origin/release,");
    expect(look.shallow).toBe("true");
    expect(look.head).toBe(mainSha());
  });

  it("remote actions run from settings.remoteActions; environment {name}; defaults.run", async () => {
    // Workflow syntax: jobs.<id>.steps[*].uses `{owner}/{repo}/{path}@{ref}`, environment as
    // a name or {name, url}, defaults.run.working-directory. Deployment rules match GITHUB_REF
    // (for workflow_dispatch, the chosen branch).
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
    // https://docs.github.com/en/actions/reference/workflows-and-actions/deployments-and-environments
    const text = `name: remote
on: workflow_dispatch
defaults:
  run:
    working-directory: sub
jobs:
  use:
    runs-on: ubuntu-latest
    environment:
      name: gate
      url: https://example.com
    steps:
      - uses: actions/checkout@v4
      - id: remote
        uses: acme/tools/probe@v1
        with:
          message: \${{ secrets.ENV_SECRET }}
      - id: pwd
        run: echo "dir=$(basename "$PWD")" >> "$GITHUB_OUTPUT"
`;
    await sim.commitFiles("main", { ".github/workflows/remote.yml": text });
    await sim.commitFiles("elsewhere", { "elsewhere.txt": "x\n" });
    const settings: RepositorySettings = { ...SETTINGS, remoteActions: { "acme/tools": fixture } };
    const dispatch = (ref: string) =>
      only(
        plannedRuns(sim, {
          name: "workflow_dispatch",
          ref,
          sender: "writer",
          workflow: "remote.yml",
        }),
        "remote.yml",
      );
    const run = await runWorkflow(sim, dispatch("main"), settings);
    expect(run.jobs[0]).toMatchObject({ environment: "gate", conclusion: "success" });
    expect(step(run, "remote").outputs.message).toBe("env-secret-value");
    expect(step(run, "pwd").outputs.dir).toBe("sub");
    const refused = await runWorkflow(sim, dispatch("elsewhere"), settings);
    expect(refused.jobs[0]?.environmentRefused).toBe(
      'Branch "elsewhere" is not allowed to deploy to gate due to environment protection rules.',
    );
    const unmapped = await runWorkflow(sim, dispatch("main"), SETTINGS);
    expect(step(unmapped, "remote").error).toBe("not emulated: acme/tools/probe@v1");
  });

  it("unknown actions fail as not emulated; setup-node and friends are skipped with a note", async () => {
    // The runner resolves every `uses:`; here only the emulated ones exist (see SKIPPED_ACTIONS).
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
    const text = `name: unknown
on: workflow_dispatch
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v4
        with: { node-version: 24 }
      - id: script
        uses: actions/github-script@v7
      - id: local
        if: always()
        uses: ./missing
`;
    await sim.commitFiles("main", { ".github/workflows/unknown.yml": text });
    const planned = only(
      plannedRuns(sim, {
        name: "workflow_dispatch",
        ref: "main",
        sender: "writer",
        workflow: "unknown.yml",
      }),
      "unknown.yml",
    );
    const run = await runWorkflow(sim, planned, SETTINGS);
    const steps = run.jobs[0]?.steps ?? [];
    expect(steps[0]).toMatchObject({
      conclusion: "success",
      note: expect.stringContaining("skipped"),
    });
    expect(steps[1]).toMatchObject({
      conclusion: "failure",
      error: "not emulated: actions/github-script@v7",
    });
    expect(steps[2]?.error).toMatch(/Can't find 'action.yml'/);
  });
});

describe("validateWorkflowFile", () => {
  it("reports what GitHub's parser reports for a broken workflow", () => {
    // GitHub's own schema and converters (@actions/workflow-parser, actions/languageservices);
    // workflow syntax: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
    const broken = `name: broken
on:
  push:
    branchez: [main]
  schedule:
    - cron: "every day"
jobs:
  a:
    needs: b
    runs-on: ubuntu-latest
    steps:
      - run: echo \${{ github.sha( }}
`;
    const errors = validateWorkflowFile(broken, ".github/workflows/broken.yml");
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining("Unexpected value 'branchez'"),
        expect.stringContaining("Invalid cron expression"),
        expect.stringContaining("at least one job with no dependencies"),
        expect.stringMatching(/Unexpected symbol/),
      ]),
    );
    for (const [name, text] of Object.entries(WORKFLOWS)) {
      expect(validateWorkflowFile(text, `.github/workflows/${name}`), name).toEqual([]);
    }
  });
});
