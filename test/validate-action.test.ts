import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { copyExample, edit, removeCopies, replaceOnce, repoRoot } from "./harness/example-repo.js";
import { runAction } from "./harness/runner.js";

afterAll(removeCopies);

const pullRequest = {
  action: "synchronize",
  number: 42,
  pull_request: {
    number: 42,
    head: { ref: "release/2.4.1", sha: "0123456789abcdef0123456789abcdef01234567" },
    base: { ref: "main" },
    user: { login: "carol" },
  },
  repository: {
    full_name: "acme/cm-diagnostics-releases",
    name: "cm-diagnostics-releases",
    owner: { login: "acme" },
  },
};

describe("actions/validate, run as the runner runs it", () => {
  it("declares node24 and points at its committed bundle", () => {
    const action = parse(readFileSync(join(repoRoot, "actions/validate/action.yml"), "utf8"));
    expect(action.runs).toEqual({ using: "node24", main: "../../dist/validate.js" });
    expect(Object.keys(action.inputs)).toEqual(["root"]);
    expect(Object.keys(action.outputs)).toEqual(["errors", "warnings"]);
  });

  it("passes the example repository with a summary of what runs where", () => {
    const run = runAction("validate", { workspace: copyExample(), event: pullRequest });
    expect(run.code).toBe(0);
    expect(run.commands.filter((c) => c.command === "error" || c.command === "warning")).toEqual(
      [],
    );
    expect(run.outputs).toEqual({ errors: "0", warnings: "0" });
    expect(run.summary).toContain("## pinline validate: ✅ no errors, no warnings");
    expect(run.summary).toContain("Checked 16 files: 6 releases, 3 policy files, 7 environments.");
    expect(run.summary).toContain("```mermaid\nflowchart LR");
    expect(run.summary).toContain(
      's2["<b>production-canary</b><br/>5% traffic, soak 24h<br/>production-canary: 2.4.1"]',
    );
  });

  it("annotates each finding at its file, line and column, and fails the step", () => {
    const workspace = copyExample();
    edit(workspace, "releases/2.4.1/release.yaml", replaceOnce("channel: stable", "channel: beta"));
    const run = runAction("validate", { workspace, event: pullRequest });
    expect(run.code).toBe(1);
    expect(run.commands).toContainEqual({
      command: "error",
      properties: {
        title: "pinline validate: release",
        file: "releases/2.4.1/release.yaml",
        line: "5",
        col: "10",
      },
      message:
        "channel is beta, but 2.4.1 is a stable version (the version's suffix and the channel must agree: set channel: stable)",
    });
    expect(run.commands).toContainEqual(
      expect.objectContaining({ command: "error", message: expect.stringContaining("1 error") }),
    );
    expect(run.outputs).toEqual({ errors: "1", warnings: "0" });
    expect(run.summary).toContain("## pinline validate: ❌ 1 error, 0 warnings");
    expect(run.summary).toContain(
      "| ❌ | [releases/2.4.1/release.yaml:5:10](https://github.com/acme/cm-diagnostics-releases/blob/0123456789abcdef0123456789abcdef01234567/releases/2.4.1/release.yaml#L5) | channel is beta, but 2.4.1 is a stable version |",
    );
  });

  it("annotates paths relative to the workspace when the data lives in a subfolder", () => {
    const workspace = copyExample();
    const nested = join(workspace, "deploy");
    mkdirSync(nested);
    for (const dir of ["releases", "policies", "environments", "schemas"]) {
      renameSync(join(workspace, dir), join(nested, dir));
    }
    edit(nested, "environments/qa.yaml", replaceOnce("stage: staging", "stage: stagging"));
    const run = runAction("validate", {
      workspace,
      inputs: { root: "deploy" },
      event: pullRequest,
    });
    expect(run.code).toBe(1);
    const annotation = run.commands.find((c) => c.command === "error" && c.properties.file);
    expect(annotation?.properties.file).toBe("deploy/environments/qa.yaml");
  });

  it("fails with a usage message when the root is not a pinline repository", () => {
    const workspace = copyExample();
    const run = runAction("validate", { workspace, inputs: { root: "nowhere" } });
    expect(run.code).toBe(1);
    expect(run.commands).toContainEqual(
      expect.objectContaining({
        command: "error",
        message: expect.stringContaining("nowhere is not a directory"),
      }),
    );
  });
});
