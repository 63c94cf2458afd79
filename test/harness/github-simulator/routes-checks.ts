/**
 * Check runs (all credited to the GitHub Actions app, as with a workflow's GITHUB_TOKEN) and
 * commit statuses, both attached to commits of the bare repository.
 */
import type { SimulatorCore } from "./core.js";
import {
  integerParam,
  notFound,
  optionalEnum,
  optionalObject,
  optionalString,
  paginate,
  type Reply,
  type RequestContext,
  type Router,
  requiredString,
  unprocessable,
} from "./http.js";
import { checkRunJson, repositoryJson, statusJson } from "./json.js";
import { type CheckRun, type CommitStatus, isoTime, nodeId } from "./model.js";

const CHECK_STATUSES = ["queued", "in_progress", "completed"] as const;
const CONCLUSIONS = [
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "success",
  "skipped",
  "stale",
  "timed_out",
] as const;

export function registerCheckRoutes(router: Router, core: SimulatorCore): void {
  // One check suite per commit, as for one workflow run.
  const suites = new Map<string, number>();
  const suiteFor = (sha: string) => {
    const id = suites.get(sha) ?? core.nextId();
    suites.set(sha, id);
    return id;
  };

  router.add("POST", "/repos/{owner}/{repo}/check-runs", (request) => {
    core.requirePermission(request.actor, "write");
    const name = requiredString(request.body, "name");
    const headSha = core.requireCommit(
      requiredString(request.body, "head_sha"),
      "CheckRun",
      "head_sha",
    );
    const id = core.nextId();
    const run: CheckRun = {
      id,
      nodeId: nodeId("CR", id),
      checkSuiteId: suiteFor(headSha),
      name,
      headSha,
      status: "queued",
      conclusion: null,
      startedAt: core.now(),
      completedAt: null,
      detailsUrl: null,
      externalId: null,
      output: { title: null, summary: null, text: null },
    };
    applyCheckRunFields(core, run, request.body);
    core.state.checkRuns.push(run);
    return { status: 201, body: checkRunJson(core, run) };
  });

  router.add("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (request) => {
    core.requirePermission(request.actor, "write");
    const run = findCheckRun(core, request);
    const name = optionalString(request.body, "name");
    if (name !== undefined) run.name = name;
    applyCheckRunFields(core, run, request.body);
    return { status: 200, body: checkRunJson(core, run) };
  });

  router.add("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (request) => ({
    status: 200,
    body: checkRunJson(core, findCheckRun(core, request)),
  }));

  router.add("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", (request) =>
    listCheckRuns(core, request),
  );

  registerStatusRoutes(router, core);
}

function findCheckRun(core: SimulatorCore, request: RequestContext): CheckRun {
  const id = integerParam(request, "check_run_id");
  const run = core.state.checkRuns.find((candidate) => candidate.id === id);
  if (!run) throw notFound();
  return run;
}

/** A client's timestamp, normalised to GitHub's form; 422 when unparseable. */
function timestamp(body: Record<string, unknown>, key: string): string | undefined {
  const value = optionalString(body, key);
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw unprocessable(`Invalid request.\n\n"${value}" is not a valid date-time for ${key}.`);
  }
  return isoTime(date);
}

/**
 * The fields shared by create and update. A conclusion implies completed (GitHub sets the
 * status itself), and completed without a conclusion is refused.
 */
function applyCheckRunFields(
  core: SimulatorCore,
  run: CheckRun,
  body: Record<string, unknown>,
): void {
  const status = optionalEnum(body, "status", CHECK_STATUSES);
  const conclusion = optionalEnum(body, "conclusion", CONCLUSIONS);
  if (status === "completed" && !conclusion && !run.conclusion) {
    throw unprocessable(`Invalid request.\n\n"conclusion" wasn't supplied.`);
  }
  if (status) run.status = status;
  if (conclusion) {
    run.conclusion = conclusion;
    run.status = "completed";
  }
  run.startedAt = timestamp(body, "started_at") ?? run.startedAt;
  run.completedAt =
    timestamp(body, "completed_at") ??
    (run.status === "completed" ? (run.completedAt ?? core.now()) : run.completedAt);
  run.detailsUrl = optionalString(body, "details_url") ?? run.detailsUrl;
  run.externalId = optionalString(body, "external_id") ?? run.externalId;
  const output = optionalObject(body, "output");
  if (output) {
    run.output = {
      title: requiredString(output, "title"),
      summary: requiredString(output, "summary"),
      text: optionalString(output, "text") ?? null,
    };
  }
}

function listCheckRuns(core: SimulatorCore, request: RequestContext): Reply {
  const sha = core.resolveRef(request.params.ref ?? "");
  const name = request.query.get("check_name");
  const status = request.query.get("status");
  const latestOnly = (request.query.get("filter") ?? "latest") === "latest";
  // Newest first; with filter=latest only the newest run of each name counts.
  const runs = core.state.checkRuns
    .filter((run) => run.headSha === sha)
    .sort((a, b) => b.id - a.id)
    .filter(
      (run, index, all) =>
        !latestOnly || all.findIndex((other) => other.name === run.name) === index,
    )
    .filter(
      (run) => (name === null || run.name === name) && (status === null || run.status === status),
    );
  const page = paginate(request, runs);
  return {
    status: 200,
    body: {
      total_count: runs.length,
      check_runs: page.items.map((run) => checkRunJson(core, run)),
    },
    headers: page.headers,
  };
}

const STATUS_STATES = ["error", "failure", "pending", "success"] as const;

function registerStatusRoutes(router: Router, core: SimulatorCore): void {
  router.add("POST", "/repos/{owner}/{repo}/statuses/{sha}", (request) => {
    core.requirePermission(request.actor, "write");
    const ref = request.params.sha ?? "";
    const sha = core.tryResolveRef(ref);
    if (!sha) throw unprocessable(`No commit found for SHA: ${ref}`);
    const state = optionalEnum(request.body, "state", STATUS_STATES);
    if (!state) throw unprocessable(`Invalid request.\n\n"state" wasn't supplied.`);
    const now = core.now();
    const id = core.nextId();
    const status: CommitStatus = {
      id,
      nodeId: nodeId("SC", id),
      sha,
      state,
      context: optionalString(request.body, "context") ?? "default",
      description: optionalString(request.body, "description") ?? null,
      targetUrl: optionalString(request.body, "target_url") ?? null,
      creator: request.actor.login,
      createdAt: now,
      updatedAt: now,
    };
    core.state.statuses.push(status);
    return { status: 201, body: statusJson(core, status) };
  });

  router.add("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", (request) => {
    const sha = core.resolveRef(request.params.ref ?? "");
    const page = paginate(request, statusesNewestFirst(core, sha));
    return {
      status: 200,
      body: page.items.map((status) => statusJson(core, status)),
      headers: page.headers,
    };
  });

  router.add("GET", "/repos/{owner}/{repo}/commits/{ref}/status", (request) =>
    combinedStatus(core, request),
  );
}

function statusesNewestFirst(core: SimulatorCore, sha: string): CommitStatus[] {
  return core.state.statuses.filter((status) => status.sha === sha).sort((a, b) => b.id - a.id);
}

/** The newest status of each context, and one state for them all (failure > pending > success). */
function combinedStatus(core: SimulatorCore, request: RequestContext): Reply {
  const sha = core.resolveRef(request.params.ref ?? "");
  const latest = statusesNewestFirst(core, sha).filter(
    (status, index, all) => all.findIndex((other) => other.context === status.context) === index,
  );
  const states = new Set(latest.map((status) => status.state));
  const state =
    states.has("error") || states.has("failure")
      ? "failure"
      : states.has("pending") || latest.length === 0
        ? "pending"
        : "success";
  return {
    status: 200,
    body: {
      state,
      sha,
      total_count: latest.length,
      statuses: latest.map((status) => {
        const { creator: _creator, ...simple } = statusJson(core, status);
        return simple;
      }),
      repository: repositoryJson(core),
      commit_url: `${core.apiRepoUrl}/commits/${sha}`,
      url: `${core.apiRepoUrl}/commits/${sha}/status`,
    },
  };
}
