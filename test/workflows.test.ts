// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are plain text here
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "./harness/example-repo.js";

/** DESIGN §6: workflows declare minimal permissions and never run PR code with privileges. */
const dir = join(repoRoot, ".github/workflows");
const workflows = readdirSync(dir)
  .filter((f) => f.endsWith(".yml"))
  .map((f) => ({ file: f, text: readFileSync(join(dir, f), "utf8") }));

/**
 * The permissions each workflow needs, and no more. A workflow not listed here fails: adding
 * one means deciding its permissions in this table.
 */
const MINIMAL_PERMISSIONS: Record<string, Record<string, string>> = {
  "ci.yml": { contents: "read" },
  "validate.yml": { contents: "read" },
  "gate.yml": { contents: "read", "pull-requests": "read", checks: "write", deployments: "read" },
  "update-check.yml": { contents: "write", "pull-requests": "write" },
  "promote.yml": { contents: "write", "pull-requests": "write" },
  "deploy.yml": { contents: "write", "pull-requests": "write", deployments: "write" },
  "publish.yml": { contents: "read", pages: "write", "id-token": "write" },
};

/** Expressions whose text an outsider (or any writer) controls: never inside a shell script. */
const UNTRUSTED_EXPRESSION = /\$\{\{\s*(github\.(event|head_ref)|inputs\.)/;

type Step = { run?: string; uses?: string; with?: Record<string, unknown> };
type Job = { steps: Step[]; permissions?: unknown };

describe.each(workflows)("workflow $file", ({ file, text }) => {
  const workflow = parse(text);
  const jobs = Object.values(workflow.jobs) as Job[];

  it("declares explicit, minimal permissions at the top and nowhere widens them", () => {
    expect(MINIMAL_PERMISSIONS[file], `${file} has no entry in MINIMAL_PERMISSIONS`).toBeDefined();
    expect(workflow.permissions).toEqual(MINIMAL_PERMISSIONS[file]);
    for (const job of jobs) expect(job.permissions).toBeUndefined();
  });

  it("does not run on pull_request_target", () => {
    expect(Object.keys(workflow.on ?? {})).not.toContain("pull_request_target");
  });

  it("never interpolates event text or inputs into a run: script", () => {
    for (const job of jobs) {
      for (const step of job.steps) {
        expect(step.run ?? "").not.toMatch(UNTRUSTED_EXPRESSION);
      }
    }
  });

  it("checks out without keeping the token in the work tree", () => {
    for (const job of jobs) {
      for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/checkout"))) {
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
    expect("echo ${{ github.sha }}").not.toMatch(UNTRUSTED_EXPRESSION);
  });
});

it("the gate judges a PR from the base branch's checkout, with full history", () => {
  const gate = parse(workflows.find((w) => w.file === "gate.yml")?.text ?? "");
  const checkout = (gate.jobs.gate as Job).steps.find((s) =>
    s.uses?.startsWith("actions/checkout"),
  );
  expect(String(checkout?.with?.ref)).toContain("github.event.pull_request.base.ref");
  expect(checkout?.with?.["fetch-depth"]).toBe(0);
});

it("CI runs exactly the README's test command", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const ci = readFileSync(join(repoRoot, ".ci/run"), "utf8");
  expect(readme.split("\n").slice(0, 12).join("\n")).toContain("npm ci && npm test");
  expect(ci).toContain("\nnpm ci && npm test\n");
  expect(workflows.find((w) => w.file === "ci.yml")?.text).toContain("run: npm ci && npm test");
});
