/**
 * The gate, promote and update-check actions run from their bundles exactly as the runner
 * does (INPUT_*, a real webhook payload, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY), against the
 * GitHub simulator at GITHUB_API_URL.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeCopies } from "./harness/example-repo.js";
import { type PromotionRepo, startLivePromotionRepo } from "./harness/promotion-repo.js";
import { runActionAsync } from "./harness/runner.js";
import { pullRequestEvent, workflowRunEvent } from "./harness/webhook-payload.js";

let repo: PromotionRepo;
let workspace: string;
const temporary: string[] = [];

beforeAll(async () => {
  repo = await startLivePromotionRepo();
  workspace = repo.checkout();
});

afterAll(async () => {
  await repo?.close();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
  removeCopies();
});

function env() {
  return { GITHUB_API_URL: repo.sim.url, GITHUB_REPOSITORY: `${repo.sim.owner}/${repo.sim.repo}` };
}

async function approve(person: "alice" | "bob" | "carol", number: number) {
  await repo.as(person).rest.pulls.createReview({
    owner: repo.sim.owner,
    repo: repo.sim.repo,
    pull_number: number,
    event: "APPROVE",
  });
}

describe("actions/gate", () => {
  it("judges the PR of a pull_request_target event into one check run, with a table and a picture", async () => {
    const pr = await repo.openPinPr("promote-canary", { "production-canary": "2.4.1" });
    await approve("alice", pr.number);
    await approve("bob", pr.number);
    const run = await runActionAsync("gate", {
      workspace,
      inputs: { "github-token": repo.tokens.bot },
      eventName: "pull_request_target",
      event: pullRequestEvent("opened", {
        owner: repo.sim.owner,
        repo: repo.sim.repo,
        number: pr.number,
        headSha: pr.headSha,
        headRef: "promote-canary",
      }),
      env: env(),
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ status: "pass", "pull-requests": String(pr.number) });
    const checks = repo.sim.state.checkRuns.filter(
      (c) => c.name === "pinline/gate" && c.headSha === pr.headSha,
    );
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ status: "completed", conclusion: "success" });
    expect(checks[0]?.detailsUrl).toBe(
      "https://github.com/acme/cm-diagnostics-releases/actions/runs/4242",
    );
    expect(run.summary).toContain("| Rule | Verdict | Reason | Waiting until |");
    expect(run.summary).toContain("| soak | ✅ pass |");
    expect(run.summary).toContain("```mermaid\nflowchart LR");
    // The token is masked before anything else is logged, and never printed otherwise.
    expect(run.commands[0]).toMatchObject({ command: "add-mask", message: repo.tokens.bot });
    const logged = run.stdout.split("\n").filter((line) => !line.startsWith("::add-mask::"));
    expect(logged.join("\n")).not.toContain(repo.tokens.bot);
  });

  it("knows who pushed the head commit from GitHub's record, whatever the event says", async () => {
    // alice pushes a commit that dana authored (a cherry-pick): GitHub's record of pushes says so.
    const headSha = await repo.sim.commitFiles(
      "promote-cherry",
      { "environments/production-canary.yaml": repo.pinWith("production-canary", "2.4.1") },
      { author: "dana", pusher: "alice", message: "Promote canary (cherry-picked)" },
    );
    const { data } = await repo.as("dana").rest.pulls.create({
      owner: repo.sim.owner,
      repo: repo.sim.repo,
      head: "promote-cherry",
      base: "main",
      title: "Promote canary",
    });
    await approve("alice", data.number);
    await approve("bob", data.number);
    const reviewed = await runActionAsync("gate", {
      workspace,
      inputs: { "github-token": repo.tokens.bot },
      eventName: "workflow_run",
      event: workflowRunEvent({
        owner: repo.sim.owner,
        repo: repo.sim.repo,
        workflow: "gate-review",
        headSha,
        headBranch: "promote-cherry",
        event: "pull_request_review",
      }),
      env: env(),
    });
    expect(reviewed.stderr).toBe("");
    expect(reviewed.outputs.status).toBe("waiting");
    expect(reviewed.summary).toContain("alice pushed the head commit");
    expect(reviewed.summary).toContain("1 of 2 approvals: bob");
  });

  it("on a schedule, judges every open PR that changes a pin", async () => {
    const other = await repo.openPinPr("promote-full", { "production-full": "2.4.1" });
    const run = await runActionAsync("gate", {
      workspace,
      inputs: { "github-token": repo.tokens.bot },
      eventName: "schedule",
      event: { schedule: "*/15 * * * *" },
      env: env(),
    });
    expect(run.outputs["pull-requests"]?.split(",")).toContain(String(other.number));
    expect(run.outputs.status).toBe("fail");
    expect(run.code).toBe(1);
    expect(run.commands.find((c) => c.command === "error")?.message).toContain(
      `pinline gate: blocked: #${other.number}`,
    );
  });

  it("fails closed when it cannot read the pin history (a shallow checkout)", async () => {
    const shallow = mkdtempSync(join(tmpdir(), "pinline-shallow-"));
    temporary.push(shallow);
    rmSync(shallow, { recursive: true });
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${repo.sim.bareRepo}`, shallow]);
    const pr = await repo.openPinPr("promote-shallow", { "production-partial": "2.4.1" });
    const run = await runActionAsync("gate", {
      workspace: shallow,
      inputs: { "github-token": repo.tokens.bot, pr: String(pr.number) },
      eventName: "workflow_dispatch",
      env: env(),
    });
    expect(run.code).toBe(1);
    const [check] = repo.sim.state.checkRuns.filter((c) => c.headSha === pr.headSha);
    expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(check?.output.summary).toContain("fails closed");
    expect(check?.output.summary).toContain("shallow clone");
  });
});

describe("actions/promote and actions/update-check", () => {
  it("opens the promotion PR, and a second run changes nothing", async () => {
    const inputs = {
      "github-token": repo.tokens.bot,
      environment: "production-majority",
      version: "2.4.1",
    };
    const first = await runActionAsync("promote", {
      workspace,
      inputs,
      eventName: "workflow_dispatch",
      env: env(),
    });
    expect(first.stderr).toBe("");
    expect(first.outputs.action).toBe("created");
    const second = await runActionAsync("promote", {
      workspace,
      inputs,
      eventName: "workflow_dispatch",
      env: env(),
    });
    expect(second.outputs).toMatchObject({
      action: "unchanged",
      "pull-request": first.outputs["pull-request"],
    });
    expect(first.summary).toContain("<th>Environment</th>");
  });

  it("update-check run twice leaves one PR per environment, updated", async () => {
    const inputs = {
      "github-token": repo.tokens.bot,
      environments: "production-majority, production-full",
    };
    const first = await runActionAsync("update-check", {
      workspace,
      inputs,
      eventName: "schedule",
      env: env(),
    });
    expect(first.stderr).toBe("");
    const outcomes = JSON.parse(first.outputs.outcomes ?? "[]") as {
      environment: string;
      action: string;
    }[];
    expect(outcomes.map((o) => [o.environment, o.action])).toEqual([
      ["production-full", "opened"],
      ["production-majority", "updated"],
    ]);
    const second = await runActionAsync("update-check", {
      workspace,
      inputs,
      eventName: "schedule",
      env: env(),
    });
    const again = JSON.parse(second.outputs.outcomes ?? "[]") as { action: string }[];
    expect(again.map((o) => o.action)).toEqual(["not-due", "not-due"]);
    for (const environment of ["production-majority", "production-full"]) {
      const open = repo.sim.state.pulls.filter(
        (p) => p.head === `pinline/promote/${environment}` && p.state === "open",
      );
      expect(open).toHaveLength(1);
    }
    expect(first.summary).toContain("<th>Auto-merge</th>");
  });
});
