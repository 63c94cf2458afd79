/**
 * Which workflow files GitHub starts for an event, from which commit, with which ref, sha,
 * payload and privileges (research notes points 1–4, test/harness/github-behaviour.md):
 *
 * - push: the pushed commit's files; branches/tags/paths filters.
 * - pull_request, pull_request_review: the PR's merge commit (refs/pull/N/merge); no run
 *   when the PR conflicts; fork heads get no secrets and a read-only token.
 *   https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#pull_request
 * - pull_request_target: the DEFAULT branch's latest commit, whatever the base (since
 *   2025-12-08), runs despite conflicts, secrets even for forks.
 *   https://github.blog/changelog/2025-11-07-actions-pull_request_target-and-environment-branch-protections-changes
 * - workflow_run: files on the default branch only, `workflows:` matched against the
 *   triggering run's workflow NAME (globs), privileged.
 * - schedule: default branch's latest commit. workflow_dispatch: the chosen ref's copy.
 */
import type { GitHubSimulator, PullRequest } from "../github-simulator.js";
import { matchesPatterns, passesPathFilter, passesRefFilter } from "./filters.js";
import { changedPaths, mergeBase, readFileAt, resolve, workflowFiles, ZERO_SHA } from "./git.js";
import { type ParsedWorkflow, parseWorkflowText } from "./parser.js";
import {
  example,
  type PullTarget,
  pullRequestObject,
  pushCommits,
  type RepositoryTarget,
  retargetCommon,
  retargetRepository,
} from "./payloads.js";
import { defaultBranch, findPull, headRepository, mergeCommit } from "./simulator.js";
import type { PlannedRun, RepositorySettings, TriggerEvent } from "./types.js";

/** Activity types a workflow runs for when it lists none (events page, per event). */
const DEFAULT_TYPES: Record<string, string[] | undefined> = {
  pull_request: ["opened", "synchronize", "reopened"],
  pull_request_target: ["opened", "synchronize", "reopened"],
};

/** What a run knows of its event before a workflow file is picked. */
type RunContext = Omit<PlannedRun, "file" | "workflowName" | "eventName" | "payload">;

interface EventPlan extends RunContext {
  /** Whether this workflow's `on:` takes the event. */
  triggers(parsed: ParsedWorkflow): boolean;
  payload(parsed: ParsedWorkflow): Record<string, unknown>;
}

type Filter = {
  types?: string[];
  branches?: string[];
  "branches-ignore"?: string[];
  tags?: string[];
  "tags-ignore"?: string[];
  paths?: string[];
  "paths-ignore"?: string[];
  workflows?: string[];
};

function eventConfig(parsed: ParsedWorkflow, name: string): Filter | undefined {
  const config = (parsed.events as Record<string, unknown>)[name];
  return config === undefined ? undefined : (config as Filter);
}

function typesAllow(config: Filter, eventName: string, action: string): boolean {
  const types = config.types ?? DEFAULT_TYPES[eventName];
  return types === undefined || types.includes(action);
}

function repositoryTarget(sim: GitHubSimulator): RepositoryTarget {
  return { owner: sim.owner, repo: sim.repo, defaultBranch: defaultBranch(sim) };
}

/** The files a pull request changes: three-dot (merge base to head), as paths filters see it. */
function pullFiles(sim: GitHubSimulator, pull: PullRequest): string[] {
  const base = mergeBase(sim.bareRepo, pull.baseSha, pull.headSha) ?? pull.baseSha;
  return changedPaths(sim.bareRepo, base, pull.headSha);
}

/** Dependabot PRs are treated as though they come from a fork (events page, forks). */
function untrustedHead(sim: GitHubSimulator, pull: PullRequest): boolean {
  return headRepository(sim, pull).fork || pull.author.toLowerCase() === "dependabot[bot]";
}

function pullTarget(sim: GitHubSimulator, pull: PullRequest): PullTarget {
  return { pull, headRepository: headRepository(sim, pull), base: repositoryTarget(sim) };
}

function pullEventPlan(
  sim: GitHubSimulator,
  event: Extract<TriggerEvent, { pull: number }>,
): EventPlan | undefined {
  const pull = findPull(sim, event.pull);
  const target = pullTarget(sim, pull);
  const main = defaultBranch(sim);
  const head = target.headRepository;
  const common = {
    actor: event.sender,
    baseRef: pull.base,
    headRef: pull.head,
    runHeadSha: pull.headSha,
    runHeadBranch: pull.head,
    headRepository: `${head.owner}/${head.repo}`,
    // GitHub lists no pull requests on runs from fork heads (community: actions/runner#3444).
    pullRequests: head.fork ? [] : [pull.number],
  };
  const payload = (): Record<string, unknown> => {
    const body =
      event.name === "pull_request_review"
        ? example("pull_request_review", event.action)
        : example("pull_request", event.action);
    retargetCommon(body, repositoryTarget(sim), event.sender);
    body.pull_request = pullRequestObject(body.pull_request, target);
    if ("number" in body || event.name !== "pull_request_review") body.number = pull.number;
    if (event.name === "pull_request_review") {
      const recorded = sim.state.reviews
        .filter((review) => review.pullNumber === pull.number && review.user === event.sender)
        .at(-1);
      body.review = {
        ...(body.review as Record<string, unknown>),
        id: recorded?.id ?? (body.review as Record<string, unknown>)?.id,
        user: {
          ...((body.review as Record<string, unknown>)?.user as object),
          login: event.sender,
        },
        state: (event.review?.state ?? recorded?.state ?? "commented").toLowerCase(),
        commit_id: event.review?.commitId ?? recorded?.commitId ?? pull.headSha,
        body: recorded?.body ?? null,
      };
    } else {
      if (event.action === "synchronize") {
        body.after = pull.headSha;
        body.before = event.before ?? resolve(sim.bareRepo, `${pull.headSha}^`) ?? ZERO_SHA;
      }
      if (event.changes) body.changes = event.changes;
      else delete body.changes;
    }
    return body;
  };

  if (event.name === "pull_request_target") {
    // Since 2025-12-08: the default branch's latest commit, whatever the PR's base; runs even
    // when the PR conflicts; secrets and a write-capable token even for forks.
    const sha = resolve(sim.bareRepo, `refs/heads/${main}`);
    if (!sha) return undefined;
    return {
      ...common,
      sourceSha: sha,
      githubSha: sha,
      githubRef: `refs/heads/${main}`,
      secretsAvailable: true,
      tokenReadOnly: false,
      triggers(parsed) {
        const config = eventConfig(parsed, "pull_request_target");
        if (!config || !typesAllow(config, event.name, event.action)) return false;
        if (!passesRefFilter(pull.base, config.branches, config["branches-ignore"])) return false;
        return passesPathFilter(pullFiles(sim, pull), config.paths, config["paths-ignore"]);
      },
      payload,
    };
  }

  // pull_request and pull_request_review: the merge commit, refs/pull/N/merge. A merged PR's
  // closed event runs on the branch it was merged into, at the merge commit.
  let sha: string | null;
  let ref: string;
  if (pull.merged && pull.mergeCommitSha) {
    sha = pull.mergeCommitSha;
    ref = `refs/heads/${pull.base}`;
  } else {
    sha = mergeCommit(sim, pull);
    ref = `refs/pull/${pull.number}/merge`;
  }
  // "Workflows will not run on pull_request activity if the pull request has a merge
  // conflict." (modelled the same for reviews: their GITHUB_SHA is the merge commit too).
  if (!sha) return undefined;
  const untrusted = untrustedHead(sim, pull);
  return {
    ...common,
    sourceSha: sha,
    githubSha: sha,
    githubRef: ref,
    secretsAvailable: !untrusted,
    tokenReadOnly: untrusted,
    triggers(parsed) {
      const config = eventConfig(parsed, event.name);
      if (!config || !typesAllow(config, event.name, event.action)) return false;
      if (event.name === "pull_request_review") return true;
      if (!passesRefFilter(pull.base, config.branches, config["branches-ignore"])) return false;
      return passesPathFilter(pullFiles(sim, pull), config.paths, config["paths-ignore"]);
    },
    payload,
  };
}

/** A run of one of this repository's own refs (no pull request): secrets, a write-capable token. */
function ownRefContext(sim: GitHubSimulator, sha: string, ref: string, actor: string): RunContext {
  return {
    sourceSha: sha,
    githubSha: sha,
    githubRef: ref,
    secretsAvailable: true,
    tokenReadOnly: false,
    actor,
    baseRef: "",
    headRef: "",
    runHeadSha: sha,
    runHeadBranch: ref.replace(/^refs\/(heads|tags)\//, ""),
    headRepository: `${sim.owner}/${sim.repo}`,
    pullRequests: [],
  };
}

function pushPlan(
  sim: GitHubSimulator,
  event: Extract<TriggerEvent, { name: "push" }>,
): EventPlan | undefined {
  // A deleted branch or tag starts no push workflows.
  if (event.after === ZERO_SHA) return undefined;
  const created = event.before === ZERO_SHA;
  const isTag = event.ref.startsWith("refs/tags/");
  const name = event.ref.replace(/^refs\/(heads|tags)\//, "");
  const main = defaultBranch(sim);
  const files = () => {
    if (!created) return changedPaths(sim.bareRepo, event.before, event.after);
    const base = resolve(sim.bareRepo, `refs/heads/${main}`);
    const from = base ? mergeBase(sim.bareRepo, base, event.after) : undefined;
    return changedPaths(sim.bareRepo, from && from !== event.after ? from : undefined, event.after);
  };
  return {
    ...ownRefContext(sim, event.after, event.ref, event.sender),
    triggers(parsed) {
      const config = eventConfig(parsed, "push");
      if (!config) return false;
      const branchFilters =
        config.branches !== undefined || config["branches-ignore"] !== undefined;
      const tagFilters = config.tags !== undefined || config["tags-ignore"] !== undefined;
      // Only branch filters: tags never run it, and the other way round (workflow syntax).
      if (isTag) {
        if (branchFilters && !tagFilters) return false;
        if (!passesRefFilter(name, config.tags, config["tags-ignore"])) return false;
      } else {
        if (tagFilters && !branchFilters) return false;
        if (!passesRefFilter(name, config.branches, config["branches-ignore"])) return false;
      }
      return passesPathFilter(files(), config.paths, config["paths-ignore"]);
    },
    payload() {
      const body = example("push");
      retargetCommon(body, repositoryTarget(sim), event.sender);
      const commits = pushCommits(sim.bareRepo, created ? undefined : event.before, event.after);
      Object.assign(body, {
        ref: event.ref,
        before: event.before,
        after: event.after,
        created,
        deleted: false,
        forced: false,
        base_ref: null,
        compare: `https://github.com/${sim.owner}/${sim.repo}/compare/${event.before.slice(0, 12)}...${event.after.slice(0, 12)}`,
        commits,
        head_commit: commits.at(-1) ?? null,
        pusher: { name: event.sender, email: `${event.sender}@users.noreply.github.com` },
      });
      return body;
    },
  };
}

function defaultBranchPlan(sim: GitHubSimulator) {
  const main = defaultBranch(sim);
  const sha = resolve(sim.bareRepo, `refs/heads/${main}`);
  return sha ? { main, sha } : undefined;
}

function workflowRunPlan(
  sim: GitHubSimulator,
  event: Extract<TriggerEvent, { name: "workflow_run" }>,
): EventPlan | undefined {
  const head = defaultBranchPlan(sim);
  if (!head) return undefined;
  const { run } = event;
  return {
    // "able to access secrets and write tokens, even if the previous workflow was not".
    ...ownRefContext(sim, head.sha, `refs/heads/${head.main}`, run.actor ?? sim.owner),
    triggers(parsed) {
      const config = eventConfig(parsed, "workflow_run");
      if (!config?.workflows) return false;
      if (!config.workflows.some((pattern) => matchesPatterns(run.workflowName, [pattern]))) {
        return false;
      }
      if (config.types && !config.types.includes(event.action)) return false;
      return passesRefFilter(run.headBranch, config.branches, config["branches-ignore"]);
    },
    payload(parsed) {
      const body = example("workflow_run", event.action);
      const target = repositoryTarget(sim);
      retargetCommon(body, target, run.actor ?? sim.owner);
      const [headOwner = sim.owner, headRepo = sim.repo] = (
        run.headRepository ?? `${sim.owner}/${sim.repo}`
      ).split("/");
      const fork = headOwner.toLowerCase() !== sim.owner.toLowerCase();
      const forkId = fork
        ? sim.state.forks.find((f) => f.owner.toLowerCase() === headOwner.toLowerCase())?.id
        : undefined;
      const previous = (body.workflow_run ?? {}) as Record<string, unknown>;
      body.workflow_run = {
        ...previous,
        id: run.id,
        name: run.workflowName,
        path: run.file ?? previous.path,
        event: run.eventName,
        head_sha: run.headSha,
        head_branch: run.headBranch,
        status: event.action === "completed" ? "completed" : "queued",
        conclusion: event.action === "completed" ? run.conclusion : null,
        pull_requests: (run.pullRequests ?? []).map((number) => {
          const pull = sim.state.pulls.find((candidate) => candidate.number === number);
          return {
            number,
            head: { ref: pull?.head ?? run.headBranch, sha: pull?.headSha ?? run.headSha },
            base: { ref: pull?.base ?? head.main, sha: pull?.baseSha ?? head.sha },
          };
        }),
        repository: retargetRepository(previous.repository, target),
        head_repository: retargetRepository(previous.head_repository, {
          owner: headOwner,
          repo: headRepo,
          defaultBranch: head.main,
          fork,
          ...(forkId === undefined ? {} : { id: forkId }),
        }),
        head_commit: { ...((previous.head_commit as object) ?? {}), id: run.headSha },
        actor: { ...((previous.actor as object) ?? {}), login: run.actor ?? sim.owner },
      };
      body.workflow = {
        ...((body.workflow as object) ?? {}),
        name: run.workflowName,
        path: run.file ?? parsed.file,
      };
      return body;
    },
  };
}

function schedulePlan(
  sim: GitHubSimulator,
  event: Extract<TriggerEvent, { name: "schedule" }>,
): EventPlan | undefined {
  const head = defaultBranchPlan(sim);
  if (!head) return undefined;
  return {
    ...ownRefContext(sim, head.sha, `refs/heads/${head.main}`, sim.owner),
    triggers(parsed) {
      const schedules = (parsed.events.schedule ?? []) as { cron: string }[];
      return schedules.some((schedule) => schedule.cron === event.cron);
    },
    payload(parsed) {
      // Not a webhook (no published example): the schedule, the repository, the workflow.
      return {
        schedule: event.cron,
        repository: retargetRepository(example("push").repository, repositoryTarget(sim)),
        workflow: parsed.file,
      };
    },
  };
}

function dispatchPlan(
  sim: GitHubSimulator,
  event: Extract<TriggerEvent, { name: "workflow_dispatch" }>,
): EventPlan | undefined {
  const ref = event.ref.startsWith("refs/") ? event.ref : `refs/heads/${event.ref}`;
  const sha = resolve(sim.bareRepo, ref);
  if (!sha) throw new Error(`No ref found for: ${event.ref}`);
  const wanted = event.workflow;
  return {
    ...ownRefContext(sim, sha, ref, event.sender),
    triggers(parsed) {
      if (parsed.events.workflow_dispatch === undefined) return false;
      if (!wanted) return true;
      return parsed.file === wanted || parsed.file.endsWith(`/${wanted}`);
    },
    payload(parsed) {
      const declared = parsed.events.workflow_dispatch?.inputs ?? {};
      const given = event.inputs ?? {};
      // The dispatch API's 422s: inputs the workflow does not declare, required ones missing.
      const unexpected = Object.keys(given).filter((key) => !(key in declared));
      if (unexpected.length > 0) {
        throw new Error(`Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
      }
      const inputs: Record<string, string> = {};
      for (const [key, spec] of Object.entries(declared)) {
        const value = given[key] ?? (spec.default === undefined ? undefined : String(spec.default));
        if (value === undefined || (spec.required && value === "")) {
          if (spec.required) throw new Error(`Required input '${key}' not provided`);
          continue;
        }
        inputs[key] = value;
      }
      const body = example("workflow_dispatch");
      retargetCommon(body, repositoryTarget(sim), event.sender);
      Object.assign(body, { inputs, ref, workflow: parsed.file });
      return body;
    },
  };
}

function planFor(sim: GitHubSimulator, event: TriggerEvent): EventPlan | undefined {
  switch (event.name) {
    case "pull_request":
    case "pull_request_target":
    case "pull_request_review":
      return pullEventPlan(sim, event);
    case "push":
      return pushPlan(sim, event);
    case "workflow_run":
      return workflowRunPlan(sim, event);
    case "schedule":
      return schedulePlan(sim, event);
    case "workflow_dispatch":
      return dispatchPlan(sim, event);
  }
}

/** Parsed workflow files at a commit (invalid ones left out: GitHub fails those runs at once). */
export function workflowsAt(sim: GitHubSimulator, sha: string): ParsedWorkflow[] {
  const out: ParsedWorkflow[] = [];
  for (const file of workflowFiles(sim.bareRepo, sha)) {
    const text = readFileAt(sim.bareRepo, sha, file);
    if (text === undefined) continue;
    const parsed = parseWorkflowText(text, file);
    if (parsed.errors.length === 0) out.push(parsed);
  }
  return out;
}

/** The workflow files GitHub starts for this event (after `on:` filters), from the right commit. */
export function plannedRuns(
  sim: GitHubSimulator,
  event: TriggerEvent,
  _settings: RepositorySettings = {},
): PlannedRun[] {
  const plan = planFor(sim, event);
  if (!plan) return [];
  const runs: PlannedRun[] = [];
  for (const parsed of workflowsAt(sim, plan.sourceSha)) {
    if (!plan.triggers(parsed)) continue;
    runs.push({
      file: parsed.file,
      workflowName: parsed.name,
      sourceSha: plan.sourceSha,
      eventName: event.name,
      payload: plan.payload(parsed),
      githubSha: plan.githubSha,
      githubRef: plan.githubRef,
      secretsAvailable: plan.secretsAvailable,
      tokenReadOnly: plan.tokenReadOnly,
      actor: plan.actor,
      baseRef: plan.baseRef,
      headRef: plan.headRef,
      runHeadSha: plan.runHeadSha,
      runHeadBranch: plan.runHeadBranch,
      headRepository: plan.headRepository,
      pullRequests: plan.pullRequests,
    });
  }
  return runs;
}
