/**
 * Check runs and commit statuses, attached to commits of the bare repository. Check runs are
 * GitHub Apps' alone: "Write permission for the REST API to interact with checks is only
 * available to GitHub Apps" (docs.github.com/en/rest/guides/using-the-rest-api-to-interact-
 * with-checks); each belongs to the App that created it, and a completed one keeps its status
 * and conclusion.
 */
import type { SimulatorCore } from "./core.js";
import {
  errorBody,
  forbidden,
  HttpError,
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
  // "A check suite is created by a single GitHub App": one per commit and App.
  const suites = new Map<string, number>();
  const suiteFor = (sha: string, appId: number) => {
    const key = `${appId}:${sha}`;
    const id = suites.get(key) ?? core.nextId();
    suites.set(key, id);
    return id;
  };

  router.add("POST", "/repos/{owner}/{repo}/check-runs", (request) => {
    const auth = requireApp(request);
    const name = requiredString(request.body, "name");
    const headSha = core.requireCommit(
      requiredString(request.body, "head_sha"),
      "CheckRun",
      "head_sha",
    );
    const id = core.nextId();
    const created = core.now();
    const run: CheckRun = {
      id,
      nodeId: nodeId("CR", id),
      checkSuiteId: suiteFor(headSha, auth.app.id),
      name,
      headSha,
      status: "queued",
      conclusion: null,
      startedAt: created,
      completedAt: null,
      detailsUrl: null,
      externalId: null,
      output: { title: null, summary: null, text: null },
      appId: auth.app.id,
      appSlug: auth.app.slug,
      createdAt: created,
    };
    applyCheckRunFields(core, run, request.body);
    core.state.checkRuns.push(run);
    return { status: 201, body: checkRunJson(core, run) };
  });

  router.add("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (request) => {
    const auth = requireApp(request);
    const run = findCheckRun(core, request);
    // Observed, not documented (research notes §5b, e.g. databricks/cli#4563).
    if (run.appId !== auth.app.id) {
      throw forbidden(
        `Invalid app_id \`${auth.app.id}\` - check run can only be modified by the GitHub App that created it.`,
      );
    }
    refuseCompletedChanges(run, request.body);
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

/** The App behind an installation token; a user's token is refused as GitHub refuses it. */
function requireApp(request: RequestContext) {
  if (request.auth.kind !== "installation") {
    // The observed answer to a personal access token (research notes §5a).
    throw new HttpError(403, errorBody("You must authenticate via a GitHub App."));
  }
  return request.auth;
}

/**
 * A completed check run keeps its status and conclusion: "Once a check run transitions from
 * the in_progress state to completed state, it's not possible to modify its status nor its
 * conclusion further" (GitHub Support Community, research notes §5c; the REST docs are
 * silent). Its output, name and links may still change.
 */
function refuseCompletedChanges(run: CheckRun, body: Record<string, unknown>): void {
  if (run.status !== "completed") return;
  const changing = ["status", "conclusion", "completed_at"].filter(
    (key) => body[key] !== undefined && body[key] !== null,
  );
  if (changing.length === 0) return;
  throw unprocessable(
    `Invalid request.\n\nThe check run is completed: its ${changing.join(", ")} can no longer be changed.`,
  );
}

function findCheckRun(core: SimulatorCore, request: RequestContext): CheckRun {
  core.settleStaleCheckRuns();
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
  // "You cannot change a check run conclusion to `stale`, only GitHub can set this."
  if (conclusion === "stale") {
    throw unprocessable(
      "Invalid request.\n\nYou cannot change a check run conclusion to stale, only GitHub can set this.",
    );
  }
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

/**
 * Check runs of a commit, newest first. filter=latest (the default, "returns the most recent
 * check runs") keeps the newest run of each name *per App*: every App writes into a check
 * suite of its own, so one App's newer run of a name never hides another App's run of it
 * (the docs do not say; this is the reading that lets consumers tell Apps apart by app_id).
 */
function listCheckRuns(core: SimulatorCore, request: RequestContext): Reply {
  const sha = core.resolveRef(request.params.ref ?? "");
  const name = request.query.get("check_name");
  const status = request.query.get("status");
  const appId = request.query.get("app_id");
  const filter = request.query.get("filter") ?? "latest";
  if (filter !== "latest" && filter !== "all") {
    throw unprocessable(`Invalid request.\n\n"${filter}" is not a valid filter.`);
  }
  const runs = core
    .checkRunsOf(sha)
    .sort((a, b) => b.id - a.id)
    .filter(
      (run, index, all) =>
        filter === "all" ||
        all.findIndex((other) => other.name === run.name && other.appId === run.appId) === index,
    )
    .filter(
      (run) =>
        (name === null || run.name === name) &&
        (status === null || run.status === status) &&
        (appId === null || String(run.appId) === appId),
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
    core.requireRole(request, "write");
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
      appId: request.auth.kind === "installation" ? request.auth.app.id : null,
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
