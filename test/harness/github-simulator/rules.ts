/**
 * Repository rulesets: which apply to a branch, who bypasses them, and what they refuse —
 * merges (required status checks, required reviews) and direct pushes through the API
 * (creation, update, deletion, force pushes, changes outside pull requests, unchecked commits).
 *
 * Sources: "Available rules for rulesets"
 * (https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/available-rules-for-rulesets),
 * the REST description of rulesets (https://docs.github.com/en/rest/repos/rules), and the
 * refusals GitHub is seen to give ("Repository rule violations found", research notes §10).
 */
import type { SimulatorCore } from "./core.js";
import { ZERO_SHA } from "./git-store.js";
import { errorBody, HttpError, isRecord, type RequestContext, unprocessable } from "./http.js";
import {
  type Credential,
  type MergeMethod,
  nodeId,
  type Permission,
  type PullRequest,
  type Review,
  type Ruleset,
  type RulesetBypassActor,
  type RulesetRule,
} from "./model.js";

/** A ruleset as the REST API (and sim.addRuleset) takes it. */
export interface RulesetInput {
  name: string;
  target?: "branch" | "tag" | "push";
  enforcement: "active" | "disabled" | "evaluate";
  conditions?: { ref_name?: { include?: string[]; exclude?: string[] } } | null;
  bypass_actors?: {
    actor_id?: number | null;
    actor_type: RulesetBypassActor["actor_type"];
    bypass_mode?: RulesetBypassActor["bypass_mode"];
  }[];
  rules?: { type: string; parameters?: Record<string, unknown> }[];
}

/**
 * Repository role ids as bypass actors use them (actor_type RepositoryRole). 5 = admin,
 * 4 = write and 2 = maintain are the ids GitHub's own examples and API users show; 1 and 3
 * (read, triage) complete the built-in roles.
 */
const ROLE_IDS: Record<number, Permission> = {
  1: "read",
  2: "maintain",
  3: "triage",
  4: "write",
  5: "admin",
};

const RULE_TYPES = new Set([
  "creation",
  "update",
  "deletion",
  "required_linear_history",
  "merge_queue",
  "required_deployments",
  "required_signatures",
  "pull_request",
  "required_status_checks",
  "non_fast_forward",
  "commit_message_pattern",
  "commit_author_email_pattern",
  "committer_email_pattern",
  "branch_name_pattern",
  "tag_name_pattern",
  "file_path_restriction",
  "max_file_path_length",
  "file_extension_restriction",
  "max_file_size",
  "workflows",
  "code_scanning",
  "copilot_code_review",
]);

const ACTOR_TYPES = new Set([
  "Integration",
  "OrganizationAdmin",
  "RepositoryRole",
  "Team",
  "DeployKey",
  "User",
]);

/** GitHub's refusal of a merge or push that breaks rules, one line per violation. */
export function ruleViolationError(status: number, violations: string[]): HttpError {
  return new HttpError(
    status,
    errorBody(`Repository rule violations found\n\n${[...new Set(violations)].join("\n")}`),
  );
}

function invalid(message: string): HttpError {
  return unprocessable(`Invalid request.\n\n${message}`);
}

function stringArray(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw invalid(`Invalid property ${where}: is not an array of strings.`);
  }
  return value;
}

/**
 * A ruleset from its REST form. `strict` (the REST API) requires the parameters GitHub's
 * description marks required; the test helper fills them with their defaults instead.
 */
export function buildRuleset(core: SimulatorCore, input: unknown, strict: boolean): Ruleset {
  if (!isRecord(input)) throw invalid("The ruleset is not an object.");
  const name = input.name;
  if (typeof name !== "string" || name === "") throw invalid(`"name" wasn't supplied.`);
  const enforcement = input.enforcement;
  if (enforcement !== "active" && enforcement !== "disabled" && enforcement !== "evaluate") {
    throw invalid(`"enforcement" wasn't supplied.`);
  }
  const target = input.target ?? "branch";
  if (target !== "branch" && target !== "tag" && target !== "push") {
    throw invalid(`For 'properties/target', "${String(target)}" is not one of branch, tag, push.`);
  }
  const conditions = input.conditions;
  let refName: { include: string[]; exclude: string[] } | undefined;
  if (conditions !== undefined && conditions !== null) {
    if (!isRecord(conditions)) throw invalid("Invalid property /conditions: is not an object.");
    const ref = conditions.ref_name;
    if (ref !== undefined) {
      if (!isRecord(ref)) throw invalid("Invalid property /conditions/ref_name: is not an object.");
      refName = {
        include: stringArray(ref.include, "/conditions/ref_name/include"),
        exclude: stringArray(ref.exclude, "/conditions/ref_name/exclude"),
      };
    }
  }
  const bypass = input.bypass_actors ?? [];
  if (!Array.isArray(bypass)) throw invalid("Invalid property /bypass_actors: is not an array.");
  const bypassActors = bypass.map((actor, index): RulesetBypassActor => {
    const where = `/bypass_actors/${index}`;
    if (!isRecord(actor) || typeof actor.actor_type !== "string") {
      throw invalid(`Invalid property ${where}: data matches no possible input.`);
    }
    if (!ACTOR_TYPES.has(actor.actor_type)) {
      throw invalid(`Invalid property ${where}/actor_type: "${actor.actor_type}" is not valid.`);
    }
    const mode = actor.bypass_mode ?? "always";
    if (mode !== "always" && mode !== "pull_request" && mode !== "exempt") {
      throw invalid(`Invalid property ${where}/bypass_mode: "${String(mode)}" is not valid.`);
    }
    const id = actor.actor_id ?? null;
    if (id !== null && !Number.isInteger(id)) {
      throw invalid(`Invalid property ${where}/actor_id: is not an integer.`);
    }
    return {
      actor_id: id as number | null,
      actor_type: actor.actor_type as RulesetBypassActor["actor_type"],
      bypass_mode: mode,
    };
  });
  const rulesInput = input.rules ?? [];
  if (!Array.isArray(rulesInput)) throw invalid("Invalid property /rules: is not an array.");
  const rules = rulesInput.map((rule, index) => buildRule(core, rule, `/rules/${index}`, strict));
  const now = core.now();
  const id = core.nextId();
  return {
    id,
    nodeId: nodeId("RRS", id),
    name,
    target,
    enforcement,
    bypass_actors: bypassActors,
    conditions: refName ? { ref_name: refName } : null,
    rules,
    createdAt: now,
    updatedAt: now,
  };
}

function buildRule(
  core: SimulatorCore,
  rule: unknown,
  where: string,
  strict: boolean,
): RulesetRule {
  if (!isRecord(rule) || typeof rule.type !== "string" || !RULE_TYPES.has(rule.type)) {
    throw invalid(`Invalid property ${where}: data matches no possible input.`);
  }
  const given = rule.parameters;
  if (given !== undefined && !isRecord(given)) {
    throw invalid(`Invalid property ${where}/parameters: is not an object.`);
  }
  const parameters: Record<string, unknown> = { ...(given ?? {}) };
  const need = (key: string, type: "boolean" | "number", fallback: boolean | number) => {
    if (parameters[key] === undefined) {
      if (strict) throw invalid(`Invalid property ${where}: data matches no possible input.`);
      parameters[key] = fallback;
    }
    if (typeof parameters[key] !== type) {
      throw invalid(`Invalid property ${where}/parameters/${key}: is not a ${type}.`);
    }
  };
  if (rule.type === "required_status_checks") {
    need("strict_required_status_checks_policy", "boolean", false);
    const checks = parameters.required_status_checks;
    if (!Array.isArray(checks)) {
      throw invalid(`Invalid property ${where}: data matches no possible input.`);
    }
    for (const [i, check] of checks.entries()) {
      const integration = isRecord(check) ? check.integration_id : undefined;
      if (!isRecord(check) || typeof check.context !== "string" || check.context === "") {
        throw invalid(`Invalid property ${where}/parameters/required_status_checks/${i}.`);
      }
      // GitHub rejects integration ids that name no App (-1 included, research notes §5f).
      if (
        integration !== undefined &&
        (typeof integration !== "number" || !core.appById(integration))
      ) {
        throw invalid(
          `Invalid property ${where}/parameters/required_status_checks/${i}/integration_id: no such GitHub App.`,
        );
      }
    }
  }
  if (rule.type === "pull_request") {
    need("dismiss_stale_reviews_on_push", "boolean", false);
    need("require_code_owner_review", "boolean", false);
    need("require_last_push_approval", "boolean", false);
    need("required_approving_review_count", "number", 0);
    need("required_review_thread_resolution", "boolean", false);
    const count = parameters.required_approving_review_count as number;
    if (!Number.isInteger(count) || count < 0 || count > 10) {
      throw invalid(
        `Invalid property ${where}/parameters/required_approving_review_count: must be between 0 and 10.`,
      );
    }
  }
  if (rule.type === "update" && !strict) {
    parameters.update_allows_fetch_and_merge ??= false;
  }
  return Object.keys(parameters).length > 0 || given !== undefined
    ? { type: rule.type, parameters }
    : { type: rule.type };
}

/** fnmatch as ruleset ref patterns use it: `*` stays within a path segment, `**` does not. */
function fnmatch(pattern: string, text: string): boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === "*") {
      if (pattern.charAt(i + 1) === "*") {
        source += ".*";
        i++;
      } else {
        source += "[^/]*";
      }
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else {
      source += char.replace(/[.+^${}()|\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`).test(text);
}

function patternMatches(core: SimulatorCore, pattern: string, ref: string): boolean {
  if (pattern === "~ALL") return true;
  if (pattern === "~DEFAULT_BRANCH") return ref === `refs/heads/${core.defaultBranch}`;
  return fnmatch(pattern, ref);
}

function appliesTo(core: SimulatorCore, ruleset: Ruleset, ref: string): boolean {
  const include = ruleset.conditions?.ref_name.include ?? [];
  const exclude = ruleset.conditions?.ref_name.exclude ?? [];
  return (
    include.some((pattern) => patternMatches(core, pattern, ref)) &&
    !exclude.some((pattern) => patternMatches(core, pattern, ref))
  );
}

/**
 * The enforced rulesets for a branch ref. "evaluate" only reports (and needs Enterprise); a
 * disabled ruleset does nothing.
 */
export function activeRulesets(core: SimulatorCore, ref: string): Ruleset[] {
  if (!ref.startsWith("refs/heads/")) return [];
  return core.state.rulesets.filter(
    (ruleset) =>
      ruleset.target === "branch" &&
      ruleset.enforcement === "active" &&
      appliesTo(core, ruleset, ref),
  );
}

/**
 * How an actor bypasses a ruleset: the most permissive of its bypass-list entries. Roles
 * match exactly (a bypass for Write does not name maintainers or admins).
 */
export function bypassModeOf(
  core: SimulatorCore,
  ruleset: Ruleset,
  credential: Credential,
): RulesetBypassActor["bypass_mode"] | undefined {
  const modes = ruleset.bypass_actors
    .filter((actor) => {
      switch (actor.actor_type) {
        case "Integration":
          return credential.kind !== "user" && credential.app.id === actor.actor_id;
        case "User":
          return credential.kind === "user" && credential.user.id === actor.actor_id;
        case "RepositoryRole":
          return (
            credential.kind === "user" &&
            actor.actor_id !== null &&
            ROLE_IDS[actor.actor_id] === credential.user.permission
          );
        case "Team": {
          const team = core.state.teams.find((candidate) => candidate.id === actor.actor_id);
          return (
            credential.kind === "user" &&
            team !== undefined &&
            core.isTeamMember(team.org, team.slug, credential.user.login)
          );
        }
        default:
          return false;
      }
    })
    .map((actor) => actor.bypass_mode);
  if (modes.includes("exempt")) return "exempt";
  if (modes.includes("always")) return "always";
  if (modes.includes("pull_request")) return "pull_request";
  return undefined;
}

const PASSING = new Set(["success", "neutral", "skipped"]);

/**
 * Required status checks on a commit. A check run counts when it is the newest of its name
 * (from the expected App when `integration_id` is given; other Apps' runs are then ignored)
 * and completed with success, neutral or skipped; a commit status of that context must be
 * success; "If you have a check and a status with the same name … both … are required"
 * (troubleshooting-required-status-checks). Checks of earlier commits never count.
 */
export function statusCheckViolations(
  core: SimulatorCore,
  sha: string,
  checks: { context: string; integration_id?: number }[],
): string[] {
  const runs = core.checkRunsOf(sha);
  const statuses = core.state.statuses.filter((status) => status.sha === sha);
  return checks.flatMap(({ context, integration_id: appId }) => {
    const named = runs.filter((run) => run.name === context);
    const contextStatuses = statuses.filter((status) => status.context === context);
    const fromApp = appId === undefined ? named : named.filter((run) => run.appId === appId);
    const statusesFromApp =
      appId === undefined
        ? contextStatuses
        : contextStatuses.filter((status) => status.appId === appId);
    if (fromApp.length === 0 && statusesFromApp.length === 0) {
      const elsewhere = named.length > 0 || contextStatuses.length > 0;
      return [
        elsewhere
          ? `Required status check "${context}" was not set by the expected GitHub App.`
          : `Required status check "${context}" is expected.`,
      ];
    }
    const run = fromApp.reduce<(typeof fromApp)[number] | undefined>(
      (newest, candidate) => (!newest || candidate.id > newest.id ? candidate : newest),
      undefined,
    );
    const status = statusesFromApp.reduce<(typeof statusesFromApp)[number] | undefined>(
      (newest, candidate) => (!newest || candidate.id > newest.id ? candidate : newest),
      undefined,
    );
    const runPasses = !run || (run.status === "completed" && PASSING.has(run.conclusion ?? ""));
    const statusPasses = !status || status.state === "success";
    return runPasses && statusPasses ? [] : [`Required status check "${context}" is expected.`];
  });
}

const COUNTED_STATES = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/**
 * The pull_request rule: each reviewer's latest approving, changes-requesting or dismissed
 * review counts, only reviewers with write access, never the author ("approved by the
 * required number of reviewers with write permissions", About protected branches). With
 * dismiss_stale_reviews_on_push only approvals of the head commit count; with
 * require_last_push_approval the last pusher's approval does not.
 */
export function reviewViolations(
  core: SimulatorCore,
  pull: PullRequest,
  parameters: Record<string, unknown>,
): string[] {
  const required = Number(parameters.required_approving_review_count ?? 0);
  const latest = new Map<string, Review>();
  for (const review of core.state.reviews) {
    if (review.pullNumber !== pull.number || !COUNTED_STATES.has(review.state)) continue;
    latest.set(review.user.toLowerCase(), review);
  }
  const lastPusher =
    parameters.require_last_push_approval === true
      ? core.lastPusher(pull)?.toLowerCase()
      : undefined;
  let approvals = 0;
  let changesRequested = false;
  for (const [login, review] of latest) {
    if (login === pull.author.toLowerCase()) continue;
    const reviewer = core.findUser(login);
    if (!reviewer || !core.hasPermission(reviewer, "write")) continue;
    if (review.state === "CHANGES_REQUESTED") changesRequested = true;
    if (review.state !== "APPROVED") continue;
    if (parameters.dismiss_stale_reviews_on_push === true && review.commitId !== pull.headSha) {
      continue;
    }
    if (lastPusher !== undefined && login === lastPusher) continue;
    approvals += 1;
  }
  const violations: string[] = [];
  if (changesRequested) violations.push("Changes have been requested.");
  if (approvals < required) {
    violations.push(
      required === 1
        ? "At least 1 approving review is required by reviewers with write access."
        : `At least ${required} approving reviews are required by reviewers with write access.`,
    );
  }
  return violations;
}

/** What the base branch's rulesets refuse about merging `pull` now, by `credential`. */
export function mergeViolations(
  core: SimulatorCore,
  pull: PullRequest,
  credential: Credential,
  method: MergeMethod,
): string[] {
  const violations: string[] = [];
  for (const ruleset of activeRulesets(core, `refs/heads/${pull.base}`)) {
    if (bypassModeOf(core, ruleset, credential)) continue;
    for (const rule of ruleset.rules) {
      const parameters = rule.parameters ?? {};
      if (rule.type === "required_status_checks") {
        const checks = (parameters.required_status_checks ?? []) as {
          context: string;
          integration_id?: number;
        }[];
        violations.push(...statusCheckViolations(core, pull.headSha, checks));
        if (
          parameters.strict_required_status_checks_policy === true &&
          !core.git.isAncestor(pull.baseSha, pull.headSha)
        ) {
          violations.push("This branch must be up to date with the base branch before merging.");
        }
      } else if (rule.type === "pull_request") {
        violations.push(...reviewViolations(core, pull, parameters));
        const allowed = parameters.allowed_merge_methods;
        if (Array.isArray(allowed) && allowed.length > 0 && !allowed.includes(method)) {
          violations.push(`Merge method ${method} is not allowed for this branch.`);
        }
      }
    }
  }
  return violations;
}

/**
 * What the rulesets refuse about moving a branch directly (REST ref and contents writes), by
 * an actor without "always"/"exempt" bypass: a pull_request bypass only covers merges.
 * Required status checks apply to the pushed commit itself ("commits must first be pushed to
 * another branch, then merged or pushed directly … after status checks have passed").
 */
export function pushViolations(
  core: SimulatorCore,
  input: { ref: string; before: string; after: string; credential: Credential },
): string[] {
  const creating = input.before === ZERO_SHA;
  const deleting = input.after === ZERO_SHA;
  const violations: string[] = [];
  for (const ruleset of activeRulesets(core, input.ref)) {
    const mode = bypassModeOf(core, ruleset, input.credential);
    if (mode === "always" || mode === "exempt") continue;
    for (const rule of ruleset.rules) {
      const parameters = rule.parameters ?? {};
      switch (rule.type) {
        case "creation":
          if (creating) violations.push("Cannot create ref due to creations being restricted.");
          break;
        case "update":
          if (!creating && !deleting) violations.push("Cannot update this protected ref.");
          break;
        case "deletion":
          if (deleting) violations.push("Cannot delete this protected branch.");
          break;
        case "non_fast_forward":
          if (!creating && !deleting && !core.git.isAncestor(input.before, input.after)) {
            violations.push("Cannot force-push to this branch");
          }
          break;
        case "pull_request":
          if (!deleting) violations.push("Changes must be made through a pull request.");
          break;
        case "required_status_checks":
          if (deleting || (creating && parameters.do_not_enforce_on_create === true)) break;
          violations.push(
            ...statusCheckViolations(
              core,
              input.after,
              (parameters.required_status_checks ?? []) as { context: string }[],
            ),
          );
          break;
      }
    }
  }
  return violations;
}

/** 422 unless the rulesets allow this direct move of a branch by the request's actor. */
export function enforcePushRules(
  core: SimulatorCore,
  request: RequestContext,
  input: { ref: string; before: string; after: string },
): void {
  const violations = pushViolations(core, { ...input, credential: request.auth });
  if (violations.length > 0) throw ruleViolationError(422, violations);
}

/** A ruleset as GET /rulesets serves it, with what the viewer may bypass. */
export function rulesetJson(core: SimulatorCore, ruleset: Ruleset, viewer: Credential) {
  const mode = bypassModeOf(core, ruleset, viewer);
  const self = `${core.apiRepoUrl}/rulesets/${ruleset.id}`;
  return {
    id: ruleset.id,
    name: ruleset.name,
    target: ruleset.target,
    source_type: "Repository",
    source: `${core.owner}/${core.repo}`,
    enforcement: ruleset.enforcement,
    bypass_actors: ruleset.bypass_actors,
    current_user_can_bypass: mode === "pull_request" ? "pull_requests_only" : (mode ?? "never"),
    node_id: ruleset.nodeId,
    _links: {
      self: { href: self },
      html: { href: `${core.htmlRepoUrl}/rules/${ruleset.id}` },
    },
    conditions: ruleset.conditions,
    rules: ruleset.rules,
    created_at: ruleset.createdAt,
    updated_at: ruleset.updatedAt,
  };
}

/** GET /rules/branches/{branch}: every active rule for the branch, with its ruleset. */
export function branchRulesJson(core: SimulatorCore, branch: string) {
  return activeRulesets(core, `refs/heads/${branch}`).flatMap((ruleset) =>
    ruleset.rules.map((rule) => ({
      ...rule,
      ruleset_source_type: "Repository",
      ruleset_source: `${core.owner}/${core.repo}`,
      ruleset_id: ruleset.id,
    })),
  );
}
