// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are plain text here
/**
 * The shipped workflows follow the trusted model (DESIGN §6), as a lint over every file in
 * .github/workflows:
 * - each passes GitHub's own workflow parser and declares explicit, minimal permissions;
 * - a workflow that runs a pull request's copy of itself (pull_request, pull_request_review,
 *   pull_request_review_comment) is unprivileged: no write permission, no secret, no environment;
 * - privileged workflows run only from default-branch contexts and never check out PR code;
 * - secrets are reachable only from jobs in an environment (whose deployment branch policy
 *   admits only the default branch, README): a repository secret is readable from any branch;
 * - the gate's App key is reachable only from gate.yml's pinline-gate environment;
 * - event text and inputs never reach a shell; third-party actions are pinned to commits.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planScaffold } from "../src/init/scaffold-repository.js";
import { repoRoot } from "./harness/example-repo.js";
import { validateWorkflowFile } from "./harness/workflow-runner.js";

const dir = join(repoRoot, ".github/workflows");
const shipped = readdirSync(dir)
  .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
  .map((f) => ({ file: f, text: readFileSync(join(dir, f), "utf8") }));

/**
 * What `pinline init` generates for another product (four stages, its own secrets), as a
 * released package does it — pinline's actions pinned to a commit: the same lint holds there.
 */
const generated = planScaffold({
  product: "Acme Billing",
  stages: ["dev", "qa", "prod-eu", "prod-us"],
  developers: ["@acme/billing"],
  releaseManagers: ["@acme/billing-leads"],
  owners: ["@acme/billing-leads"],
  actions: {
    kind: "remote",
    repository: "acme/pinline",
    ref: "0123456789abcdef0123456789abcdef01234567",
    comment: "v1.4.0",
  },
  notify: { slack: "BILLING_SLACK", email: ["ops@billing.example"] },
})
  .filter((f) => f.path.startsWith(".github/workflows/"))
  .map((f) => ({ file: `init:${f.path.slice(".github/workflows/".length)}`, text: f.text }));

const workflows = [...shipped, ...generated];

/**
 * The permissions of each workflow's GITHUB_TOKEN, and no more. A workflow not listed here
 * fails: adding one means deciding its permissions in this table. Privileged writes go through
 * GitHub Apps' tokens minted inside environments, not through GITHUB_TOKEN.
 */
const MINIMAL_PERMISSIONS: Record<string, Record<string, string>> = {
  "ci.yml": { contents: "read" },
  "validate.yml": { contents: "read" },
  "gate.yml": { contents: "read" },
  "gate-review.yml": {},
  "update-check.yml": { contents: "read" },
  "promote.yml": { contents: "read" },
  "deploy.yml": { contents: "read" },
  "publish.yml": { contents: "read", pages: "write", "id-token": "write" },
  "release.yml": { contents: "write" },
};

/** Triggers whose workflow file comes from the pull request (its merge commit). */
const PR_COPY_EVENTS = ["pull_request", "pull_request_review", "pull_request_review_comment"];
/** Triggers whose workflow file comes from the default branch (or a ref only main may deploy from). */
const DEFAULT_BRANCH_EVENTS = [
  "pull_request_target",
  "workflow_run",
  "schedule",
  "workflow_dispatch",
  "push",
];

/** Expressions whose text an outsider (or any writer) controls: never inside a shell script. */
const UNTRUSTED_EXPRESSION = /\$\{\{[^}]*(github\.(event|head_ref)|inputs\.|steps\.[^}]*outputs)/;

/** A ref that names the pull request's code: never checked out by a privileged workflow. */
const PR_CODE_REF = /pull_request\.head|head_ref|refs\/pull|merge_commit_sha|workflow_run\.head/;

type Step = { run?: string; uses?: string; with?: Record<string, unknown>; env?: unknown };
type Job = { steps?: Step[]; permissions?: unknown; environment?: unknown; env?: unknown };

function triggers(workflow: { on?: unknown }): string[] {
  const on = workflow.on;
  if (typeof on === "string") return [on];
  if (Array.isArray(on)) return on.map(String);
  return Object.keys((on as Record<string, unknown>) ?? {});
}

function secretsIn(value: unknown): string[] {
  return [...JSON.stringify(value ?? null).matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map(
    (m) => m[1] as string,
  );
}

function isPrivileged(workflow: { permissions?: unknown; jobs?: Record<string, Job> }): boolean {
  const writes = Object.values((workflow.permissions as Record<string, string>) ?? {}).includes(
    "write",
  );
  const jobs = Object.values(workflow.jobs ?? {});
  return writes || jobs.some((job) => job.environment !== undefined || secretsIn(job).length > 0);
}

describe.each(workflows)("workflow $file", ({ file, text }) => {
  const workflow = parse(text);
  const jobs = Object.entries(workflow.jobs as Record<string, Job>);

  it("passes GitHub's own workflow parser", () => {
    expect(validateWorkflowFile(text, `.github/workflows/${file}`)).toEqual([]);
  });

  it("declares explicit, minimal permissions at the top and nowhere widens them", () => {
    expect(
      MINIMAL_PERMISSIONS[file.replace(/^init:/, "")],
      `${file} has no entry in MINIMAL_PERMISSIONS`,
    ).toBeDefined();
    expect(workflow.permissions).toEqual(MINIMAL_PERMISSIONS[file.replace(/^init:/, "")]);
    for (const [, job] of jobs) expect(job.permissions).toBeUndefined();
  });

  it("is unprivileged when it runs a pull request's copy of itself", () => {
    if (!triggers(workflow).some((t) => PR_COPY_EVENTS.includes(t))) return;
    expect(isPrivileged(workflow)).toBe(false);
  });

  it("runs privileged jobs only from default-branch contexts, never checking out PR code", () => {
    if (!isPrivileged(workflow)) return;
    for (const trigger of triggers(workflow)) expect(DEFAULT_BRANCH_EVENTS).toContain(trigger);
    const push = (workflow.on as Record<string, { branches?: string[]; tags?: string[] }>).push;
    if (push?.tags) {
      // A tag push runs the tagged commit's copy of the file: its jobs must run in an
      // environment whose deployment policy admits only those tags (docs/github-setup.md).
      expect(push.branches).toBeUndefined();
      for (const [, job] of jobs) expect(job.environment).toBe("pinline-release-tags");
    } else if (push) expect(push.branches).toEqual(["main"]);
    for (const [, job] of jobs) {
      for (const step of job.steps ?? []) {
        if (!step.uses?.startsWith("actions/checkout")) continue;
        expect(String(step.with?.ref ?? "")).not.toMatch(PR_CODE_REF);
        expect(step.with?.repository).toBeUndefined();
      }
    }
  });

  it("reads secrets only in jobs that run in an environment", () => {
    for (const [name, job] of jobs) {
      const secrets = secretsIn(job).filter((secret) => secret !== "GITHUB_TOKEN");
      if (secrets.length > 0)
        expect(job.environment, `${file}: job ${name} reads ${secrets}`).toBeDefined();
    }
    expect(secretsIn(workflow.env)).toEqual([]);
  });

  it("keeps the gate App's key to gate.yml's pinline-gate environment", () => {
    for (const [, job] of jobs) {
      const gateSecrets = secretsIn(job).filter((secret) => secret.startsWith("PINLINE_GATE_"));
      if (gateSecrets.length === 0) continue;
      expect(file.replace(/^init:/, "")).toBe("gate.yml");
      expect(job.environment).toBe("pinline-gate");
    }
  });

  it("never interpolates event text, inputs or step outputs into a run: script", () => {
    for (const [, job] of jobs) {
      for (const step of job.steps ?? []) expect(step.run ?? "").not.toMatch(UNTRUSTED_EXPRESSION);
    }
  });

  it("pins every action from outside this repository to a commit", () => {
    for (const [, job] of jobs) {
      for (const step of job.steps ?? []) {
        if (!step.uses || step.uses.startsWith("./")) continue;
        expect(step.uses).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      }
    }
  });

  it("checks out without keeping the token in the work tree", () => {
    for (const [, job] of jobs) {
      for (const step of (job.steps ?? []).filter((s) => s.uses?.startsWith("actions/checkout"))) {
        expect(step.with).toMatchObject({ "persist-credentials": false });
      }
    }
  });
});

describe("the workflow lint", () => {
  it("catches each pattern it exists for", () => {
    expect("echo ${{ github.event.pull_request.title }}").toMatch(UNTRUSTED_EXPRESSION);
    expect("echo ${{github.head_ref}}").toMatch(UNTRUSTED_EXPRESSION);
    expect("pinline promote ${{ inputs.environment }}").toMatch(UNTRUSTED_EXPRESSION);
    expect("echo ${{ steps.app.outputs.token }}").toMatch(UNTRUSTED_EXPRESSION);
    expect("echo ${{ github.sha }}").not.toMatch(UNTRUSTED_EXPRESSION);
    expect("${{ github.event.pull_request.head.sha }}").toMatch(PR_CODE_REF);
    expect("refs/pull/12/merge").toMatch(PR_CODE_REF);
    expect(isPrivileged({ permissions: { contents: "read" }, jobs: { a: { steps: [] } } })).toBe(
      false,
    );
    expect(
      isPrivileged({ permissions: {}, jobs: { a: { steps: [{ run: "echo ${{ secrets.X }}" }] } } }),
    ).toBe(true);
    expect(triggers({ on: "pull_request" })).toEqual(["pull_request"]);
  });
});

it("the gate runs on pull_request_target and the relay's workflow_run, from the default branch's checkout", () => {
  const gate = parse(workflows.find((w) => w.file === "gate.yml")?.text ?? "");
  expect(Object.keys(gate.on)).toEqual([
    "pull_request_target",
    "workflow_run",
    "push",
    "schedule",
    "workflow_dispatch",
  ]);
  expect(gate.on.pull_request_target.types).toEqual([
    "opened",
    "synchronize",
    "reopened",
    "edited",
    "ready_for_review",
  ]);
  expect(gate.on.workflow_run.workflows).toEqual(["gate-review"]);
  const relay = parse(workflows.find((w) => w.file === "gate-review.yml")?.text ?? "");
  expect(relay.name).toBe("gate-review");
  const steps = (gate.jobs.gate as Job).steps ?? [];
  const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout"));
  expect(checkout?.with?.ref).toBeUndefined();
  expect(checkout?.with?.["fetch-depth"]).toBe(0);
  const token = steps.find((s) => s.uses?.startsWith("actions/create-github-app-token"));
  expect(token?.with?.["private-key"]).toBe("${{ secrets.PINLINE_GATE_PRIVATE_KEY }}");
  const action = steps.find((s) => s.uses === "./actions/gate");
  expect(action?.with?.["github-token"]).toBe("${{ steps.app.outputs.token }}");
});

it("the deploy workflow keeps each deploy's pre-update backup as an artifact, even when it failed", () => {
  const deploy = parse(workflows.find((w) => w.file === "deploy.yml")?.text ?? "");
  const steps = (deploy.jobs.deploy as Job).steps ?? [];
  const action = steps.find((s) => s.uses === "./actions/deploy") as Step & { id?: string };
  expect(action.id).toBe("deploy");
  const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@")) as
    | (Step & { if?: string })
    | undefined;
  expect(upload?.if).toBe("always() && steps.deploy.outputs.backup-file != ''");
  expect(String(upload?.with?.path).trim().split("\n")).toEqual([
    "${{ steps.deploy.outputs.backup-file }}",
    "${{ steps.deploy.outputs.backup-file }}.json",
  ]);
  expect(upload?.with?.["if-no-files-found"]).toBe("error");
  expect(upload?.with?.["retention-days"]).toBeGreaterThan(0);
  expect(steps.indexOf(upload as Step)).toBeGreaterThan(steps.indexOf(action));
});

it("CI runs exactly the README's test command", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const ci = readFileSync(join(repoRoot, ".ci/run"), "utf8");
  expect(readme.split("\n").slice(0, 12).join("\n")).toContain("npm ci && npm test");
  expect(ci).toContain("\nnpm ci && npm test\n");
  expect(workflows.find((w) => w.file === "ci.yml")?.text).toContain("run: npm ci && npm test");
});

it("the gate action's page shows the gate and its relay as they are shipped", () => {
  const page = readFileSync(join(repoRoot, "docs/actions/gate.md"), "utf8");
  const block = (first: string) =>
    parse(
      page
        .split("```yaml\n")
        .map((b) => b.split("```")[0] ?? "")
        .find((b) => b.startsWith(first)) ?? "",
    );
  const shown = block("# gate.yml");
  const shipped = parse(workflows.find((w) => w.file === "gate.yml")?.text ?? "");
  expect(Object.keys(shown.on)).toEqual(
    Object.keys(shipped.on).filter((t) => t !== "workflow_dispatch"),
  );
  expect(shown.on.pull_request_target).toEqual(shipped.on.pull_request_target);
  expect(shown.on.workflow_run).toEqual(shipped.on.workflow_run);
  expect(shown.permissions).toEqual(shipped.permissions);
  expect(shown.jobs.gate.environment).toBe(shipped.jobs.gate.environment);
  const uses = (job: Job) =>
    (job.steps ?? []).map((s) =>
      s.uses?.replace(/^acme\/pinline\/actions\/gate@.*$/, "./actions/gate"),
    );
  expect(uses(shown.jobs.gate)).toEqual(uses(shipped.jobs.gate));
  const relay = block("# gate-review.yml");
  const shippedRelay = parse(workflows.find((w) => w.file === "gate-review.yml")?.text ?? "");
  expect(relay).toEqual(shippedRelay);
});
