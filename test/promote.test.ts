/**
 * Promotion PRs and the update-check bot through GitHub (the simulator over real HTTP): one PR
 * per environment, found and updated rather than duplicated, closed when superseded or no
 * longer eligible, auto-merged for autoInstall environments once the gate passes.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GATE_CHECK_NAME, gatePullRequest } from "../src/gate/evaluate-pull-request.js";
import { openPromotion } from "../src/promote/open-promotion.js";
import { runUpdateCheck } from "../src/promote/update-check.js";
import { edit, removeCopies, replaceOnce } from "./harness/example-repo.js";
import { hoursAfter, type PromotionRepo, startPromotionRepo } from "./harness/promotion-repo.js";

const NOW = new Date("2024-03-16T03:00:00Z");

let repo: PromotionRepo;

beforeAll(async () => {
  repo = await startPromotionRepo({
    soakStart: hoursAfter(NOW, -60),
    prepare: (example) => {
      // qa follows beta and installs by itself; dev has run 2.5.0-beta.3 since T0.
      edit(example, "environments/qa.yaml", replaceOnce("channel: early-access", "channel: beta"));
      edit(example, "environments/qa.yaml", replaceOnce("autoInstall: false", "autoInstall: true"));
      edit(
        example,
        "environments/dev.yaml",
        replaceOnce(/^version: ".*"$/m, 'version: "2.5.0-beta.3"'),
      );
    },
  });
  repo.sim.addTeam("acme", "developers", ["erin"]);
});

afterAll(async () => {
  await repo?.close();
  removeCopies();
});

const git = (dir: string, ...args: string[]) =>
  execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" });

function openPulls(head: string) {
  return repo.sim.state.pulls.filter((p) => p.head === head && p.state === "open");
}

describe("pinline promote", () => {
  it("opens a labelled PR that changes only the version line and lists the changelog", async () => {
    const root = repo.checkout();
    const result = await openPromotion({
      root,
      forge: repo.forge,
      environment: "production-majority",
      version: "2.4.1",
    });
    expect(result).toMatchObject({
      action: "created",
      committed: true,
      from: "2.4.0",
      to: "2.4.1",
    });
    const pull = result.pullRequest;
    expect(pull.title).toBe("Promote production-majority to 2.4.1");
    expect(pull.labels).toContain("pinline:promotion");
    expect(pull.body).toContain("**✨ Features**");
    expect(pull.body).toContain("- New diagnostic rules");
    expect(pull.body).toContain("**🔒 Security**");
    expect(pull.body).toContain("#### 2.4.1 — **mandatory**");
    expect(pull.body).toContain("pinline plan production-majority --to 2.4.1 --github");
    const diff = git(repo.sim.bareRepo, "diff", "main", "pinline/promote/production-majority");
    const changed = diff.split("\n").filter((l) => /^[+-][^+-]/.test(l));
    expect(changed).toEqual(['-version: "2.4.0"', '+version: "2.4.1"']);
  });

  it("re-running finds the same PR and leaves its branch alone, so approvals stay valid", async () => {
    const root = repo.checkout();
    const [before] = openPulls("pinline/promote/production-majority");
    await repo.as("alice").rest.pulls.createReview({
      owner: repo.sim.owner,
      repo: repo.sim.repo,
      pull_number: before?.number ?? 0,
      event: "APPROVE",
    });
    const again = await openPromotion({
      root,
      forge: repo.forge,
      environment: "production-majority",
      version: "2.4.1",
    });
    expect(again).toMatchObject({ action: "unchanged", committed: false });
    expect(again.pullRequest.number).toBe(before?.number);
    expect(again.pullRequest.headSha).toBe(before?.headSha);
    expect(openPulls("pinline/promote/production-majority")).toHaveLength(1);
  });

  it("refuses what is not a promotion, saying why", async () => {
    const root = repo.checkout();
    const promote = (environment: string, version: string) =>
      openPromotion({ root, forge: repo.forge, environment, version });
    await expect(promote("production-canary", "2.4.0")).rejects.toThrow(
      "production-canary already runs 2.4.0",
    );
    await expect(promote("production-canary", "9.9.9")).rejects.toThrow(
      "releases/9.9.9 does not exist",
    );
    await expect(promote("moon", "2.4.1")).rejects.toThrow('no environment "moon"');
  });
});

describe("actions/update-check", () => {
  it("keeps one PR per environment: opened once, then updated, never duplicated", async () => {
    const root = repo.checkout();
    const first = await runUpdateCheck({
      root,
      forge: repo.forge,
      now: NOW,
      environments: ["production-partial"],
    });
    expect(first).toMatchObject([
      { environment: "production-partial", action: "opened", version: "2.4.1" },
    ]);
    const soon = await runUpdateCheck({
      root,
      forge: repo.forge,
      now: hoursAfter(NOW, 1),
      environments: ["production-partial"],
    });
    expect(soon[0]).toMatchObject({ action: "not-due", pullRequest: first[0]?.pullRequest });
    const later = await runUpdateCheck({
      root,
      forge: repo.forge,
      now: hoursAfter(NOW, 7),
      environments: ["production-partial"],
    });
    expect(later[0]).toMatchObject({ action: "updated", pullRequest: first[0]?.pullRequest });
    const open = openPulls("pinline/promote/production-partial");
    expect(open).toHaveLength(1);
    expect(open[0]?.body).toContain(`checked-at=${hoursAfter(NOW, 7).toISOString()}`);
  });

  it("closes a superseded PR and opens one for the newer release", async () => {
    const [old] = openPulls("pinline/promote/production-partial");
    const manifest = git(repo.sim.bareRepo, "show", "main:releases/2.4.1/release.yaml");
    await repo.sim.commitFiles("main", {
      "releases/2.4.3/release.yaml": manifest.replaceAll('"2.4.1"', '"2.4.3"'),
    });
    const root = repo.checkout();
    const outcome = await runUpdateCheck({
      root,
      forge: repo.forge,
      now: hoursAfter(NOW, 14),
      environments: ["production-partial"],
    });
    expect(outcome[0]).toMatchObject({ action: "superseded", version: "2.4.3" });
    const closed = repo.sim.state.pulls.find((p) => p.number === old?.number);
    expect(closed?.state).toBe("closed");
    expect(repo.sim.state.comments.find((c) => c.issueNumber === old?.number)?.body).toContain(
      "superseded: 2.4.3 is now the version to promote production-partial to",
    );
    const open = openPulls("pinline/promote/production-partial");
    expect(open).toHaveLength(1);
    expect(open[0]?.title).toBe("Promote production-partial to 2.4.3");
  });

  it("closes a PR whose version is no longer eligible, with the reason", async () => {
    const [pull] = openPulls("pinline/promote/production-partial");
    const policy = git(repo.sim.bareRepo, "show", "main:policies/production.yaml");
    await repo.sim.commitFiles("main", {
      "policies/production.yaml": policy.replace(
        'blockedVersions: ["2.4.2"',
        'blockedVersions: ["2.4.1", "2.4.3", "2.4.2"',
      ),
    });
    const outcome = await runUpdateCheck({
      root: repo.checkout(),
      forge: repo.forge,
      now: hoursAfter(NOW, 21),
      environments: ["production-partial"],
    });
    expect(outcome[0]).toMatchObject({ action: "closed", pullRequest: pull?.number });
    expect(outcome[0]?.reason).toContain("the newest release its channel and policy allow");
    expect(openPulls("pinline/promote/production-partial")).toHaveLength(0);
  });

  it("enables auto-merge for autoInstall; GitHub merges only once the gate passes", async () => {
    const root = repo.checkout();
    const [outcome] = await runUpdateCheck({
      root,
      forge: repo.forge,
      now: NOW,
      environments: ["qa"],
    });
    expect(outcome).toMatchObject({ action: "opened", version: "2.5.0-beta.3", autoMerge: true });
    const number = outcome?.pullRequest ?? 0;
    expect(repo.sim.state.pulls.find((p) => p.number === number)?.autoMerge).not.toBeNull();

    const waiting = await gatePullRequest({ root, forge: repo.forge, number, now: NOW });
    expect(waiting.report.status).toBe("waiting"); // one approval from @acme/developers missing
    expect(await repo.sim.settleAutoMerge([GATE_CHECK_NAME])).toEqual([]);

    await repo.as("erin").rest.pulls.createReview({
      owner: repo.sim.owner,
      repo: repo.sim.repo,
      pull_number: number,
      event: "APPROVE",
    });
    const passed = await gatePullRequest({ root, forge: repo.forge, number, now: NOW });
    expect(passed.report.status).toBe("pass");
    expect(await repo.sim.settleAutoMerge([GATE_CHECK_NAME])).toEqual([number]);
    expect(git(repo.sim.bareRepo, "show", "main:environments/qa.yaml")).toContain(
      'version: "2.5.0-beta.3"',
    );
  });
});
