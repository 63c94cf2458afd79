/**
 * The GitHub simulator, driven only through @octokit/rest as production code drives GitHub,
 * and every response it served checked against GitHub's OpenAPI description at the end.
 */
import { execFileSync } from "node:child_process";
import { createSign } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenApiValidator } from "./harness/github-simulator/openapi.js";
import {
  type GitHubSimulator,
  PINLINE_APP_PERMISSIONS,
  startGitHubSimulator,
} from "./harness/github-simulator.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let sim: GitHubSimulator;
let work: string;
let seedSha: string;
/**
 * Clients per user: `author` opens pull requests, alice and bob review, `reader` may only read;
 * `bot` is an installation token of the "pinline-bot" GitHub App (its bot: pinline-bot[bot]).
 */
let gh: Record<"author" | "alice" | "bob" | "reader" | "maintainer" | "bot", Octokit>;
let repo: { owner: string; repo: string };

function client(token: string): Octokit {
  return new Octokit({ baseUrl: sim.url, auth: token, log: quiet });
}

function git(...args: string[]): string {
  return execFileSync("git", ["-C", sim.bareRepo, ...args], { encoding: "utf8" }).trim();
}

/** The status of a rejected Octokit call (and its message), failing when it did not reject. */
async function failure(call: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await call;
  } catch (error) {
    const { status, message } = error as { status: number; message: string };
    return { status, message };
  }
  throw new Error("expected the request to fail");
}

function text(content: unknown): string {
  const file = content as { content: string; encoding: string };
  expect(file.encoding).toBe("base64");
  return Buffer.from(file.content, "base64").toString("utf8");
}

/** A branch with commits, ready for a pull request against main. */
async function branchWith(branch: string, files: Record<string, string | null>, author = "author") {
  return sim.commitFiles(branch, files, { author, message: `${branch}: change` });
}

beforeAll(async () => {
  sim = await startGitHubSimulator();
  repo = { owner: sim.owner, repo: sim.repo };
  // A clock that ticks one second per reading: distinct, predictable timestamps.
  let now = Date.parse("2024-03-15T10:00:00Z");
  sim.setClock(() => {
    now += 1000;
    return new Date(now);
  });
  sim.addApp("pinline-bot", { permissions: PINLINE_APP_PERMISSIONS });
  gh = {
    author: client(sim.addUser("author")),
    alice: client(sim.addUser("alice")),
    bob: client(sim.addUser("bob", { permission: "admin" })),
    reader: client(sim.addUser("reader", { permission: "read" })),
    maintainer: client(sim.addUser("maintainer", { permission: "maintain" })),
    bot: client(sim.installationToken("pinline-bot")),
  };
  sim.addUser("triager", { permission: "triage" });
  sim.addTeam(sim.owner, "release-managers", ["alice", "bob"]);

  work = mkdtempSync(join(tmpdir(), "github-simulator-test-"));
  const seed = join(work, "seed");
  mkdirSync(join(seed, "releases"), { recursive: true });
  writeFileSync(join(seed, "README.md"), "# releases\n");
  writeFileSync(join(seed, "releases", "app.yaml"), "version: 1.0.0\nchannel: stable\n");
  writeFileSync(join(seed, "releases", "db.yaml"), "version: 3.1.0\n");
  seedSha = await sim.seed(seed);
});

afterAll(async () => {
  await sim?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("GitHub simulator", () => {
  it("serves the repository and moves refs like GitHub (fast-forward unless forced)", async () => {
    const { data: repository } = await gh.author.rest.repos.get(repo);
    expect(repository).toMatchObject({
      full_name: "acme/cm-diagnostics-releases",
      default_branch: "main",
      permissions: { push: true, admin: false },
    });
    expect(git("rev-parse", "main")).toBe(seedSha);

    const { data: main } = await gh.author.rest.git.getRef({ ...repo, ref: "heads/main" });
    expect(main).toMatchObject({
      ref: "refs/heads/main",
      object: { type: "commit", sha: seedSha },
    });

    const created = await gh.author.rest.git.createRef({
      ...repo,
      ref: "refs/heads/refs-test",
      sha: seedSha,
    });
    expect(created.status).toBe(201);
    expect(
      await failure(
        gh.author.rest.git.createRef({ ...repo, ref: "refs/heads/refs-test", sha: seedSha }),
      ),
    ).toMatchObject({
      status: 422,
      message: expect.stringContaining("Reference already exists"),
    });

    const ahead = await branchWith("refs-test", { "notes.txt": "ahead\n" });
    const rewind = { ...repo, ref: "heads/refs-test", sha: seedSha };
    expect(await failure(gh.author.rest.git.updateRef(rewind))).toMatchObject({
      status: 422,
      message: expect.stringContaining("not a fast forward"),
    });
    expect(git("rev-parse", "refs-test")).toBe(ahead);
    await gh.author.rest.git.updateRef({ ...rewind, force: true });
    expect(git("rev-parse", "refs-test")).toBe(seedSha);
    await gh.author.rest.git.updateRef({ ...rewind, sha: ahead });
    expect(git("rev-parse", "refs-test")).toBe(ahead);

    expect((await gh.author.rest.git.deleteRef({ ...repo, ref: "heads/refs-test" })).status).toBe(
      204,
    );
    expect(
      await failure(gh.author.rest.git.getRef({ ...repo, ref: "heads/refs-test" })),
    ).toMatchObject({ status: 404 });
    expect(
      await failure(gh.author.rest.git.deleteRef({ ...repo, ref: "heads/refs-test" })),
    ).toMatchObject({ status: 422 });
  });

  it("reads and writes contents with real commits and blob-sha checks", async () => {
    const { data: readme } = await gh.author.rest.repos.getContent({ ...repo, path: "README.md" });
    expect(text(readme)).toBe("# releases\n");
    expect((readme as { sha: string }).sha).toBe(git("rev-parse", "main:README.md"));

    const { data: dir } = await gh.author.rest.repos.getContent({ ...repo, path: "releases" });
    expect(
      (dir as { name: string; type: string }[]).map((entry) => [entry.name, entry.type]),
    ).toEqual([
      ["app.yaml", "file"],
      ["db.yaml", "file"],
    ]);
    expect(
      await failure(gh.author.rest.repos.getContent({ ...repo, path: "missing.yaml" })),
    ).toMatchObject({
      status: 404,
    });

    await branchWith("contents", { "releases/app.yaml": "version: 1.1.0\nchannel: stable\n" });
    const blob = git("rev-parse", "contents:releases/app.yaml");
    const put = (content: string, sha?: string) =>
      gh.maintainer.rest.repos.createOrUpdateFileContents({
        ...repo,
        path: "releases/app.yaml",
        branch: "contents",
        message: "Promote app to 1.2.0",
        content: Buffer.from(content).toString("base64"),
        ...(sha ? { sha } : {}),
      });
    expect(await failure(put("version: 1.2.0\n"))).toMatchObject({ status: 422 });
    expect(
      await failure(put("version: 1.2.0\n", git("rev-parse", "main:releases/app.yaml"))),
    ).toMatchObject({
      status: 409,
      message: expect.stringContaining("does not match"),
    });
    const updated = await put("version: 1.2.0\n", blob);
    expect(updated.status).toBe(200);
    expect(updated.data.commit.sha).toBe(git("rev-parse", "contents"));
    expect(git("show", "contents:releases/app.yaml")).toBe("version: 1.2.0");
    // GitHub's web commits carry the account's id+login noreply address.
    const maintainerId = sim.state.users.get("maintainer")?.id;
    expect(git("log", "-1", "--format=%an <%ae>|%cn|%s", "contents")).toBe(
      `maintainer <${maintainerId}+maintainer@users.noreply.github.com>|maintainer|Promote app to 1.2.0`,
    );

    const createdFile = await gh.maintainer.rest.repos.createOrUpdateFileContents({
      ...repo,
      path: "releases/new/service.yaml",
      branch: "contents",
      message: "Add service",
      content: Buffer.from("version: 0.1.0\n").toString("base64"),
    });
    expect(createdFile.status).toBe(201);
    const { data: atRef } = await gh.author.rest.repos.getContent({
      ...repo,
      path: "releases/new/service.yaml",
      ref: "contents",
    });
    expect(text(atRef)).toBe("version: 0.1.0\n");

    expect(
      await failure(
        gh.reader.rest.repos.createOrUpdateFileContents({
          ...repo,
          path: "x.txt",
          message: "no",
          content: "eA==",
        }),
      ),
    ).toMatchObject({ status: 403 });
  });

  it("serves commits, single and listed (by ref and path), paginated through Link", async () => {
    for (const version of ["2.0.0", "2.1.0", "2.2.0"]) {
      await branchWith("history", { "releases/db.yaml": `version: ${version}\n` }, "alice");
    }
    await branchWith("history", { "README.md": "# releases (history)\n" });
    const tip = git("rev-parse", "history");

    const { data: single } = await gh.author.rest.repos.getCommit({ ...repo, ref: "history" });
    expect(single.sha).toBe(tip);
    expect(single.author?.login).toBe("author");
    expect(single.files?.map((file) => [file.filename, file.status])).toEqual([
      ["README.md", "modified"],
    ]);

    const { data: dbCommits } = await gh.author.rest.repos.listCommits({
      ...repo,
      sha: "history",
      path: "releases/db.yaml",
    });
    expect(dbCommits.map((commit) => commit.commit.message)).toEqual([
      "history: change",
      "history: change",
      "history: change",
      "Initial commit",
    ]);
    expect(dbCommits[0]?.author?.login).toBe("alice");
    expect(dbCommits[3]?.author).toBeNull();

    const all = await gh.author.paginate(gh.author.rest.repos.listCommits, {
      ...repo,
      sha: "history",
      per_page: 2,
    });
    expect(all.map((commit) => commit.sha)).toEqual(git("rev-list", "history").split("\n"));
    expect(all).toHaveLength(5);
    expect(
      await failure(gh.author.rest.repos.getCommit({ ...repo, ref: "no-such-branch" })),
    ).toMatchObject({
      status: 422,
    });
  });

  it("runs a pull request from opening to a squash merge", async () => {
    await branchWith("release/app-1.3.0", {
      "releases/app.yaml": "version: 1.3.0\nchannel: stable\n",
      "releases/db.yaml": null,
      "releases/api.yaml": "version: 0.9.0\n",
    });
    const { data: opened } = await gh.author.rest.pulls.create({
      ...repo,
      title: "Release app 1.3.0",
      head: "release/app-1.3.0",
      base: "main",
      body: "Promotes app.",
    });
    expect(opened).toMatchObject({
      number: expect.any(Number),
      state: "open",
      user: { login: "author" },
      head: { ref: "release/app-1.3.0", sha: git("rev-parse", "release/app-1.3.0") },
      base: { ref: "main", sha: seedSha },
      html_url: `https://github.com/acme/cm-diagnostics-releases/pull/${opened.number}`,
      mergeable: true,
      changed_files: 3,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const pull = { ...repo, pull_number: opened.number };

    const duplicate = await failure(
      gh.author.rest.pulls.create({
        ...repo,
        title: "again",
        head: "release/app-1.3.0",
        base: "main",
      }),
    );
    expect(duplicate).toMatchObject({
      status: 422,
      message: expect.stringContaining("A pull request already exists for acme:release/app-1.3.0."),
    });

    const { data: listed } = await gh.author.rest.pulls.list({
      ...repo,
      head: "acme:release/app-1.3.0",
      base: "main",
    });
    expect(listed.map((item) => item.number)).toEqual([opened.number]);

    const { data: files } = await gh.author.rest.pulls.listFiles(pull);
    expect(
      files.map((file) => [file.filename, file.status, file.additions, file.deletions]),
    ).toEqual([
      ["releases/api.yaml", "added", 1, 0],
      ["releases/app.yaml", "modified", 1, 1],
      ["releases/db.yaml", "removed", 0, 1],
    ]);
    expect(files[1]?.patch).toContain("+version: 1.3.0");

    // The head follows the branch.
    const second = await branchWith("release/app-1.3.0", { "CHANGELOG.md": "1.3.0\n" });
    const { data: moved } = await gh.author.rest.pulls.get(pull);
    expect(moved.head.sha).toBe(second);
    const { data: commits } = await gh.author.rest.pulls.listCommits(pull);
    expect(commits.map((commit) => commit.sha)).toEqual([
      git("rev-parse", "release/app-1.3.0~1"),
      second,
    ]);
    expect(commits[0]?.author?.login).toBe("author");

    const { data: edited } = await gh.author.rest.pulls.update({
      ...pull,
      title: "Release app 1.3.0 (final)",
      body: "Ready.",
    });
    expect(edited).toMatchObject({ title: "Release app 1.3.0 (final)", body: "Ready." });

    // Reviews: never your own; a dismissed review stays listed as DISMISSED.
    expect(
      await failure(gh.author.rest.pulls.createReview({ ...pull, event: "APPROVE" })),
    ).toMatchObject({
      status: 422,
      message: expect.stringContaining("Can not approve your own pull request"),
    });
    const { data: approval } = await gh.alice.rest.pulls.createReview({
      ...pull,
      event: "APPROVE",
      body: "LGTM",
    });
    expect(approval).toMatchObject({
      state: "APPROVED",
      commit_id: second,
      user: { login: "alice" },
    });
    const { data: objection } = await gh.bob.rest.pulls.createReview({
      ...pull,
      event: "REQUEST_CHANGES",
      body: "Wait for the freeze to end.",
    });
    const { data: dismissed } = await gh.bob.rest.pulls.dismissReview({
      ...pull,
      review_id: objection.id,
      message: "Freeze is over.",
    });
    expect(dismissed.state).toBe("DISMISSED");
    await gh.reader.rest.pulls.createReview({
      ...pull,
      event: "COMMENT",
      body: "Looks fine to me.",
    });
    const { data: reviews } = await gh.author.rest.pulls.listReviews(pull);
    expect(reviews.map((review) => [review.user?.login, review.state])).toEqual([
      ["alice", "APPROVED"],
      ["bob", "DISMISSED"],
      ["reader", "COMMENTED"],
    ]);
    expect(reviews[0]?.submitted_at).toMatch(/Z$/);

    // Labels: created on first use, carried by the pull request, removable.
    await gh.maintainer.rest.issues.createLabel({
      ...repo,
      name: "release",
      color: "0e8a16",
      description: "A release",
    });
    const { data: labels } = await gh.author.rest.issues.addLabels({
      ...repo,
      issue_number: opened.number,
      labels: ["release", "needs-gate"],
    });
    expect(labels.map((label) => label.name)).toEqual(["release", "needs-gate"]);
    const { data: label } = await gh.author.rest.issues.getLabel({ ...repo, name: "needs-gate" });
    expect(label).toMatchObject({ name: "needs-gate", color: "ededed" });
    const { data: remaining } = await gh.author.rest.issues.removeLabel({
      ...repo,
      issue_number: opened.number,
      name: "needs-gate",
    });
    expect(remaining.map((item) => item.name)).toEqual(["release"]);
    expect((await gh.author.rest.pulls.get(pull)).data.labels.map((item) => item.name)).toEqual([
      "release",
    ]);
    expect(await failure(gh.author.rest.issues.getLabel({ ...repo, name: "nope" }))).toMatchObject({
      status: 404,
    });

    // Comments, edited in place (the bot's status comment pattern).
    const { data: comment } = await gh.bot.rest.issues.createComment({
      ...repo,
      issue_number: opened.number,
      body: "Gate: pending",
    });
    await gh.bot.rest.issues.updateComment({
      ...repo,
      comment_id: comment.id,
      body: "Gate: passed",
    });
    const { data: comments } = await gh.author.rest.issues.listComments({
      ...repo,
      issue_number: opened.number,
    });
    expect(comments.map((item) => [item.user?.login, item.body])).toEqual([
      ["pinline-bot[bot]", "Gate: passed"],
    ]);
    expect(
      await failure(
        gh.reader.rest.issues.updateComment({ ...repo, comment_id: comment.id, body: "x" }),
      ),
    ).toMatchObject({ status: 403 });

    expect(
      await failure(gh.reader.rest.pulls.merge({ ...pull, merge_method: "squash" })),
    ).toMatchObject({ status: 403 });
    const { data: merge } = await gh.maintainer.rest.pulls.merge({
      ...pull,
      merge_method: "squash",
    });
    expect(merge.merged).toBe(true);
    expect(git("rev-parse", "main")).toBe(merge.sha);
    expect(git("rev-parse", "main~1")).toBe(seedSha);
    expect(git("show", "main:releases/app.yaml")).toBe("version: 1.3.0\nchannel: stable");
    expect(git("log", "-1", "--format=%s|%an|%cn", "main")).toBe(
      `Release app 1.3.0 (final) (#${opened.number})|author|GitHub`,
    );
    const { data: closed } = await gh.author.rest.pulls.get(pull);
    expect(closed).toMatchObject({
      state: "closed",
      merged: true,
      merge_commit_sha: merge.sha,
      merged_by: { login: "maintainer" },
    });
    expect(await failure(gh.maintainer.rest.pulls.merge(pull))).toMatchObject({ status: 405 });
  });

  it("refuses to merge conflicting pull requests (405) and merges with merge commits and rebase", async () => {
    await branchWith("conflict-a", { "releases/app.yaml": "version: 9.0.0-a\n" });
    await branchWith("conflict-b", { "releases/app.yaml": "version: 9.0.0-b\n" });
    const { data: a } = await gh.author.rest.pulls.create({
      ...repo,
      title: "A",
      head: "conflict-a",
      base: "main",
    });
    const { data: b } = await gh.author.rest.pulls.create({
      ...repo,
      title: "B",
      head: "conflict-b",
      base: "main",
    });
    await gh.bob.rest.pulls.merge({ ...repo, pull_number: a.number, merge_method: "merge" });
    expect(git("rev-list", "--parents", "-1", "main").split(" ")).toHaveLength(3);
    const { data: blocked } = await gh.author.rest.pulls.get({ ...repo, pull_number: b.number });
    expect(blocked).toMatchObject({ mergeable: false, mergeable_state: "dirty" });
    expect(
      await failure(
        gh.bob.rest.pulls.merge({ ...repo, pull_number: b.number, merge_method: "squash" }),
      ),
    ).toMatchObject({
      status: 405,
    });
    await gh.bob.rest.pulls.update({ ...repo, pull_number: b.number, state: "closed" });
    const { data: reopened } = await gh.bob.rest.pulls.update({
      ...repo,
      pull_number: b.number,
      state: "open",
    });
    expect(reopened.state).toBe("open");
    // Deleting a pull request's head branch closes it, as on GitHub.
    await gh.bob.rest.git.deleteRef({ ...repo, ref: "heads/conflict-b" });
    expect(sim.state.pulls.find((item) => item.number === b.number)?.state).toBe("closed");

    await branchWith("rebased", { "one.txt": "1\n" });
    await branchWith("rebased", { "two.txt": "2\n" });
    const { data: r } = await gh.author.rest.pulls.create({
      ...repo,
      title: "R",
      head: "rebased",
      base: "main",
    });
    const before = git("rev-parse", "main");
    const { data: merged } = await gh.bob.rest.pulls.merge({
      ...repo,
      pull_number: r.number,
      merge_method: "rebase",
    });
    expect(git("rev-parse", `${merged.sha}~2`)).toBe(before);
    expect(git("show", "main:two.txt")).toBe("2");
  });

  it("keeps check runs and commit statuses per commit", async () => {
    const sha = await branchWith("checks", { "releases/app.yaml": "version: 1.4.0\n" });
    const { data: run } = await gh.bot.rest.checks.create({
      ...repo,
      name: "pinline/gate",
      head_sha: sha,
      status: "in_progress",
      external_id: "gate-1",
      output: { title: "Gate", summary: "Evaluating" },
    });
    expect(run).toMatchObject({
      status: "in_progress",
      conclusion: null,
      app: { slug: "pinline-bot" },
    });
    expect(run.started_at).toMatch(/^2024-03-15T/);
    const { data: done } = await gh.bot.rest.checks.update({
      ...repo,
      check_run_id: run.id,
      conclusion: "success",
      output: { title: "Gate passed", summary: "All rules hold", text: "details" },
    });
    expect(done).toMatchObject({
      status: "completed",
      conclusion: "success",
      output: { title: "Gate passed" },
    });
    expect(done.completed_at).toMatch(/Z$/);
    await gh.bot.rest.checks.create({
      ...repo,
      name: "pinline/gate",
      head_sha: sha,
      status: "queued",
    });
    await gh.bot.rest.checks.create({
      ...repo,
      name: "lint",
      head_sha: sha,
      status: "completed",
      conclusion: "failure",
    });
    expect(
      (await gh.author.rest.checks.get({ ...repo, check_run_id: run.id })).data.conclusion,
    ).toBe("success");

    const latest = await gh.author.rest.checks.listForRef({ ...repo, ref: "checks" });
    expect(latest.data.total_count).toBe(2);
    expect(latest.data.check_runs.map((item) => [item.name, item.status])).toEqual([
      ["lint", "completed"],
      ["pinline/gate", "queued"],
    ]);
    const gateRuns = await gh.author.rest.checks.listForRef({
      ...repo,
      ref: sha,
      check_name: "pinline/gate",
      filter: "all",
    });
    expect(gateRuns.data.check_runs.map((item) => item.id)).toContain(run.id);
    expect(gateRuns.data.total_count).toBe(2);
    expect(
      await failure(gh.bot.rest.checks.create({ ...repo, name: "x", head_sha: "f".repeat(40) })),
    ).toMatchObject({
      status: 422,
    });

    await gh.bot.rest.repos.createCommitStatus({
      ...repo,
      sha,
      state: "pending",
      context: "ci/build",
    });
    await gh.bot.rest.repos.createCommitStatus({
      ...repo,
      sha,
      state: "success",
      context: "ci/build",
      target_url: "https://ci.example.com/1",
      description: "built",
    });
    await gh.bot.rest.repos.createCommitStatus({
      ...repo,
      sha,
      state: "success",
      context: "ci/test",
    });
    const { data: statuses } = await gh.author.rest.repos.listCommitStatusesForRef({
      ...repo,
      ref: "checks",
    });
    expect(statuses.map((status) => [status.context, status.state])).toEqual([
      ["ci/test", "success"],
      ["ci/build", "success"],
      ["ci/build", "pending"],
    ]);
    const { data: combined } = await gh.author.rest.repos.getCombinedStatusForRef({
      ...repo,
      ref: sha,
    });
    expect(combined).toMatchObject({ state: "success", total_count: 2, sha });
  });

  it("records deployments and their statuses, marking earlier successes inactive", async () => {
    const sha = git("rev-parse", "main");
    const deploy = async (environment: string) => {
      const { data, status } = await gh.bot.rest.repos.createDeployment({
        ...repo,
        ref: "main",
        environment,
        task: "deploy",
        payload: { version: "1.3.0" },
        description: "Deploy app 1.3.0",
        auto_merge: false,
        required_contexts: [],
      });
      expect(status).toBe(201);
      if (!("id" in data)) throw new Error("no deployment");
      return data;
    };
    const first = await deploy("staging");
    expect(first).toMatchObject({
      sha,
      ref: "main",
      environment: "staging",
      payload: { version: "1.3.0" },
      production_environment: false,
    });
    await gh.bot.rest.repos.createDeploymentStatus({
      ...repo,
      deployment_id: first.id,
      state: "in_progress",
    });
    await gh.bot.rest.repos.createDeploymentStatus({
      ...repo,
      deployment_id: first.id,
      state: "success",
      log_url: "https://ci.example.com/deploy/1",
      environment_url: "https://staging.example.com",
    });
    const second = await deploy("staging");
    const production = await deploy("production");
    expect(production.production_environment).toBe(true);
    await gh.bot.rest.repos.createDeploymentStatus({
      ...repo,
      deployment_id: second.id,
      state: "success",
    });

    const { data: firstStatuses } = await gh.author.rest.repos.listDeploymentStatuses({
      ...repo,
      deployment_id: first.id,
    });
    expect(firstStatuses.map((status) => status.state)).toEqual([
      "inactive",
      "success",
      "in_progress",
    ]);
    expect(firstStatuses[1]).toMatchObject({
      log_url: "https://ci.example.com/deploy/1",
      environment_url: "https://staging.example.com",
    });

    const { data: staging } = await gh.author.rest.repos.listDeployments({
      ...repo,
      environment: "staging",
    });
    expect(staging.map((deployment) => deployment.id)).toEqual([second.id, first.id]);
    expect(
      (await gh.author.rest.repos.getDeployment({ ...repo, deployment_id: production.id })).data
        .environment,
    ).toBe("production");
    expect(
      await failure(gh.author.rest.repos.getDeployment({ ...repo, deployment_id: 999_999 })),
    ).toMatchObject({ status: 404 });

    // Without required_contexts: [] every context of the commit must have passed.
    const failing = await branchWith("deploy-gate", { "gate.txt": "x\n" });
    await gh.bot.rest.repos.createCommitStatus({
      ...repo,
      sha: failing,
      state: "failure",
      context: "ci/test",
    });
    expect(
      await failure(
        gh.bot.rest.repos.createDeployment({
          ...repo,
          ref: failing,
          environment: "staging",
          auto_merge: false,
        }),
      ),
    ).toMatchObject({ status: 409 });

    // auto_merge (the default) first merges main into a stale branch and asks for a retry.
    await gh.author.rest.git.createRef({ ...repo, ref: "refs/heads/stale", sha: seedSha });
    await branchWith("stale", { "stale.txt": "stale\n" });
    const merging = await gh.bot.rest.repos.createDeployment({
      ...repo,
      ref: "stale",
      environment: "review",
      required_contexts: [],
    });
    expect(merging).toMatchObject({
      status: 202,
      data: { message: "Auto-merged main into stale on deployment." },
    });
    expect(git("merge-base", "--is-ancestor", "main", "stale")).toBe("");
    const retried = await gh.bot.rest.repos.createDeployment({
      ...repo,
      ref: "stale",
      environment: "review",
      required_contexts: [],
    });
    expect(retried.status).toBe(201);
  });

  it("enables auto-merge through GraphQL and settles it once the required checks pass", async () => {
    const sha = await branchWith("auto", {
      "releases/app.yaml": "version: 1.5.0\nchannel: stable\n",
    });
    const { data: opened } = await gh.author.rest.pulls.create({
      ...repo,
      title: "Auto 1.5.0",
      head: "auto",
      base: "main",
    });
    const result = await gh.bot.graphql<{
      enablePullRequestAutoMerge: {
        pullRequest: {
          number: number;
          autoMergeRequest: { mergeMethod: string; enabledAt: string };
        };
      };
    }>(
      `mutation($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) {
        enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod}) {
          pullRequest { number autoMergeRequest { enabledAt mergeMethod } }
        }
      }`,
      { pullRequestId: opened.node_id, mergeMethod: "SQUASH" },
    );
    expect(result.enablePullRequestAutoMerge.pullRequest).toMatchObject({
      number: opened.number,
      autoMergeRequest: { mergeMethod: "SQUASH" },
    });
    const { data: armed } = await gh.author.rest.pulls.get({ ...repo, pull_number: opened.number });
    expect(armed.auto_merge).toMatchObject({
      merge_method: "squash",
      enabled_by: { login: "pinline-bot[bot]" },
    });

    // A second pull request, armed then disarmed, is left alone.
    await branchWith("auto-off", { "off.txt": "off\n" });
    const { data: other } = await gh.author.rest.pulls.create({
      ...repo,
      title: "Off",
      head: "auto-off",
      base: "main",
    });
    await gh.bot.graphql(
      `mutation { enablePullRequestAutoMerge(input: {pullRequestId: "${other.node_id}", mergeMethod: MERGE}) { clientMutationId } }`,
    );
    await gh.bot.graphql(
      "mutation($input: DisablePullRequestAutoMergeInput!) { disablePullRequestAutoMerge(input: $input) { clientMutationId } }",
      { input: { pullRequestId: other.node_id } },
    );
    expect(
      (await gh.author.rest.pulls.get({ ...repo, pull_number: other.number })).data.auto_merge,
    ).toBeNull();
    await expect(gh.bot.graphql("query { viewer { login } }")).rejects.toThrow(/does not support/);

    expect(await sim.settleAutoMerge(["pinline/gate"])).toEqual([]);
    await gh.bot.rest.checks.create({
      ...repo,
      name: "pinline/gate",
      head_sha: sha,
      conclusion: "success",
    });
    expect(await sim.settleAutoMerge(["pinline/gate"])).toEqual([opened.number]);
    expect(git("show", "main:releases/app.yaml")).toBe("version: 1.5.0\nchannel: stable");
    const { data: merged } = await gh.author.rest.pulls.get({
      ...repo,
      pull_number: opened.number,
    });
    expect(merged).toMatchObject({
      merged: true,
      state: "closed",
      merged_by: { login: "pinline-bot[bot]" },
    });
    expect(sim.state.pulls.find((pull) => pull.number === other.number)?.state).toBe("open");
  });

  it("answers permission and team-membership questions", async () => {
    const level = (username: string) =>
      gh.bot.rest.repos.getCollaboratorPermissionLevel({ ...repo, username });
    expect((await level("bob")).data).toMatchObject({ permission: "admin", role_name: "admin" });
    expect((await level("maintainer")).data).toMatchObject({
      permission: "write",
      role_name: "maintain",
    });
    expect((await level("triager")).data).toMatchObject({
      permission: "read",
      role_name: "triage",
    });
    expect((await level("reader")).data).toMatchObject({
      permission: "read",
      user: { login: "reader" },
    });
    expect(await failure(level("nobody"))).toMatchObject({ status: 404 });

    const membership = (username: string) =>
      gh.bot.rest.teams.getMembershipForUserInOrg({
        org: "acme",
        team_slug: "release-managers",
        username,
      });
    expect((await membership("alice")).data).toMatchObject({ state: "active", role: "member" });
    expect(await failure(membership("author"))).toMatchObject({ status: 404 });
  });

  it("authenticates every request and answers unknown routes like GitHub", async () => {
    const anonymous = new Octokit({ baseUrl: sim.url, log: quiet });
    expect(await failure(anonymous.rest.repos.get(repo))).toMatchObject({ status: 401 });
    expect(await failure(client("ghp_wrong").rest.repos.get(repo))).toMatchObject({
      status: 401,
      message: expect.stringContaining("Bad credentials"),
    });
    expect(
      await failure(gh.author.request("GET /repos/{owner}/{repo}/nothing-here", repo)),
    ).toMatchObject({ status: 404 });
    expect(await failure(gh.author.rest.repos.get({ owner: "acme", repo: "other" }))).toMatchObject(
      { status: 404 },
    );
    // GHES-style base URL works too.
    const ghes = new Octokit({
      baseUrl: `${sim.url}/api/v3`,
      auth: sim.addUser("author"),
      log: quiet,
    });
    expect((await ghes.rest.repos.get(repo)).data.name).toBe(sim.repo);
  });

  it("paginates pull requests with Link headers", async () => {
    for (const name of ["page-1", "page-2", "page-3"]) {
      await branchWith(name, { [`${name}.txt`]: `${name}\n` });
      await gh.author.rest.pulls.create({ ...repo, title: name, head: name, base: "main" });
    }
    const first = await gh.author.rest.pulls.list({ ...repo, per_page: 2 });
    expect(first.headers.link).toMatch(/rel="next".*rel="last"/);
    const all = await gh.author.paginate(gh.author.rest.pulls.list, {
      ...repo,
      state: "all",
      per_page: 2,
    });
    expect(all.map((pull) => pull.number)).toEqual(
      [...sim.state.pulls].map((pull) => pull.number).sort((a, b) => b - a),
    );
    expect(new Set(all.map((pull) => pull.number)).size).toBe(sim.state.pulls.length);
  });

  // The App endpoints actions/create-github-app-token calls
  // (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app),
  // rulesets (https://docs.github.com/en/rest/repos/rules) and the activity log
  // (https://docs.github.com/en/rest/repos/repos#list-repository-activities); their rules are
  // tested in github-simulator-security.test.ts.
  it("serves GitHub Apps' endpoints, rulesets and the activity log", async () => {
    const app = sim.addApp("minter", {
      permissions: { contents: "read", administration: "write" },
    });
    const seconds = Math.floor(Date.now() / 1000);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iat: seconds - 60, exp: seconds + 540, iss: app.id })}`;
    const signature = createSign("RSA-SHA256").update(unsigned).sign(app.privateKey, "base64url");
    const asApp = client(`${unsigned}.${signature}`);
    expect((await asApp.rest.apps.getAuthenticated()).data?.slug).toBe("minter");
    const { data: installation } = await asApp.rest.apps.getRepoInstallation(repo);
    expect(installation.id).toBe(app.installationId);
    expect((await asApp.rest.apps.getUserInstallation({ username: sim.owner })).data.app_slug).toBe(
      "minter",
    );
    const { data: minted } = await asApp.rest.apps.createInstallationAccessToken({
      installation_id: installation.id,
      repositories: [sim.repo],
    });
    const minter = client(minted.token);

    const { data: ruleset } = await minter.rest.repos.createRepoRuleset({
      ...repo,
      name: "releases",
      enforcement: "active",
      conditions: { ref_name: { include: ["refs/heads/release/**"], exclude: [] } },
      rules: [{ type: "deletion" }],
    });
    expect((await minter.rest.repos.getRepoRulesets(repo)).data.map((r) => r.id)).toEqual([
      ruleset.id,
    ]);
    expect(
      (await minter.rest.repos.getRepoRuleset({ ...repo, ruleset_id: ruleset.id })).data.name,
    ).toBe("releases");
    const { data: rules } = await minter.rest.repos.getBranchRules({
      ...repo,
      branch: "release/app-1.3.0",
    });
    expect(rules).toEqual([expect.objectContaining({ type: "deletion", ruleset_id: ruleset.id })]);

    const { data: activity } = await minter.rest.repos.listActivities({
      ...repo,
      ref: "main",
      per_page: 2,
    });
    expect(activity[0]).toMatchObject({ ref: "refs/heads/main", after: git("rev-parse", "main") });
    expect((await minter.rest.apps.revokeInstallationAccessToken()).status).toBe(204);
  });

  it("clones the bare repository for code that reads local git", () => {
    const target = join(work, "clone");
    sim.clone(target);
    expect(readFileSync(join(target, "releases", "app.yaml"), "utf8")).toBe(
      "version: 1.5.0\nchannel: stable\n",
    );
    const log = execFileSync("git", ["-C", target, "rev-list", "--count", "HEAD"], {
      encoding: "utf8",
    });
    expect(Number(log)).toBeGreaterThan(3);
  });

  it("injects faults that Octokit's retry and throttling plugins recover from", async () => {
    const token = sim.addUser("author");
    const RetryingOctokit = Octokit.plugin(retry);
    const retrying = new RetryingOctokit({
      baseUrl: sim.url,
      auth: token,
      log: quiet,
      retry: { retryAfterBaseValue: 10 },
    });
    const route = "/repos/{owner}/{repo}/pulls/{pull_number}";
    const served = (since: number) =>
      sim.requests
        .slice(since)
        .filter((r) => r.route === route)
        .map((r) => r.status);

    // Without the plugin the fault reaches the caller...
    sim.failNext(`GET ${route}`, 1, 502);
    expect(await failure(gh.author.rest.pulls.get({ ...repo, pull_number: 1 }))).toMatchObject({
      status: 502,
    });
    // ...with it, two bad gateways are retried away: the server saw three attempts.
    sim.failNext(`GET ${route}`, 2, 502);
    const before = sim.requests.length;
    const { data } = await retrying.rest.pulls.get({ ...repo, pull_number: 1 });
    expect(data.number).toBe(1);
    expect(served(before)).toEqual([502, 502, 200]);

    const ThrottledOctokit = Octokit.plugin(throttling);
    const limited: number[] = [];
    const throttled = new ThrottledOctokit({
      baseUrl: sim.url,
      auth: token,
      log: quiet,
      throttle: {
        retryAfterBaseValue: 10,
        onRateLimit: () => false,
        onSecondaryRateLimit: (retryAfter: number) => {
          limited.push(retryAfter);
          return true;
        },
      },
    });
    sim.failNext("/repos/{owner}/{repo}", 1, 403);
    expect((await throttled.rest.repos.get(repo)).data.name).toBe(sim.repo);
    expect(limited).toEqual([1]);
  });

  it("served only responses that match GitHub's OpenAPI description, on every endpoint", () => {
    const validator = createOpenApiValidator();
    const rest = sim.requests.filter((response) => response.route !== "/graphql");
    const problems = rest.flatMap((response) => validator.check(response) ?? []);
    expect(problems).toEqual([]);

    // The validator does reject a wrong shape (so the check above is not vacuous).
    const pull = rest.find(
      (r) => r.route === "/repos/{owner}/{repo}/pulls/{pull_number}" && r.status === 200,
    );
    const broken = { ...(pull?.body as Record<string, unknown>), head: { ref: 1 } };
    expect(
      validator.check({ method: "GET", route: pull?.route ?? "", status: 200, body: broken }),
    ).toMatch(/head/);

    const covered = new Set(sim.requests.map((response) => `${response.method} ${response.route}`));
    const missing = ENDPOINTS.filter((endpoint) => !covered.has(endpoint));
    expect(missing).toEqual([]);
    for (const endpoint of ENDPOINTS.filter((e) => e !== "POST /graphql")) {
      const [method = "", route = ""] = endpoint.split(" ");
      expect(validator.hasOperation(method, route), endpoint).toBe(true);
    }
  });
});

/** Every endpoint the simulator promises, each of which the tests above must have called. */
const ENDPOINTS = [
  "GET /repos/{owner}/{repo}",
  "GET /repos/{owner}/{repo}/git/ref/{ref}",
  "POST /repos/{owner}/{repo}/git/refs",
  "PATCH /repos/{owner}/{repo}/git/refs/{ref}",
  "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
  "GET /repos/{owner}/{repo}/contents/{path}",
  "PUT /repos/{owner}/{repo}/contents/{path}",
  "GET /repos/{owner}/{repo}/commits/{ref}",
  "GET /repos/{owner}/{repo}/commits",
  "GET /repos/{owner}/{repo}/pulls",
  "POST /repos/{owner}/{repo}/pulls",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}",
  "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
  "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/files",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
  "POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
  "PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals",
  "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
  "GET /orgs/{org}/teams/{team_slug}/memberships/{username}",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
  "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
  "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
  "GET /repos/{owner}/{repo}/labels/{name}",
  "POST /repos/{owner}/{repo}/labels",
  "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
  "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
  "POST /repos/{owner}/{repo}/check-runs",
  "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
  "GET /repos/{owner}/{repo}/check-runs/{check_run_id}",
  "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
  "POST /repos/{owner}/{repo}/statuses/{sha}",
  "GET /repos/{owner}/{repo}/commits/{ref}/statuses",
  "GET /repos/{owner}/{repo}/commits/{ref}/status",
  "POST /repos/{owner}/{repo}/deployments",
  "GET /repos/{owner}/{repo}/deployments",
  "GET /repos/{owner}/{repo}/deployments/{deployment_id}",
  "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
  "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
  "GET /app",
  "GET /repos/{owner}/{repo}/installation",
  "GET /users/{username}/installation",
  "POST /app/installations/{installation_id}/access_tokens",
  "DELETE /installation/token",
  "POST /repos/{owner}/{repo}/rulesets",
  "GET /repos/{owner}/{repo}/rulesets",
  "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}",
  "GET /repos/{owner}/{repo}/rules/branches/{branch}",
  "GET /repos/{owner}/{repo}/activity",
  "POST /graphql",
];
