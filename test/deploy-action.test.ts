/**
 * actions/deploy from its bundle, as the runner runs it, against the GitHub simulator: the
 * GitHub deployment and its statuses, and on a failed canary the revert PR — labelled, merged
 * because the policy's rollback is automatic — restoring the previous pin on main.
 */

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
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
/** A Slack webhook receiver: what the deploy posts. */
const slack: unknown[] = [];
let slackUrl = "";
const receiver = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => {
    body += chunk;
  });
  request.on("end", () => {
    slack.push(JSON.parse(body));
    response.end("ok");
  });
});

beforeAll(async () => {
  if (!target) throw new Error("no PostgreSQL target");
  const db = await freshDatabase(target);
  drop = db.drop;
  repo = await startDeployRepo(db.url);
  sim = await startGitHubSimulator();
  token = sim.addUser("pinline-bot", { permission: "admin", type: "Bot" });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  slackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/services/T000/B000/XXXX`;
}, 60_000);

afterAll(async () => {
  repo?.close();
  await sim?.close();
  receiver.close();
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
      SLACK_WEBHOOK_URL: slackUrl,
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
    expect(JSON.stringify(slack.at(-1))).toContain("deployed to production-canary");
    // The database URL is masked before anything could print it.
    expect(
      run.commands.some((c) => c.command === "add-mask" && c.message === repo.databaseUrl),
    ).toBe(true);
  });

  it("rolls back a failed canary and merges the revert PR on main", async () => {
    // This time the promotion arrives as a merged PR, which gets the deploy comment.
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.2" });
    const pin = "environments/production-canary.yaml";
    await sim.commitFiles("promote-canary", { [pin]: readFileSync(join(repo.root, pin), "utf8") });
    const octokit = new Octokit({ baseUrl: sim.url, auth: token });
    const where = { owner: sim.owner, repo: sim.repo };
    const { data: promotion } = await octokit.rest.pulls.create({
      ...where,
      head: "promote-canary",
      base: "main",
      title: "Promote production-canary to 2.4.2",
    });
    pushed = (await octokit.rest.pulls.merge({ ...where, pull_number: promotion.number })).data.sha;
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
    expect(JSON.stringify(slack.at(-1))).toContain("rolled back on production-canary");
    const comments = sim.state.comments.filter((c) => c.issueNumber === promotion.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("<!-- pinline:deploy environment=production-canary -->");
    // The webhook URL is a secret: masked, and never printed.
    expect(
      run.stdout
        .split("\n")
        .filter((l) => !l.startsWith("::add-mask::"))
        .join("\n"),
    ).not.toContain(slackUrl);
    const { execFileSync } = await import("node:child_process");
    const pinOnMain = execFileSync(
      "git",
      ["-C", sim.bareRepo, "show", "main:environments/production-canary.yaml"],
      {
        encoding: "utf8",
      },
    );
    expect(pinOnMain).toContain('version: "2.4.1"');
  });
});
