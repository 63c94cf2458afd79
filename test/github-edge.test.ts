/**
 * src/github against the simulator: the base URL comes from GITHUB_API_URL (as on GitHub
 * Enterprise Server), server errors and secondary rate limits are retried by the Octokit
 * plugins, expected absences read as absences, and writes are idempotent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../src/core/errors.js";
import { createOctokit } from "../src/github/create-octokit.js";
import { OctokitForge } from "../src/github/octokit-forge.js";
import { copyExample, removeCopies } from "./harness/example-repo.js";
import { createOpenApiValidator } from "./harness/github-simulator/openapi.js";
import { type GitHubSimulator, startGitHubSimulator } from "./harness/github-simulator.js";

let sim: GitHubSimulator;
let token: string;
let head: string;

beforeAll(async () => {
  sim = await startGitHubSimulator();
  token = sim.addUser("pinline-bot", { permission: "write", type: "Bot" });
  sim.addUser("dana", { permission: "write" });
  sim.addUser("rita", { permission: "triage" });
  sim.addTeam("acme", "release-managers", ["dana"]);
  head = await sim.seed(copyExample());
});

afterAll(async () => {
  await sim?.close();
  removeCopies();
});

function forge(log?: (message: string) => void) {
  return new OctokitForge(createOctokit({ token, baseUrl: sim.url, ...(log ? { log } : {}) }), {
    owner: sim.owner,
    repo: sim.repo,
  });
}

describe("createOctokit", () => {
  it("talks to GITHUB_API_URL when no base URL is given", async () => {
    const saved = process.env.GITHUB_API_URL;
    process.env.GITHUB_API_URL = `${sim.url}/`;
    try {
      const octokit = createOctokit({ token });
      const { data } = await octokit.rest.repos.get({ owner: sim.owner, repo: sim.repo });
      expect(data.full_name).toBe(`${sim.owner}/${sim.repo}`);
    } finally {
      if (saved === undefined) delete process.env.GITHUB_API_URL;
      else process.env.GITHUB_API_URL = saved;
    }
  });

  it("refuses to start without a token, saying where one comes from", () => {
    expect(() => createOctokit({ token: "" })).toThrow(UsageError);
    expect(() => createOctokit({ token: "" })).toThrow("no GitHub token");
  });

  it("retries server errors (plugin-retry)", async () => {
    const before = sim.requests.length;
    sim.failNext("GET /repos/{owner}/{repo}/git/ref/{ref}", 2, 502);
    expect(await forge().getBranchSha("main")).toBe(head);
    const statuses = sim.requests
      .slice(before)
      .filter((r) => r.route === "/repos/{owner}/{repo}/git/ref/{ref}")
      .map((r) => r.status);
    expect(statuses).toEqual([502, 502, 200]);
  });

  it("waits out a secondary rate limit and says so (plugin-throttling)", async () => {
    const messages: string[] = [];
    sim.failNext("GET /repos/{owner}/{repo}/git/ref/{ref}", 1, 403);
    expect(await forge((m) => messages.push(m)).getBranchSha("main")).toBe(head);
    expect(messages.join("\n")).toContain("secondary rate limit");
  });
});

describe("OctokitForge", () => {
  it("reads absences as absences: a missing branch, file, collaborator or team membership", async () => {
    const github = forge();
    expect(await github.getBranchSha("no-such-branch")).toBeUndefined();
    expect(await github.getFileText("environments/moon.yaml", "main")).toBeUndefined();
    expect(await github.getPermission("nobody")).toBe("none");
    expect(await github.getPermission("rita")).toBe("triage");
    expect(await github.isTeamMember("@acme/release-managers", "dana")).toBe(true);
    expect(await github.isTeamMember("@acme/release-managers", "rita")).toBe(false);
  });

  it("writes check runs with an App's token, and explains GitHub refusing a personal token", async () => {
    sim.addApp("pinline-gate", { permissions: { checks: "write", contents: "read" } });
    const app = new OctokitForge(
      createOctokit({ token: sim.installationToken("pinline-gate"), baseUrl: sim.url }),
      { owner: sim.owner, repo: sim.repo },
    );
    const output = {
      name: "pinline/gate",
      headSha: head,
      title: "waiting",
      summary: "first",
      status: "in_progress" as const,
    };
    const created = await app.createCheckRun(output);
    expect(created).toMatchObject({ status: "in_progress", appSlug: "pinline-gate" });
    await app.updateCheckRun(created.id, { ...output, status: "completed", conclusion: "success" });
    const [listed] = await app.listCheckRuns(head, "pinline/gate");
    expect(listed).toMatchObject({ id: created.id, status: "completed", conclusion: "success" });
    // Only GitHub Apps write check runs (docs.github.com/en/rest/guides/using-the-rest-api-to-interact-with-checks).
    const refused = forge().createCheckRun(output);
    await expect(refused).rejects.toThrow("GitHub refused to write the check run");
    await expect(refused).rejects.toMatchObject({
      hint: expect.stringContaining("only a GitHub App can write check runs"),
    });
  });

  it("reads a commit directly and who pushed it from GitHub's record of pushes", async () => {
    const github = forge();
    const pushed = await sim.commitFiles(
      "pushed-by-rita",
      { "notes/rita.md": "hi\n" },
      { author: "dana", pusher: "rita", message: "Notes\n\nPinline-Retry: 2.4.2" },
    );
    const commit = await github.getCommit(pushed);
    expect(commit).toMatchObject({ sha: pushed, authorLogin: "dana" });
    expect(commit.message).toContain("Pinline-Retry: 2.4.2");
    expect(await github.findPusher("pushed-by-rita", pushed)).toEqual({ login: "rita" });
    expect(await github.findPusher("pushed-by-rita", head)).toEqual({
      unknown: "GitHub has no record of a push of it to pushed-by-rita",
    });
  });

  it("finds the pull requests of a commit, in GitHub's shape", async () => {
    const github = forge();
    await github.setBranch("feature", head);
    await github.putFile({ branch: "feature", path: "notes.md", text: "hi\n", message: "notes" });
    const pull = await github.createPullRequest({
      head: "feature",
      base: "main",
      title: "Notes",
      body: "",
    });
    const { sha } = await github.mergePullRequest(pull.number, "squash");
    const found = await github.listPullRequestsOfCommit(sha);
    expect(found.map((p) => [p.number, p.merged])).toEqual([[pull.number, true]]);
    const validator = createOpenApiValidator();
    const responses = sim.requests.filter(
      (r) => r.route === "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    );
    expect(responses).toHaveLength(1);
    for (const response of responses) expect(validator.check(response)).toBeUndefined();
  });

  it("moves an existing branch instead of failing to create it", async () => {
    const github = forge();
    await github.setBranch("pinline/promote/dev", head);
    const commit = await github.putFile({
      branch: "pinline/promote/dev",
      path: "notes.txt",
      text: "one\n",
      message: "notes",
    });
    expect(await github.getBranchSha("pinline/promote/dev")).toBe(commit);
    await github.setBranch("pinline/promote/dev", head);
    expect(await github.getBranchSha("pinline/promote/dev")).toBe(head);
  });
});
