/**
 * Pull requests and their reviews. Bases are branches of the repository; heads are its
 * branches or a fork's ("owner:branch"). Diffs, commit lists and merges come from git.
 */
import { GITHUB_ACTIONS } from "./apps.js";
import type { SimulatorCore } from "./core.js";
import {
  integerParam,
  listReply,
  notFound,
  optionalBoolean,
  optionalEnum,
  optionalString,
  type Reply,
  type RequestContext,
  type Router,
  requiredString,
  unprocessable,
  validationFailed,
} from "./http.js";
import { commitJson, diffEntryJson, pullJson, reviewJson } from "./json.js";
import { nodeId, type PullRequest, type Review, type ReviewState } from "./model.js";

const MAX_FILES = 3000;
const MAX_COMMITS = 250;

export function registerPullRoutes(router: Router, core: SimulatorCore): void {
  const base = "/repos/{owner}/{repo}/pulls";
  router.add("GET", base, (request) => listPulls(core, request));
  router.add("POST", base, (request) => createPull(core, request));
  router.add("GET", `${base}/{pull_number}`, (request) => ({
    status: 200,
    body: pullJson(core, core.findPull(integerParam(request, "pull_number")), true),
  }));
  router.add("PATCH", `${base}/{pull_number}`, (request) => updatePull(core, request));
  router.add("PUT", `${base}/{pull_number}/merge`, (request) => mergePull(core, request));
  // "Responses include a maximum of 3000 files" (docs.github.com/en/rest/pulls/pulls#list-pull-requests-files).
  router.add("GET", `${base}/{pull_number}/files`, (request) => {
    const pull = core.findPull(integerParam(request, "pull_number"));
    const from = core.git.mergeBase(pull.baseSha, pull.headSha) ?? pull.baseSha;
    const files = core.git.diff(from, pull.headSha, { patches: false }).slice(0, MAX_FILES);
    const patchCache = new Map<readonly unknown[], Map<string, string>>();
    // Patches only for the page served, in one git call.
    return listReply(request, files, (file, page) => {
      const patches = patchCache.get(page) ?? core.git.patchesOf(from, pull.headSha, page);
      patchCache.set(page, patches);
      const patch = file.binary ? undefined : patches.get(file.path);
      return diffEntryJson(core, pull.headSha, patch === undefined ? file : { ...file, patch });
    });
  });
  // "Lists a maximum of 250 commits for a pull request"
  // (docs.github.com/en/rest/pulls/pulls#list-commits-on-a-pull-request): the oldest 250.
  router.add("GET", `${base}/{pull_number}/commits`, (request) => {
    const pull = core.findPull(integerParam(request, "pull_number"));
    const shas = core.pullCommits(pull).reverse().slice(0, MAX_COMMITS);
    return listReply(request, shas, (sha) => commitJson(core, core.git.readCommit(sha)));
  });
  // The pull requests a commit belongs to: merged as it (merge_commit_sha) or at their head.
  router.add("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", (request) => {
    core.refreshPulls();
    const sha = request.params.commit_sha ?? "";
    const pulls = core.state.pulls.filter((p) => p.mergeCommitSha === sha || p.headSha === sha);
    return listReply(request, pulls, (pull) => pullJson(core, pull, false));
  });
  registerReviewRoutes(router, core);
}

/**
 * "acme:feature" or "feature" → the branch of this repository (owner null); "them:feature" →
 * the branch of their fork. Undefined for an owner with no fork of the repository.
 */
function headBranch(
  core: SimulatorCore,
  head: string,
): { owner: string | null; branch: string } | undefined {
  const colon = head.indexOf(":");
  if (colon < 0) return { owner: null, branch: head };
  const owner = head.slice(0, colon);
  const branch = head.slice(colon + 1);
  if (owner.toLowerCase() === core.owner.toLowerCase()) return { owner: null, branch };
  const fork = core.findFork(owner);
  return fork ? { owner: fork.owner, branch } : undefined;
}

function sameOwner(a: string | null, b: string | null): boolean {
  return (a ?? "").toLowerCase() === (b ?? "").toLowerCase();
}

function listPulls(core: SimulatorCore, request: RequestContext): Reply {
  core.refreshPulls();
  const state = request.query.get("state") ?? "open";
  const head = request.query.get("head");
  const base = request.query.get("base");
  const sort = request.query.get("sort") ?? "created";
  const direction = request.query.get("direction") ?? (sort === "created" ? "desc" : "asc");
  const wanted = head === null ? undefined : headBranch(core, head);
  const pulls = core.state.pulls.filter(
    (pull) =>
      (state === "all" || pull.state === state) &&
      (head === null ||
        (wanted !== undefined &&
          pull.head === wanted.branch &&
          sameOwner(pull.headOwner, wanted.owner))) &&
      (base === null || pull.base === base),
  );
  const key = (pull: PullRequest) => (sort === "updated" ? pull.updatedAt : pull.createdAt);
  // Ties (same second under a fixed clock) fall back to the number, newest highest.
  pulls.sort((a, b) => key(a).localeCompare(key(b)) || a.number - b.number);
  if (direction === "desc") pulls.reverse();
  return listReply(request, pulls, (pull) => pullJson(core, pull, false));
}

function createPull(core: SimulatorCore, request: RequestContext): Reply {
  core.requireRole(request, "read");
  const title = requiredString(request.body, "title");
  const parsed = headBranch(core, requiredString(request.body, "head"));
  const base = requiredString(request.body, "base");
  const headSha = parsed
    ? core.git.refTarget(core.headRef({ head: parsed.branch, headOwner: parsed.owner }))
    : undefined;
  const baseSha = core.branchSha(base);
  if (!headSha || parsed === undefined) {
    throw validationFailed([{ resource: "PullRequest", field: "head", code: "invalid" }]);
  }
  if (!baseSha) {
    throw validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
  }
  const head = parsed.branch;
  const headOwner = parsed.owner;
  if (core.openPullFor(head, base, headOwner)) throw core.duplicatePullError(head, headOwner);
  if (core.git.isAncestor(headSha, baseSha)) {
    throw validationFailed([
      {
        resource: "PullRequest",
        code: "custom",
        message: `No commits between ${base} and ${head}`,
      },
    ]);
  }
  const now = core.now();
  const id = core.nextId();
  const pull: PullRequest = {
    number: core.nextNumber(),
    id,
    nodeId: nodeId("PR", id),
    title,
    body: optionalString(request.body, "body") ?? null,
    head,
    base,
    headSha,
    baseSha,
    author: request.actor.login,
    headOwner,
    state: "open",
    draft: optionalBoolean(request.body, "draft") ?? false,
    merged: false,
    mergedBy: null,
    mergedAt: null,
    mergeCommitSha: null,
    closedAt: null,
    createdAt: now,
    updatedAt: now,
    labels: [],
    autoMerge: null,
  };
  core.state.pulls.push(pull);
  core.refreshPull(pull);
  return { status: 201, body: pullJson(core, pull, true) };
}

function updatePull(core: SimulatorCore, request: RequestContext): Reply {
  const pull = core.findPull(integerParam(request, "pull_number"));
  if (pull.author !== request.actor.login) core.requireRole(request, "write");
  const title = optionalString(request.body, "title");
  const body = optionalString(request.body, "body");
  const state = optionalEnum(request.body, "state", ["open", "closed"] as const);
  const base = optionalString(request.body, "base");
  if (base !== undefined && !core.branchSha(base)) {
    throw validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
  }
  if (state === "open" && pull.state === "closed") reopen(core, pull, base ?? pull.base);
  if (state === "closed" && pull.state === "open") {
    Object.assign(pull, { state: "closed", closedAt: core.now(), autoMerge: null });
  }
  if (title !== undefined) pull.title = title;
  if (request.body.body !== undefined) pull.body = body ?? null;
  if (base !== undefined) pull.base = base;
  pull.updatedAt = core.now();
  core.refreshPull(pull);
  return { status: 200, body: pullJson(core, pull, true) };
}

function reopen(core: SimulatorCore, pull: PullRequest, base: string): void {
  if (pull.merged)
    throw unprocessable("Validation Failed", ["Cannot reopen a merged pull request"]);
  if (!core.git.refTarget(core.headRef(pull))) {
    throw validationFailed([{ resource: "PullRequest", field: "head", code: "invalid" }]);
  }
  if (core.openPullFor(pull.head, base, pull.headOwner)) {
    throw core.duplicatePullError(pull.head, pull.headOwner);
  }
  Object.assign(pull, { state: "open", closedAt: null });
}

function mergePull(core: SimulatorCore, request: RequestContext): Reply {
  core.requireRole(request, "write");
  const pull = core.findPull(integerParam(request, "pull_number"));
  const method =
    optionalEnum(request.body, "merge_method", ["merge", "squash", "rebase"] as const) ?? "merge";
  const sha = core.mergePull(pull, {
    method,
    actor: request.actor,
    credential: request.auth,
    commitTitle: optionalString(request.body, "commit_title"),
    commitMessage: optionalString(request.body, "commit_message"),
    expectedHeadSha: optionalString(request.body, "sha"),
  });
  return { status: 200, body: { sha, merged: true, message: "Pull Request successfully merged" } };
}

const REVIEW_EVENTS = ["APPROVE", "REQUEST_CHANGES", "COMMENT"] as const;
const EVENT_STATES: Record<(typeof REVIEW_EVENTS)[number], ReviewState> = {
  APPROVE: "APPROVED",
  REQUEST_CHANGES: "CHANGES_REQUESTED",
  COMMENT: "COMMENTED",
};

function registerReviewRoutes(router: Router, core: SimulatorCore): void {
  const reviews = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews";
  router.add("GET", reviews, (request) => {
    const pull = core.findPull(integerParam(request, "pull_number"));
    // A pending review is a draft: only its author sees it.
    const visible = core.state.reviews.filter(
      (review) =>
        review.pullNumber === pull.number &&
        (review.state !== "PENDING" || review.user === request.actor.login),
    );
    return listReply(request, visible, (review) => reviewJson(core, review));
  });
  router.add("POST", reviews, (request) => createReview(core, request));
  router.add("PUT", `${reviews}/{review_id}/dismissals`, (request) => dismissReview(core, request));
}

function createReview(core: SimulatorCore, request: RequestContext): Reply {
  core.requireRole(request, "read");
  const pull = core.findPull(integerParam(request, "pull_number"));
  const event = optionalEnum(request.body, "event", REVIEW_EVENTS);
  const body = optionalString(request.body, "body") ?? "";
  const commitId = optionalString(request.body, "commit_id") ?? pull.headSha;
  const own = pull.author === request.actor.login;
  // With "Allow GitHub Actions to create and approve pull requests" off (the default),
  // GITHUB_TOKEN may not approve (research notes §8: github/docs#31550).
  if (
    event === "APPROVE" &&
    request.auth.kind === "installation" &&
    request.auth.app.id === GITHUB_ACTIONS.appId
  ) {
    throw unprocessable("Unprocessable Entity", [
      "GitHub Actions is not permitted to approve pull requests.",
    ]);
  }
  if (own && event === "APPROVE") {
    throw unprocessable("Unprocessable Entity", ["Review Can not approve your own pull request"]);
  }
  if (own && event === "REQUEST_CHANGES") {
    throw unprocessable("Unprocessable Entity", [
      "Review Can not request changes on your own pull request",
    ]);
  }
  if ((event === "REQUEST_CHANGES" || event === "COMMENT") && body === "") {
    throw unprocessable("Unprocessable Entity", [`Review body is required for ${event}`]);
  }
  // A review is of one of the pull request's own commits (reachable from its head, not from
  // its base): observed 422 text, the docs are silent (research notes §8: reviewdog#434).
  const resolved = /^[0-9a-f]{40}$/.test(commitId) ? core.git.resolveCommit(commitId) : undefined;
  if (!resolved || !core.pullCommits(pull).includes(resolved)) {
    throw unprocessable("Unprocessable Entity", ["The commitOID is not part of the pull request"]);
  }
  if (
    !event &&
    core.state.reviews.some(
      (review) =>
        review.pullNumber === pull.number &&
        review.user === request.actor.login &&
        review.state === "PENDING",
    )
  ) {
    throw unprocessable("Unprocessable Entity", [
      "Review User can only have one pending review per pull request",
    ]);
  }
  const id = core.nextId();
  const review: Review = {
    id,
    nodeId: nodeId("PRR", id),
    pullNumber: pull.number,
    user: request.actor.login,
    body,
    state: event ? EVENT_STATES[event] : "PENDING",
    commitId: resolved,
    submittedAt: event ? core.now() : null,
  };
  core.state.reviews.push(review);
  return { status: 200, body: reviewJson(core, review) };
}

function dismissReview(core: SimulatorCore, request: RequestContext): Reply {
  const pull = core.findPull(integerParam(request, "pull_number"));
  const reviewId = integerParam(request, "review_id");
  const review = core.state.reviews.find(
    (candidate) => candidate.id === reviewId && candidate.pullNumber === pull.number,
  );
  if (!review) throw notFound();
  core.requireRole(request, "write");
  requiredString(request.body, "message");
  if (review.state !== "APPROVED" && review.state !== "CHANGES_REQUESTED") {
    throw unprocessable(
      `Can not dismiss a ${review.state === "PENDING" ? "pending" : "commented"} pull request review`,
    );
  }
  review.state = "DISMISSED";
  return { status: 200, body: reviewJson(core, review) };
}
