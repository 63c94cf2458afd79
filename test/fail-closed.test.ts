/**
 * Fail closed (DESIGN §6): a policy, rollout or pin that does not parse or fails its schema
 * makes every verb that judges with it refuse with the validate finding (file:line:col) —
 * never "(no policy)", a default threshold or an environment that is simply not there. The
 * gate's own refusal is in test/gate-trust.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deployEnvironment } from "../src/deploy/deploy-environment.js";
import { createOctokit } from "../src/github/create-octokit.js";
import { OctokitForge } from "../src/github/octokit-forge.js";
import { runUpdateCheck } from "../src/promote/update-check.js";
import { edit, gitExample, removeCopies, replaceOnce, runPinline } from "./harness/example-repo.js";
import { startGitHubSimulator } from "./harness/github-simulator.js";

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

/** The example, with one document broken the way a hurried edit breaks it. */
const BROKEN = {
  "a policy whose approvals are not a number": {
    file: "policies/production.yaml",
    change: replaceOnce("required: 2", "required: two"),
  },
  "a policy that does not parse": {
    file: "policies/pre-production.yaml",
    change: replaceOnce("appliesTo: [dev, staging, qa]", "appliesTo: [dev, staging, qa"),
  },
  "a rollout with a stage of no name": {
    file: "policies/rollout.yaml",
    change: replaceOnce("  - name: dev\n", "  - nme: dev\n"),
  },
  "a pin of an unknown field": {
    file: "environments/qa.yaml",
    change: replaceOnce("stage: staging", "stage: staging\nstaeg: qa"),
  },
} as const;

describe.each(Object.entries(BROKEN))("with %s", (_, broken) => {
  const root = gitExample();
  edit(root, broken.file, broken.change);
  const where = new RegExp(`${broken.file.replace(/[./]/g, "\\$&")}:\\d+:\\d+`);

  it("pinline plan refuses, naming the file, line and column", () => {
    const run = runPinline(["plan", "production-canary", "--to", "2.4.1", "--root", root]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(where);
    expect(run.stderr).toContain(
      "plan refuses to judge with a policy, rollout or pin that does not validate",
    );
    expect(run.stdout).toBe("");
  });

  it("pinline promote --local refuses", () => {
    const run = runPinline(["promote", "production-canary", "2.4.1", "--local", "--root", root]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(where);
  });

  it("pinline check refuses to answer from the repository", () => {
    const run = runPinline(["check", "--channel", "stable", "--current", "2.4.0", "--root", root]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(where);
  });

  it("pinline feed build refuses to publish", () => {
    const keys = mkdtempSync(join(tmpdir(), "pinline-keys-"));
    temporary.push(keys);
    rmSync(keys, { recursive: true });
    expect(runPinline(["feed", "keys", "--out", keys]).code).toBe(0);
    const out = mkdtempSync(join(tmpdir(), "pinline-feed-"));
    temporary.push(out);
    const run = runPinline(["feed", "build", "--out", out, "--keys", keys, "--root", root]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(where);
  });

  it("update-check refuses before proposing anything", async () => {
    const sim = await startGitHubSimulator();
    try {
      sim.addApp("pinline", { permissions: { contents: "write", pull_requests: "write" } });
      const forge = new OctokitForge(
        createOctokit({ token: sim.installationToken("pinline"), baseUrl: sim.url }),
        { owner: sim.owner, repo: sim.repo },
      );
      await expect(runUpdateCheck({ root, forge, now: new Date() })).rejects.toThrow(
        "update-check refuses to judge",
      );
      expect(sim.state.pulls).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it("deploy refuses before any step runs", async () => {
    const lines: string[] = [];
    await expect(
      deployEnvironment({ root, environment: "production-canary", log: (l) => lines.push(l) }),
    ).rejects.toThrow("deploy refuses to judge");
    expect(lines).toEqual([]);
  });
});

describe("pinline verify", () => {
  it("refuses a threshold read from the policies that happen to parse", () => {
    const root = gitExample();
    edit(root, "policies/production.yaml", replaceOnce("threshold: 2", "threshold: many"));
    const run = runPinline(["verify", "releases/2.4.1"], { cwd: root });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/policies\/production\.yaml:\d+:\d+/);
    expect(run.stdout).not.toContain("verified");
  });

  it("refuses a policy written as .yml, which pinline would not read", () => {
    const root = gitExample();
    writeFileSync(
      join(root, "policies/strict.yml"),
      "appliesTo: ['*']\nsignatures: { threshold: 3 }\n",
    );
    const run = runPinline(["verify", "releases/2.4.1"], { cwd: root });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("policies/strict.yml:1:1");
  });
});
