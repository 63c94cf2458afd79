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

describe.each(workflows)("workflow $file", ({ text }) => {
  const workflow = parse(text);

  it("declares read-only contents permission at the top", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
  });

  it("does not run on pull_request_target", () => {
    expect(Object.keys(workflow.on ?? {})).not.toContain("pull_request_target");
  });

  it("never interpolates event text into a run: script", () => {
    for (const job of Object.values(workflow.jobs) as { steps: { run?: string }[] }[]) {
      for (const step of job.steps) {
        expect(step.run ?? "").not.toMatch(/\$\{\{\s*github\.(event|head_ref)/);
      }
    }
  });

  it("checks out without keeping the token in the work tree", () => {
    for (const job of Object.values(workflow.jobs) as {
      steps: { uses?: string; with?: object }[];
    }[]) {
      for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/checkout"))) {
        expect(step.with).toMatchObject({ "persist-credentials": false });
      }
    }
  });
});

it("CI runs exactly the README's test command", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const ci = readFileSync(join(repoRoot, ".ci/run"), "utf8");
  expect(readme.split("\n").slice(0, 12).join("\n")).toContain("npm ci && npm test");
  expect(ci).toContain("\nnpm ci && npm test\n");
  expect(workflows.find((w) => w.file === "ci.yml")?.text).toContain("run: npm ci && npm test");
});
