/**
 * actions/deploy from its bundle, as the runner runs it, against the GitHub simulator: the
 * GitHub deployment and its statuses, and on a failed canary the revert PR — labelled, merged
 * because the policy's rollback is automatic — restoring the previous pin on main.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { CANARY_DB_VAR, type DeployRepo, startDeployRepo } from "./harness/deploy-repo.js";
import { removeCopies } from "./harness/example-repo.js";
import { type GitHubSimulator, startGitHubSimulator } from "./harness/github-simulator.js";
import { freshDatabase } from "./harness/postgres.js";
import { runActionAsync } from "./harness/runner.js";

const [target] = inject("postgresTargets");
let repo: DeployRepo;
let sim: GitHubSimulator;
let token: string;
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  if (!target) throw new Error("no PostgreSQL target");
  const db = await freshDatabase(target);
  drop = db.drop;
  repo = await startDeployRepo(db.url);
  sim = await startGitHubSimulator();
  token = sim.addUser("pinline-bot", { permission: "admin", type: "Bot" });
}, 60_000);

afterAll(async () => {
  repo?.close();
  await sim?.close();
  await drop?.();
  removeCopies();
});

/** What GitHub deploys: the commit on main the push made. */
let pushed = "";

function deployAction() {
  return runActionAsync("deploy", {
    workspace: repo.root,
    inputs: { environment: "production-canary", "github-token": token },
    eventName: "push",
    env: {
      GITHUB_API_URL: sim.url,
      GITHUB_REPOSITORY: `${sim.owner}/${sim.repo}`,
      GITHUB_SHA: pushed,
      [CANARY_DB_VAR]: repo.databaseUrl,
    },
  });
}

function statesOf(environment: string): string[][] {
  return sim.state.deployments
    .filter((d) => d.environment === environment)
    .map((d) =>
      sim.state.deploymentStatuses.filter((s) => s.deploymentId === d.id).map((s) => s.state),
    );
}

describe("actions/deploy", () => {
  it("deploys 2.4.1 and reports a GitHub deployment: in_progress, then success", async () => {
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    pushed = await sim.seed(repo.root, "Import");
    const run = await deployAction();
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ outcome: "success", from: "2.4.0", to: "2.4.1" });
    expect(statesOf("production-canary")).toEqual([["in_progress", "success"]]);
    expect(run.summary).toContain("```mermaid\ngantt");
    expect(run.stdout).toContain("SLACK_WEBHOOK_URL is not set; Slack not notified");
    // The database URL is masked before anything could print it.
    expect(
      run.commands.some((c) => c.command === "add-mask" && c.message === repo.databaseUrl),
    ).toBe(true);
  });

  it("rolls back a failed canary and merges the revert PR on main", async () => {
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.2" });
    pushed = await sim.seed(repo.root, "Promote production-canary to 2.4.2");
    const run = await deployAction();
    expect(run.code).toBe(1);
    expect(run.outputs.outcome).toBe("rolled-back");
    const number = Number(run.outputs["revert-pull-request"]);
    const pull = sim.state.pulls.find((p) => p.number === number);
    expect(pull).toMatchObject({ title: "Revert production-canary to 2.4.1", merged: true });
    expect(pull?.labels).toContain("pinline:revert");
    expect(pull?.body).toContain("errorRate");
    expect(statesOf("production-canary").at(-1)).toEqual(["in_progress", "failure"]);
    expect(await repo.service.version()).toBe("2.4.1");
    const { execFileSync } = await import("node:child_process");
    const pin = execFileSync(
      "git",
      ["-C", sim.bareRepo, "show", "main:environments/production-canary.yaml"],
      {
        encoding: "utf8",
      },
    );
    expect(pin).toContain('version: "2.4.1"');
  });
});
