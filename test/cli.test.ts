import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  copyExample,
  edit,
  removeCopies,
  replaceOnce,
  repoRoot,
  runPinline,
} from "./harness/example-repo.js";

afterAll(removeCopies);

describe("the pinline CLI contract (DESIGN §4)", () => {
  it("validates the example repository from its root and exits 0", () => {
    const run = runPinline(["validate"], { cwd: repoRoot });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(
      "pinline validate: 16 files (6 releases, 3 policies, 7 environments): 0 errors, 0 warnings\n",
    );
    expect(run.code).toBe(0);
  });

  it("finds the repository from a folder inside it and prints paths from where it runs", () => {
    const root = copyExample();
    edit(root, "environments/qa.yaml", replaceOnce("stage: staging", "stage: stagging"));
    const run = runPinline(["validate"], { cwd: join(root, "releases/2.4.1") });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "../../environments/qa.yaml:5:8: error: stage stagging is not a stage of policies/rollout.yaml",
    );
  });

  it("prints machine-readable findings with --json", () => {
    const root = copyExample();
    edit(root, "environments/qa.yaml", replaceOnce("stage: staging", "stage: stagging"));
    const run = runPinline(["validate", "--root", root, "--json"]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: false,
      root,
      errors: 1,
      warnings: 0,
      counts: { files: 16, releases: 6, policies: 3, environments: 7 },
    });
    expect(report.findings).toEqual([
      {
        severity: "error",
        rule: "environment",
        file: "environments/qa.yaml",
        line: 5,
        column: 8,
        message: "stage stagging is not a stage of policies/rollout.yaml",
        hint: "stages are: dev, staging, production-canary, production-partial, production-majority, production-full",
      },
    ]);
  });

  it("exits 2 for a folder that is not a pinline repository", () => {
    const empty = mkdtempSync(join(tmpdir(), "pinline-empty-"));
    const run = runPinline(["validate", "--root", empty]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`pinline: error: ${empty} is not a pinline repository`);
  });

  it("exits 2 for an unknown option or verb, and says so", () => {
    const option = runPinline(["validate", "--frobnicate"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--frobnicate'");
    const verb = runPinline(["deploy-everything"]);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain("unknown command 'deploy-everything'");
  });

  it("exits 0 for --help and --version", () => {
    const help = runPinline(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("validate [options]");
    const version = runPinline(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
