/**
 * Repository rulesets (create, list, get; the rules that apply to a branch) and the
 * repository activity log, which records every change of a branch: pushes, force pushes,
 * creations, deletions and pull request merges.
 */
import type { SimulatorCore } from "./core.js";
import {
  integerParam,
  listReply,
  notFound,
  type Reply,
  type RequestContext,
  type Router,
  unprocessable,
} from "./http.js";
import { activityJson } from "./json.js";
import type { Activity } from "./model.js";
import { branchRulesJson, buildRuleset, rulesetJson } from "./rules.js";

export function registerRuleRoutes(router: Router, core: SimulatorCore): void {
  const rulesets = "/repos/{owner}/{repo}/rulesets";
  // Creating one takes the admin role ("Administration" write for Apps).
  router.add("POST", rulesets, (request) => {
    core.requireRole(request, "admin");
    const ruleset = buildRuleset(core, request.body, true);
    core.state.rulesets.push(ruleset);
    return { status: 201, body: rulesetJson(core, ruleset, request.auth) };
  });
  router.add("GET", rulesets, (request) =>
    listReply(request, core.state.rulesets, (ruleset) => rulesetJson(core, ruleset, request.auth)),
  );
  router.add("GET", `${rulesets}/{ruleset_id}`, (request) => {
    const id = integerParam(request, "ruleset_id");
    const ruleset = core.state.rulesets.find((candidate) => candidate.id === id);
    if (!ruleset) throw notFound();
    return { status: 200, body: rulesetJson(core, ruleset, request.auth) };
  });
  router.add("GET", "/repos/{owner}/{repo}/rules/branches/{branch}", (request) =>
    listReply(request, branchRulesJson(core, request.params.branch ?? "")),
  );
  router.add("GET", "/repos/{owner}/{repo}/activity", (request) => listActivities(core, request));
}

const ACTIVITY_TYPES = [
  "push",
  "force_push",
  "branch_creation",
  "branch_deletion",
  "pr_merge",
  "merge_queue_merge",
];

/** `time_period`: "day … past 24 hours, and week … past 7 days (168 hours)". */
const PERIOD_HOURS: Record<string, number> = {
  day: 24,
  week: 168,
  month: 24 * 30,
  quarter: 24 * 91,
  year: 24 * 365,
};

function cursorOf(activity: Activity): string {
  return Buffer.from(`cursor:${activity.id}`).toString("base64url");
}

function idOfCursor(cursor: string): number {
  const match = /^cursor:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw unprocessable("Invalid request.\n\nThe cursor is not valid.");
  return Number(match[1]);
}

/**
 * GET /repos/{owner}/{repo}/activity (docs.github.com/en/rest/repos/repos#list-repository-
 * activities): filters ref ("refs/heads/BRANCH_NAME or BRANCH_NAME"), actor, activity_type
 * and time_period; direction (default desc); per_page (≤ 100, default 30); cursor pagination
 * with before/after "as given in the Link header" — there is no page parameter.
 */
function listActivities(core: SimulatorCore, request: RequestContext): Reply {
  const query = request.query;
  const direction = query.get("direction") ?? "desc";
  if (direction !== "asc" && direction !== "desc") {
    throw unprocessable(`Invalid request.\n\n"${direction}" is not a valid direction.`);
  }
  // "max 100": more is served as 100, as GitHub's other lists do.
  const perPage = Math.min(100, Math.max(1, Math.floor(Number(query.get("per_page") ?? 30) || 30)));
  const type = query.get("activity_type");
  if (type !== null && !ACTIVITY_TYPES.includes(type)) {
    throw unprocessable(`Invalid request.\n\n"${type}" is not a valid activity_type.`);
  }
  const period = query.get("time_period");
  const hours = period === null ? undefined : PERIOD_HOURS[period];
  if (period !== null && hours === undefined) {
    throw unprocessable(`Invalid request.\n\n"${period}" is not a valid time_period.`);
  }
  const ref = query.get("ref");
  const fullRef = ref === null ? null : ref.startsWith("refs/") ? ref : `refs/heads/${ref}`;
  const actor = query.get("actor")?.toLowerCase();
  const since = hours === undefined ? undefined : core.clock().getTime() - hours * 3_600_000;
  const matching = core.state.activities.filter(
    (activity) =>
      (fullRef === null || activity.ref === fullRef) &&
      (actor === undefined || activity.actor?.toLowerCase() === actor) &&
      (type === null || activity.activityType === type) &&
      (since === undefined || Date.parse(activity.timestamp) >= since),
  );
  const ordered = direction === "desc" ? [...matching].reverse() : matching;
  const after = query.get("after");
  const before = query.get("before");
  let start = 0;
  let end = Math.min(ordered.length, perPage);
  // Whether an activity comes before the cursor's in the listed order.
  const earlier = (activity: Activity, id: number) =>
    direction === "desc" ? activity.id > id : activity.id < id;
  if (after !== null) {
    const id = idOfCursor(after);
    start = ordered.filter((activity) => earlier(activity, id) || activity.id === id).length;
    end = Math.min(ordered.length, start + perPage);
  } else if (before !== null) {
    const id = idOfCursor(before);
    end = ordered.filter((activity) => earlier(activity, id)).length;
    start = Math.max(0, end - perPage);
  }
  const page = ordered.slice(start, end);
  const link = (key: "after" | "before", activity: Activity, rel: string) => {
    const url = new URL(request.url);
    url.searchParams.delete("after");
    url.searchParams.delete("before");
    url.searchParams.set("per_page", String(perPage));
    url.searchParams.set(key, cursorOf(activity));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  const first = page[0];
  const last = page.at(-1);
  if (last && end < ordered.length) links.push(link("after", last, "next"));
  if (first && start > 0) links.push(link("before", first, "prev"));
  return {
    status: 200,
    body: page.map((activity) => activityJson(core, activity)),
    headers: links.length > 0 ? { link: links.join(", ") } : {},
  };
}
