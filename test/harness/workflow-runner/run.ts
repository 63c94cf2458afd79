/**
 * Runs a planned workflow's jobs as GitHub and its runner would: jobs in `needs` order with
 * their `if:`, matrix, environment (deployment branch rules, environment secrets), token
 * permissions and secrets; each job's steps in a fresh workspace with the runner's
 * environment, file commands and status functions.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve as resolvePath } from "node:path";
import type { GitHubSimulator } from "../github-simulator.js";
import { createAppToken, revokeAppToken } from "./app-token.js";
import {
  type Contexts,
  ExpressionFailure,
  evaluateCondition,
  evaluateString,
  evaluateStringMap,
  evaluateToken,
  type Status,
} from "./expressions.js";
import { matchesDeploymentRule } from "./filters.js";
import { checkout, readFileAt, removeGitHome } from "./git.js";
import {
  child,
  literalText,
  type MappingToken,
  type ParsedWorkflow,
  parseActionText,
  parseWorkflowText,
  rawJob,
  rawSteps,
  type TemplateToken,
  type WorkflowJob,
} from "./parser.js";
import {
  fileCommands,
  type ProcessResult,
  readFileCommands,
  runProcess,
  workflowCommands,
} from "./process.js";
import { expireActionsToken, mintActionsToken, type TokenPermissions } from "./simulator.js";
import type {
  JobResult,
  PlannedRun,
  RepositorySettings,
  StepResult,
  WorkflowRunResult,
} from "./types.js";

/** Actions that do nothing here by design (success, no outputs), and why. */
export const SKIPPED_ACTIONS: Record<string, string> = {
  "actions/setup-node": "skipped: the runner's node is the test process's node",
  "actions/upload-artifact": "skipped: the simulator stores no artifacts",
  "actions/upload-pages-artifact": "skipped: the simulator has no GitHub Pages",
  "actions/configure-pages": "skipped: the simulator has no GitHub Pages",
  "actions/deploy-pages": "skipped: the simulator has no GitHub Pages",
};

/** GITHUB_TOKEN scopes (controlling permissions for GITHUB_TOKEN); metadata is always read. */
const SCOPES = [
  "actions",
  "attestations",
  "checks",
  "contents",
  "deployments",
  "discussions",
  "id-token",
  "issues",
  "models",
  "packages",
  "pages",
  "pull-requests",
  "repository-projects",
  "security-events",
  "statuses",
] as const;

type Level = "read" | "write" | "none";

function allScopes(level: Level): TokenPermissions {
  const out: TokenPermissions = {};
  for (const scope of SCOPES) out[scope] = level;
  return out;
}

/**
 * The token's permissions: `permissions:` of the job, else of the workflow, else the
 * repository default (restricted: contents and packages read; permissive: read/write for all,
 * id-token none, models read). Any scope a mapping leaves out is none. Fork PRs: at most read.
 */
export function tokenPermissions(
  declared: unknown,
  settings: RepositorySettings,
  readOnly: boolean,
): TokenPermissions {
  let permissions: TokenPermissions;
  if (declared === undefined || declared === null) {
    if (settings.defaultTokenPermissions === "write") {
      permissions = { ...allScopes("write"), "id-token": "none", models: "read" };
    } else {
      permissions = { ...allScopes("none"), contents: "read", packages: "read" };
    }
  } else if (declared === "read-all") {
    permissions = allScopes("read");
  } else if (declared === "write-all") {
    permissions = allScopes("write");
  } else if (typeof declared === "object") {
    permissions = allScopes("none");
    for (const [scope, level] of Object.entries(declared as Record<string, string>)) {
      permissions[scope] = level as Level;
    }
  } else {
    throw new Error(`Unexpected permissions value: ${JSON.stringify(declared)}`);
  }
  permissions.metadata = "read";
  if (readOnly) {
    for (const [scope, level] of Object.entries(permissions)) {
      if (level === "write") permissions[scope] = "read";
    }
  }
  return permissions;
}

/** The branch (or tag) name a deployment rule sees: refs/heads/ stripped, other refs kept. */
function deploymentRefName(ref: string): { kind: "Branch" | "Tag"; name: string } {
  if (ref.startsWith("refs/heads/")) return { kind: "Branch", name: ref.slice(11) };
  if (ref.startsWith("refs/tags/")) return { kind: "Tag", name: ref.slice(10) };
  return { kind: "Branch", name: ref };
}

let lastRunId = 7_000_000_000;
const runNumbers = new Map<string, number>();
const scratchDirs = new Set<string>();

/** Removes every temporary directory a run left (runWorkflow removes its own when it ends). */
export function cleanup(): void {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  scratchDirs.clear();
  removeGitHome();
}

export interface RunOptions {
  /** Only these jobs run; the others count as skipped (their dependants see that). */
  jobs?: string[];
  /** Extra environment for every step (after the runner's own). */
  env?: Record<string, string>;
  /** Keep the run's directories (workspaces) for inspection until cleanup(). */
  keepWorkspaces?: boolean;
}

interface RunState {
  sim: GitHubSimulator;
  planned: PlannedRun;
  settings: RepositorySettings;
  options: RunOptions;
  parsed: ParsedWorkflow;
  runId: number;
  runNumber: number;
  scratch: string;
  eventPath: string;
  results: Map<string, JobResult[]>;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function refName(ref: string): string {
  return ref.replace(/^refs\/(heads|tags|pull)\//, "");
}

function githubContext(state: RunState, jobId: string, token: string, workspace: string) {
  const { sim, planned, parsed } = state;
  const repository = `${sim.owner}/${sim.repo}`;
  return {
    action: "",
    action_path: "",
    action_ref: "",
    action_repository: "",
    actor: planned.actor,
    triggering_actor: planned.actor,
    api_url: sim.url,
    graphql_url: `${sim.url}/graphql`,
    server_url: "https://github.com",
    base_ref: planned.baseRef,
    head_ref: planned.headRef,
    event: planned.payload,
    event_name: planned.eventName,
    event_path: state.eventPath,
    job: jobId,
    ref: planned.githubRef,
    ref_name: refName(planned.githubRef),
    ref_protected: false,
    ref_type: planned.githubRef.startsWith("refs/tags/") ? "tag" : "branch",
    repository,
    repository_owner: sim.owner,
    repositoryUrl: `git://github.com/${repository}.git`,
    retention_days: "90",
    run_id: String(state.runId),
    run_number: String(state.runNumber),
    run_attempt: "1",
    secret_source: planned.secretsAvailable ? "Actions" : "None",
    sha: planned.githubSha,
    token,
    workflow: parsed.name,
    workflow_ref: `${repository}/${parsed.file}@${planned.githubRef}`,
    workflow_sha: planned.sourceSha,
    workspace,
  };
}

/** needs' order (GitHub runs independent jobs in parallel; here one after the other). */
function jobOrder(jobs: WorkflowJob[]): WorkflowJob[] {
  const byId = new Map(jobs.map((job) => [job.id.value, job]));
  const done = new Set<string>();
  const out: WorkflowJob[] = [];
  const visit = (job: WorkflowJob, path: string[]) => {
    const id = job.id.value;
    if (done.has(id)) return;
    if (path.includes(id)) throw new Error(`jobs form a cycle: ${[...path, id].join(" -> ")}`);
    for (const need of job.needs ?? []) {
      const dependency = byId.get(need.value);
      if (dependency) visit(dependency, [...path, id]);
    }
    done.add(id);
    out.push(job);
  };
  for (const job of jobs) visit(job, []);
  return out;
}

function aggregate(results: JobResult[]): "success" | "failure" | "skipped" {
  if (results.length === 0 || results.every((result) => result.conclusion === "skipped")) {
    return "skipped";
  }
  return results.some((result) => result.conclusion === "failure") ? "failure" : "success";
}

/** Cartesian product, exclude, then include (workflow syntax: jobs.<id>.strategy.matrix). */
export function expandMatrix(matrix: unknown): Record<string, unknown>[] {
  if (matrix === undefined || matrix === null) return [{}];
  const spec = asRecord(matrix);
  const include = Array.isArray(spec.include) ? (spec.include as Record<string, unknown>[]) : [];
  const exclude = Array.isArray(spec.exclude) ? (spec.exclude as Record<string, unknown>[]) : [];
  const vectors = Object.entries(spec).filter(([key]) => key !== "include" && key !== "exclude");
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, values] of vectors) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new Error(`Matrix vector '${key}' does not contain any values`);
    }
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value })));
  }
  if (vectors.length === 0) combos = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  combos = combos.filter(
    (combo) =>
      !exclude.some((rule) =>
        Object.entries(rule).every(([key, value]) => same(combo[key], value)),
      ),
  );
  const originalKeys = new Set(vectors.map(([key]) => key));
  const originals = combos.map((combo) => ({ ...combo }));
  const extra: Record<string, unknown>[] = [];
  for (const entry of include) {
    let added = false;
    combos.forEach((combo, index) => {
      const original = originals[index] ?? {};
      const overwrites = Object.entries(entry).some(
        ([key, value]) => originalKeys.has(key) && key in original && !same(original[key], value),
      );
      if (!overwrites) {
        Object.assign(combo, entry);
        added = true;
      }
    });
    if (!added) extra.push({ ...entry });
  }
  const all = [...combos, ...extra];
  return all.length > 0 ? all : [{}];
}

export async function runWorkflow(
  sim: GitHubSimulator,
  planned: PlannedRun,
  settings: RepositorySettings = {},
  options: RunOptions = {},
): Promise<WorkflowRunResult> {
  const text = readFileAt(sim.bareRepo, planned.sourceSha, planned.file);
  if (text === undefined) throw new Error(`${planned.file} is not in ${planned.sourceSha}`);
  const parsed = parseWorkflowText(text, planned.file);
  lastRunId += 1;
  const runNumber = (runNumbers.get(planned.file) ?? 0) + 1;
  runNumbers.set(planned.file, runNumber);
  const result: WorkflowRunResult = {
    id: lastRunId,
    workflowName: parsed.name,
    file: planned.file,
    eventName: planned.eventName,
    headSha: planned.runHeadSha,
    headBranch: planned.runHeadBranch,
    conclusion: "success",
    jobs: [],
    actor: planned.actor,
    headRepository: planned.headRepository,
    pullRequests: planned.pullRequests,
  };
  if (parsed.errors.length > 0) {
    // GitHub fails such a run at once ("Invalid workflow file"), with no jobs.
    return { ...result, conclusion: "failure", errors: parsed.errors };
  }
  const scratch = mkdtempSync(join(tmpdir(), "workflow-run-"));
  scratchDirs.add(scratch);
  const eventPath = join(scratch, "event.json");
  writeFileSync(eventPath, JSON.stringify(planned.payload, null, 2));
  const state: RunState = {
    sim,
    planned,
    settings,
    options,
    parsed,
    runId: lastRunId,
    runNumber,
    scratch,
    eventPath,
    results: new Map(),
  };
  try {
    for (const job of jobOrder(parsed.jobs)) {
      const jobResults = await runJob(state, job);
      state.results.set(job.id.value, jobResults);
      result.jobs.push(...jobResults);
    }
  } finally {
    if (!options.keepWorkspaces) {
      rmSync(scratch, { recursive: true, force: true });
      scratchDirs.delete(scratch);
    }
  }
  result.conclusion = result.jobs.some((job) => job.conclusion === "failure")
    ? "failure"
    : "success";
  return result;
}

function skippedJob(id: string, name: string): JobResult {
  return {
    id,
    name,
    conclusion: "skipped",
    tokenPermissions: {},
    secretsSeen: [],
    steps: [],
    outputs: {},
  };
}

function needsContext(state: RunState, job: WorkflowJob): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const need of job.needs ?? []) {
    const results = state.results.get(need.value) ?? [];
    const outputs: Record<string, string> = {};
    for (const result of results) Object.assign(outputs, result.outputs);
    out[need.value] = { result: aggregate(results), outputs };
  }
  return out;
}

/** Every job this one needs, directly or not. */
function ancestors(state: RunState, job: WorkflowJob, seen = new Set<string>()): Set<string> {
  for (const need of job.needs ?? []) {
    if (seen.has(need.value)) continue;
    seen.add(need.value);
    const dependency = state.parsed.jobs.find((candidate) => candidate.id.value === need.value);
    if (dependency) ancestors(state, dependency, seen);
  }
  return seen;
}

function repositoryVariables(state: RunState, environment?: string): Record<string, string> {
  // Variables, like secrets, are not passed to runs from fork pull requests (the Actions
  // secrets-and-variables settings page: "They are not passed to workflows that are
  // triggered by a pull request from a fork.").
  if (!state.planned.secretsAvailable) return {};
  return {
    ...(state.settings.variables ?? {}),
    ...((environment && state.settings.environments?.[environment]?.variables) || {}),
  };
}

async function runJob(state: RunState, job: WorkflowJob): Promise<JobResult[]> {
  const id = job.id.value;
  const displayName = literalText(child(rawJob(state.parsed, id), "name")) ?? id;
  if (state.options.jobs && !state.options.jobs.includes(id)) return [skippedJob(id, displayName)];
  if (job.type !== "job") {
    return [
      {
        ...skippedJob(id, displayName),
        conclusion: "failure",
        error: "not emulated: reusable workflow jobs",
      },
    ];
  }
  if (job.container || job.services) {
    return [
      {
        ...skippedJob(id, displayName),
        conclusion: "failure",
        error: "not emulated: job containers and services",
      },
    ];
  }
  const needs = needsContext(state, job);
  const direct = Object.values(needs).map((need) => asRecord(need).result);
  const failedAncestor = [...ancestors(state, job)].some(
    (ancestor) => aggregate(state.results.get(ancestor) ?? []) === "failure",
  );
  const status: Status = {
    success: direct.every((result) => result === "success"),
    failure: failedAncestor,
    cancelled: false,
  };
  const base: Contexts = {
    github: githubContext(state, id, "", ""),
    inputs: inputsContext(state),
    vars: repositoryVariables(state),
    needs,
  };
  try {
    if (!evaluateCondition(job.if?.expression, base, status)) return [skippedJob(id, displayName)];
  } catch (error) {
    return [{ ...skippedJob(id, displayName), conclusion: "failure", error: String(error) }];
  }
  let combos: Record<string, unknown>[];
  let strategy: Record<string, unknown>;
  try {
    strategy = asRecord(evaluateToken(job.strategy, base));
    combos = job.strategy ? expandMatrix(strategy.matrix) : [{}];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [{ ...skippedJob(id, displayName), conclusion: "failure", error: message }];
  }
  const results: JobResult[] = [];
  for (const [index, matrix] of combos.entries()) {
    const strategyContext = {
      "fail-fast": strategy["fail-fast"] ?? true,
      "job-index": index,
      "job-total": combos.length,
      "max-parallel": strategy["max-parallel"] ?? combos.length,
    };
    results.push(
      await runJobInstance(state, job, {
        needs,
        matrix: job.strategy ? matrix : undefined,
        strategy: strategyContext,
      }),
    );
  }
  return results;
}

function inputsContext(state: RunState): Record<string, unknown> {
  const { planned, parsed } = state;
  if (planned.eventName !== "workflow_dispatch") return {};
  const given = asRecord(planned.payload.inputs);
  const declared = parsed.events.workflow_dispatch?.inputs ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    const type = declared[key]?.type;
    // The inputs context keeps booleans and numbers typed (github.event.inputs has strings).
    if (type === "boolean") out[key] = String(value) === "true";
    else if ((type as string) === "number") out[key] = Number(value);
    else out[key] = value;
  }
  return out;
}

interface InstanceContext {
  needs: Record<string, unknown>;
  matrix: Record<string, unknown> | undefined;
  strategy: Record<string, unknown>;
}

interface PostStep {
  name: string;
  run: () => Promise<void>;
}

interface JobRuntime {
  state: RunState;
  jobId: string;
  workspace: string;
  home: string;
  temp: string;
  /** Where each step's file-command files go. */
  commands: string;
  env: Record<string, string>;
  path: string[];
  token: string;
  secrets: Record<string, string>;
  masks: Set<string>;
  contexts: Contexts;
  steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }>;
  post: PostStep[];
  defaults: { shell?: string; workingDirectory?: string };
  actionStates: Map<string, Record<string, string>>;
}

async function runJobInstance(
  state: RunState,
  job: Extract<WorkflowJob, { type: "job" }>,
  instance: InstanceContext,
): Promise<JobResult> {
  const { sim, planned, settings, parsed } = state;
  const id = job.id.value;
  const raw = rawJob(parsed, id);
  const matrix = instance.matrix;
  const jobBase: Contexts = {
    github: githubContext(state, id, "", ""),
    inputs: inputsContext(state),
    vars: repositoryVariables(state),
    needs: instance.needs,
    strategy: instance.strategy,
    matrix: matrix ?? {},
  };
  // The converter fills `name` with the id when absent: the raw key tells them apart.
  const nameToken = child(raw, "name");
  const name = nameToken
    ? evaluateString(nameToken, jobBase)
    : matrix && Object.keys(matrix).length > 0
      ? `${id} (${Object.values(matrix)
          .map((value) => (typeof value === "object" ? JSON.stringify(value) : String(value)))
          .join(", ")})`
      : id;
  const result: JobResult = {
    id,
    name,
    ...(matrix ? { matrix } : {}),
    conclusion: "success",
    tokenPermissions: {},
    secretsSeen: [],
    steps: [],
    outputs: {},
  };

  // Environment: its deployment branch rule is checked against GITHUB_REF before any step.
  let environment: string | undefined;
  try {
    const value = evaluateToken(job.environment, jobBase);
    environment = typeof value === "string" ? value : (asRecord(value).name as string | undefined);
  } catch (error) {
    return { ...result, conclusion: "failure", error: String(error) };
  }
  if (environment) {
    result.environment = environment;
    const rules = settings.environments?.[environment]?.deploymentBranches;
    if (rules) {
      const ref = deploymentRefName(planned.githubRef);
      const allowed =
        ref.kind === "Branch" && rules.some((rule) => matchesDeploymentRule(ref.name, rule));
      if (!allowed) {
        const message = `${ref.kind} "${ref.name}" is not allowed to deploy to ${environment} due to environment protection rules.`;
        return { ...result, conclusion: "failure", environmentRefused: message, error: message };
      }
    }
  }

  // The token, minted for this job.
  const declared = evaluateToken(
    child(raw, "permissions") ?? child(parsed.root, "permissions"),
    {},
  );
  const permissions = tokenPermissions(declared, settings, planned.tokenReadOnly);
  result.tokenPermissions = { ...permissions };
  const requested = tokenPermissions(declared, settings, false);
  delete requested.metadata;
  const token = mintActionsToken(sim, requested, planned.tokenReadOnly);
  result.token = token;

  // Secrets: repository ones unless withheld (fork PRs), then the environment's.
  const secrets: Record<string, string> = {};
  if (planned.secretsAvailable) {
    Object.assign(secrets, settings.secrets ?? {});
    if (environment) Object.assign(secrets, settings.environments?.[environment]?.secrets ?? {});
  }
  result.secretsSeen = Object.keys(secrets).sort();
  secrets.GITHUB_TOKEN = token;

  const root = mkdtempSync(join(state.scratch, `${id}-`));
  const workspace = join(root, "work", sim.repo, sim.repo);
  const home = join(root, "home");
  const temp = join(root, "temp");
  const commands = join(root, "file_commands");
  for (const dir of [workspace, home, temp, commands]) mkdirSync(dir, { recursive: true });

  const contexts: Contexts = {
    github: githubContext(state, id, token, workspace),
    inputs: inputsContext(state),
    vars: repositoryVariables(state, environment),
    secrets,
    needs: instance.needs,
    strategy: instance.strategy,
    matrix: matrix ?? {},
    job: { status: "success", container: {}, services: {} },
    runner: {
      os: "Linux",
      arch: "X64",
      name: "GitHub Actions 1",
      environment: "github-hosted",
      temp,
      tool_cache: join(root, "toolcache"),
      debug: "",
    },
    env: {},
    steps: {},
  };
  const runtime: JobRuntime = {
    state,
    jobId: id,
    workspace,
    home,
    temp,
    commands,
    env: {},
    path: [],
    token,
    secrets,
    masks: new Set(Object.values(secrets).filter((value) => value !== "")),
    contexts,
    steps: {},
    post: [],
    defaults: {},
    actionStates: new Map(),
  };
  try {
    runtime.env = {
      ...evaluateStringMap(child(parsed.root, "env"), contexts),
    };
    contexts.env = { ...runtime.env };
    Object.assign(runtime.env, evaluateStringMap(job.env, contexts));
    contexts.env = { ...runtime.env };
    for (const source of [child(parsed.root, "defaults"), child(raw, "defaults")]) {
      const run = child(source, "run");
      const shell = literalText(child(run, "shell"));
      const directory = child(run, "working-directory");
      if (shell) runtime.defaults.shell = shell;
      if (directory) runtime.defaults.workingDirectory = evaluateString(directory, contexts);
    }
  } catch (error) {
    await expireActionsToken(sim, token);
    return { ...result, conclusion: "failure", error: String(error) };
  }

  let failed = false;
  const raws = rawSteps(parsed, id);
  for (const [index, step] of job.steps.entries()) {
    const stepRaw = raws[index];
    const stepResult = await runStep(runtime, step, stepRaw, failed);
    result.steps.push(stepResult);
    if (stepResult.conclusion === "failure") {
      failed = true;
      (contexts.job as Record<string, unknown>).status = "failure";
    }
  }
  for (const post of runtime.post.reverse()) {
    try {
      await post.run();
    } catch {
      // A post step's failure does not change what the job's steps concluded here.
    }
  }
  result.conclusion = failed ? "failure" : "success";
  await expireActionsToken(sim, token);

  // Job outputs; any that contains a secret or masked value is dropped, as the runner does.
  try {
    contexts.steps = runtime.steps;
    contexts.env = { ...runtime.env };
    const outputs = evaluateStringMap(job.outputs, contexts);
    for (const [key, value] of Object.entries(outputs)) {
      const secret = [...runtime.masks].some((mask) => mask.length > 0 && value.includes(mask));
      if (!secret) result.outputs[key] = value;
    }
  } catch (error) {
    result.conclusion = "failure";
    result.error = String(error);
  }
  return result;
}

type ConvertedStep = Extract<WorkflowJob, { type: "job" }>["steps"][number];

function stepDisplayName(uses: string | undefined, run: string | undefined): string {
  if (uses) return `Run ${uses}`;
  return `Run ${(run ?? "").split("\n")[0]?.trim() ?? ""}`;
}

function skippedStep(base: Partial<StepResult>, name: string): StepResult {
  return {
    ...base,
    name,
    conclusion: "skipped",
    outcome: "skipped",
    outputs: {},
    stdout: "",
    stderr: "",
    summary: "",
  };
}

async function runStep(
  runtime: JobRuntime,
  step: ConvertedStep,
  raw: MappingToken | undefined,
  failedSoFar: boolean,
): Promise<StepResult> {
  const { contexts } = runtime;
  const userId = step.id && !step.id.startsWith("__") ? step.id : undefined;
  const uses = "uses" in step ? step.uses.value : undefined;
  const runToken = "run" in step ? step.run : undefined;
  const base: Partial<StepResult> = {
    ...(userId ? { id: userId } : {}),
    ...(uses ? { uses } : {}),
  };
  contexts.steps = runtime.steps;
  contexts.env = { ...runtime.env };
  (contexts.github as Record<string, unknown>).action = step.id;
  const status: Status = { success: !failedSoFar, failure: failedSoFar, cancelled: false };
  const fallbackName = stepDisplayName(uses, literalText(runToken));
  const record = (outcome: StepResult) => {
    if (userId) {
      runtime.steps[userId] = {
        outputs: outcome.outputs,
        outcome: outcome.outcome,
        conclusion: outcome.conclusion,
      };
    }
    return outcome;
  };
  if (!("uses" in step) && !("run" in step)) {
    return record({
      ...skippedStep(base, fallbackName),
      conclusion: "failure",
      outcome: "failure",
      error: "not emulated: this kind of step",
    });
  }
  let condition: boolean;
  try {
    condition = evaluateCondition(step.if?.expression, contexts, status);
  } catch (error) {
    return record({
      ...skippedStep(base, fallbackName),
      conclusion: "failure",
      outcome: "failure",
      error: String(error),
    });
  }
  if (!condition) return record(skippedStep(base, fallbackName));

  let outcome: StepResult;
  let name = fallbackName;
  let continueOnError = false;
  try {
    const stepEnv = { ...runtime.env, ...evaluateStringMap(step.env, contexts) };
    contexts.env = stepEnv;
    if (step.name) name = evaluateString(step.name, contexts);
    const coe = step["continue-on-error"];
    continueOnError =
      typeof coe === "boolean"
        ? coe
        : coe
          ? String(evaluateToken(coe, contexts)) === "true"
          : false;
    if (uses) {
      const inputs = evaluateStringMap(child(raw, "with"), contexts);
      outcome = await runAction(runtime, { ...base, name }, uses, inputs, stepEnv, step.id);
    } else {
      const script = evaluateString(runToken, contexts);
      const shell = literalText(child(raw, "shell")) ?? runtime.defaults.shell;
      const directoryToken = child(raw, "working-directory");
      const directory = directoryToken
        ? evaluateString(directoryToken, contexts)
        : runtime.defaults.workingDirectory;
      outcome = await runScript(
        runtime,
        { ...base, name },
        script,
        shell,
        directory,
        stepEnv,
        step.id,
      );
    }
  } catch (error) {
    const message =
      error instanceof ExpressionFailure || error instanceof Error ? error.message : String(error);
    outcome = {
      ...skippedStep(base, name),
      conclusion: "failure",
      outcome: "failure",
      error: message,
    };
  }
  if (outcome.outcome === "failure" && continueOnError) outcome.conclusion = "success";
  return record(outcome);
}

function runnerEnv(
  runtime: JobRuntime,
  files: ReturnType<typeof fileCommands>,
  actionId: string,
): Record<string, string> {
  const { state } = runtime;
  const github = runtime.contexts.github as Record<string, string>;
  const path = [...runtime.path].reverse();
  return {
    PATH: [...path, dirname(process.execPath), process.env.PATH ?? ""].join(":"),
    HOME: runtime.home,
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_ACTION: actionId,
    GITHUB_ACTOR: state.planned.actor,
    GITHUB_TRIGGERING_ACTOR: state.planned.actor,
    GITHUB_API_URL: state.sim.url,
    GITHUB_GRAPHQL_URL: `${state.sim.url}/graphql`,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_BASE_REF: state.planned.baseRef,
    GITHUB_HEAD_REF: state.planned.headRef,
    GITHUB_EVENT_NAME: state.planned.eventName,
    GITHUB_EVENT_PATH: state.eventPath,
    GITHUB_JOB: runtime.jobId,
    GITHUB_REF: state.planned.githubRef,
    GITHUB_REF_NAME: github.ref_name ?? "",
    GITHUB_REF_PROTECTED: "false",
    GITHUB_REF_TYPE: github.ref_type ?? "branch",
    GITHUB_REPOSITORY: `${state.sim.owner}/${state.sim.repo}`,
    GITHUB_REPOSITORY_OWNER: state.sim.owner,
    GITHUB_RETENTION_DAYS: "90",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_RUN_ID: String(state.runId),
    GITHUB_RUN_NUMBER: String(state.runNumber),
    GITHUB_SHA: state.planned.githubSha,
    GITHUB_WORKFLOW: state.parsed.name,
    GITHUB_WORKFLOW_REF: github.workflow_ref ?? "",
    GITHUB_WORKFLOW_SHA: state.planned.sourceSha,
    GITHUB_WORKSPACE: runtime.workspace,
    GITHUB_OUTPUT: files.output,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_OS: "Linux",
    RUNNER_ARCH: "X64",
    RUNNER_NAME: "GitHub Actions 1",
    RUNNER_ENVIRONMENT: "github-hosted",
    RUNNER_TEMP: runtime.temp,
    RUNNER_TOOL_CACHE: String((runtime.contexts.runner as Record<string, unknown>).tool_cache),
  };
}

function commandsDir(runtime: JobRuntime): string {
  return runtime.commands;
}

/** A process's result as a step: outputs, env and path commands, summary, `::error::`s. */
function finishProcess(
  runtime: JobRuntime,
  base: Partial<StepResult> & { name: string },
  files: ReturnType<typeof fileCommands>,
  processResult: ProcessResult,
  stateKey?: string,
): StepResult {
  const read = readFileCommands(files, processResult.stdout);
  Object.assign(runtime.env, read.env);
  runtime.path.push(...read.path);
  if (stateKey) runtime.actionStates.set(stateKey, read.state);
  const commands = workflowCommands(processResult.stdout);
  for (const command of commands) {
    if (command.command === "add-mask" && command.message) runtime.masks.add(command.message);
  }
  const errors = commands.filter((command) => command.command === "error").map((c) => c.message);
  const ok = processResult.code === 0;
  const error = ok
    ? undefined
    : (processResult.startError ??
      (errors.length > 0
        ? errors.join("\n")
        : `Process completed with exit code ${processResult.code}.`));
  return {
    ...base,
    conclusion: ok ? "success" : "failure",
    outcome: ok ? "success" : "failure",
    outputs: read.outputs,
    stdout: processResult.stdout,
    stderr: processResult.stderr,
    summary: read.summary,
    ...(error ? { error } : {}),
  };
}

function resolveInWorkspace(runtime: JobRuntime, path: string | undefined): string {
  if (!path) return runtime.workspace;
  return isAbsolute(path) ? path : resolvePath(runtime.workspace, path);
}

async function runScript(
  runtime: JobRuntime,
  base: Partial<StepResult> & { name: string },
  script: string,
  shell: string | undefined,
  directory: string | undefined,
  env: Record<string, string>,
  actionId: string,
): Promise<StepResult> {
  const files = fileCommands(commandsDir(runtime));
  const scriptFile = join(runtime.temp, `${actionId.replace(/[^\w-]/g, "_")}-${Date.now()}.sh`);
  writeFileSync(scriptFile, script);
  // The runner's templates: unset → `bash -e {0}`; bash → `bash --noprofile --norc -eo pipefail {0}`.
  let command: string;
  let args: string[];
  switch (shell ?? "") {
    case "":
      command = "bash";
      args = ["-e", scriptFile];
      break;
    case "bash":
      command = "bash";
      args = ["--noprofile", "--norc", "-eo", "pipefail", scriptFile];
      break;
    case "sh":
      command = "sh";
      args = ["-e", scriptFile];
      break;
    case "python":
      command = "python3";
      args = [scriptFile];
      break;
    default:
      return {
        ...skippedStep({ ...base, run: script }, base.name),
        conclusion: "failure",
        outcome: "failure",
        error: `not emulated: shell ${shell}`,
      };
  }
  const cwd = resolveInWorkspace(runtime, directory);
  const withRun = { ...base, run: script };
  if (!existsSync(cwd)) {
    return {
      ...skippedStep(withRun, base.name),
      conclusion: "failure",
      outcome: "failure",
      error: `An error occurred trying to start process '/usr/bin/${command}' with working directory '${cwd}'. No such file or directory`,
    };
  }
  const processEnv = {
    ...env,
    ...runnerEnv(runtime, files, actionId),
    ...(runtime.state.options.env ?? {}),
  };
  const processResult = await runProcess(command, args, { cwd, env: processEnv });
  return finishProcess(runtime, withRun, files, processResult);
}

interface ActionDefinition {
  dir: string;
  file: string;
  text: string;
}

function findActionFile(dir: string): ActionDefinition | undefined {
  for (const name of ["action.yml", "action.yaml"]) {
    const file = join(dir, name);
    if (existsSync(file)) return { dir, file, text: readFileSync(file, "utf8") };
  }
  return undefined;
}

/** `owner/repo[/path]@ref` → a local directory through settings.remoteActions. */
function remoteActionDir(runtime: JobRuntime, uses: string): string | undefined {
  const at = uses.lastIndexOf("@");
  const spec = at > 0 ? uses.slice(0, at) : uses;
  const map = runtime.state.settings.remoteActions ?? {};
  if (map[spec]) return map[spec];
  const [owner, repo, ...rest] = spec.split("/");
  const root = map[`${owner}/${repo}`];
  return root ? join(root, ...rest) : undefined;
}

async function runAction(
  runtime: JobRuntime,
  base: Partial<StepResult> & { name: string },
  uses: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
  actionId: string,
): Promise<StepResult> {
  const fail = (error: string, extra: Partial<StepResult> = {}): StepResult => ({
    ...skippedStep(base, base.name),
    conclusion: "failure",
    outcome: "failure",
    error,
    ...extra,
  });
  const name = uses.split("@")[0] ?? uses;
  if (uses.startsWith("docker://")) return fail(`not emulated: ${uses}`);
  if (!uses.startsWith("./") && !uses.includes("@")) return fail(`not emulated: ${uses}`);
  if (name === "actions/checkout") return runCheckout(runtime, base, uses, inputs);
  if (name === "actions/create-github-app-token") return runAppToken(runtime, base, inputs);
  const skipped = SKIPPED_ACTIONS[name];
  if (skipped) {
    return {
      ...base,
      conclusion: "success",
      outcome: "success",
      outputs: {},
      stdout: "",
      stderr: "",
      summary: "",
      note: skipped,
    };
  }
  let dir: string | undefined;
  if (uses.startsWith("./")) {
    dir = resolveInWorkspace(runtime, uses);
  } else {
    dir = remoteActionDir(runtime, uses);
    if (!dir) return fail(`not emulated: ${uses}`);
  }
  const definition = findActionFile(dir);
  if (!definition) {
    return fail(
      `Can't find 'action.yml', 'action.yaml' or 'Dockerfile' under '${dir}'. Did you forget to run actions/checkout before running your local action?`,
    );
  }
  const action = parseActionText(definition.text, definition.file);
  const template = action.template;
  if (!template || action.errors.length > 0) {
    return fail(`invalid action ${definition.file}: ${action.errors.join("; ")}`);
  }
  const runs = template.runs;
  if (runs.using !== "node20" && runs.using !== "node24") {
    return fail(`not emulated: ${runs.using} action ${uses}`);
  }
  // Every declared input is set: the step's value, else the default (an expression too).
  const values: Record<string, string> = {};
  const inputContexts = { ...runtime.contexts, env };
  for (const input of template.inputs ?? []) {
    if (input.default !== undefined) {
      values[input.id] = evaluateString(input.default as TemplateToken, inputContexts);
    }
  }
  Object.assign(values, inputs);
  const inputEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    inputEnv[`INPUT_${key.replace(/ /g, "_").toUpperCase()}`] = value;
  }
  const actionPath = definition.dir;
  const main = resolvePath(actionPath, runs.main);
  const files = fileCommands(commandsDir(runtime));
  const extra = {
    GITHUB_ACTION_PATH: actionPath,
    GITHUB_ACTION_REPOSITORY: uses.startsWith("./") ? "" : name.split("/").slice(0, 2).join("/"),
    GITHUB_ACTION_REF: uses.startsWith("./") ? "" : (uses.split("@")[1] ?? ""),
  };
  const processEnv = {
    ...env,
    ...runnerEnv(runtime, files, actionId),
    ...extra,
    ...inputEnv,
    ...(runtime.state.options.env ?? {}),
  };
  const processResult = await runProcess(process.execPath, [main], {
    cwd: runtime.workspace,
    env: processEnv,
  });
  const outcome = finishProcess(runtime, base, files, processResult, actionId);
  if (runs.post) {
    const post = resolvePath(actionPath, runs.post);
    runtime.post.push({
      name: `Post ${base.name}`,
      run: async () => {
        const postFiles = fileCommands(commandsDir(runtime));
        const saved = runtime.actionStates.get(actionId) ?? {};
        const stateEnv: Record<string, string> = {};
        for (const [key, value] of Object.entries(saved)) stateEnv[`STATE_${key}`] = value;
        await runProcess(process.execPath, [post], {
          cwd: runtime.workspace,
          env: {
            ...env,
            ...runnerEnv(runtime, postFiles, actionId),
            ...extra,
            ...inputEnv,
            ...stateEnv,
            ...(runtime.state.options.env ?? {}),
          },
        });
      },
    });
  }
  return outcome;
}

/** Commits of actions/checkout tags (checked against its repository), for SHA-pinned uses. */
const CHECKOUT_TAGS: Record<string, string> = {
  "3d3c42e5aac5ba805825da76410c181273ba90b1": "v7.0.1",
  "9c091bb21b7c1c1d1991bb908d89e4e9dddfe3e0": "v7.0.0",
};

/** The major version of `owner/repo@vN…` or of a known pinned commit. */
function actionMajor(uses: string): number | undefined {
  const ref = uses.split("@")[1] ?? "";
  const tag = CHECKOUT_TAGS[ref.toLowerCase()] ?? ref;
  const match = /^v(\d+)/.exec(tag);
  return match ? Number(match[1]) : undefined;
}

/**
 * actions/checkout v7's guard (src/unsafe-pr-checkout-helper.ts at v7.0.1, verbatim message):
 * on pull_request_target, or workflow_run after a pull_request* run, a fork PR's head is not
 * checked out unless allow-unsafe-pr-checkout is true. Only a customised checkout is checked
 * (a `ref` or another repository); the default checkout is the trusted ref.
 */
function unsafePrCheckout(
  state: RunState,
  input: { qualifiedRepository: string; ref: string; commit: string | undefined },
): string | undefined {
  const { eventName, payload } = state.planned;
  if (eventName !== "pull_request_target" && eventName !== "workflow_run") return undefined;
  const at = (path: string): unknown =>
    path.split(".").reduce<unknown>((value, key) => asRecord(value)[key], payload);
  const baseRepoId = at("repository.id");
  if (typeof baseRepoId !== "number") return undefined;
  const shas: string[] = [];
  const push = (value: unknown) => {
    if (typeof value === "string" && value.length > 0) shas.push(value.toLowerCase());
  };
  let headRepoId: unknown;
  let headRepoFullName: unknown;
  if (eventName === "pull_request_target") {
    headRepoId = at("pull_request.head.repo.id");
    headRepoFullName = at("pull_request.head.repo.full_name");
    push(at("pull_request.head.sha"));
    push(at("pull_request.merge_commit_sha"));
  } else {
    const event = at("workflow_run.event");
    if (typeof event !== "string" || !event.startsWith("pull_request")) return undefined;
    headRepoId = at("workflow_run.head_repository.id");
    headRepoFullName = at("workflow_run.head_repository.full_name");
    push(at("workflow_run.head_commit.id"));
    if (event !== "pull_request_target") push(at("workflow_run.head_sha"));
  }
  if (typeof headRepoId !== "number" || headRepoId === baseRepoId) return undefined;
  const repositoryMatches =
    typeof headRepoFullName === "string" &&
    input.qualifiedRepository.toLowerCase() === headRepoFullName.toLowerCase();
  const refMatches = /^refs\/pull\/[0-9]+\/(?:head|merge)$/.test(input.ref);
  const commitMatches = !!input.commit && shas.includes(input.commit.toLowerCase());
  if (!repositoryMatches && !refMatches && !commitMatches) return undefined;
  return (
    `Refusing to check out fork pull request code from a '${eventName}' workflow. ` +
    "This workflow runs with the base repository's GITHUB_TOKEN, secrets, default-branch " +
    "cache scope, and runner access. Fetching and executing a fork's code in that trusted " +
    'context commonly leads to "pwn request" vulnerabilities. To opt in, review the risks ' +
    "at https://gh.io/securely-using-pull_request_target and set 'allow-unsafe-pr-checkout: true' " +
    "on the actions/checkout step."
  );
}

async function runCheckout(
  runtime: JobRuntime,
  base: Partial<StepResult> & { name: string },
  uses: string,
  inputs: Record<string, string>,
): Promise<StepResult> {
  const { state } = runtime;
  const repository = inputs.repository || `${state.sim.owner}/${state.sim.repo}`;
  const fail = (error: string): StepResult => ({
    ...skippedStep(base, base.name),
    conclusion: "failure",
    outcome: "failure",
    error,
  });
  if (repository.toLowerCase() !== `${state.sim.owner}/${state.sim.repo}`.toLowerCase()) {
    return fail(`not emulated: checkout of another repository (${repository})`);
  }
  if (inputs["sparse-checkout"]) return fail("not emulated: sparse-checkout");
  const target = resolveInWorkspace(runtime, inputs.path || ".");
  const inside = relative(runtime.workspace, target);
  if (inside.startsWith("..")) {
    return fail(`Repository path '${target}' is not under '${runtime.workspace}'`);
  }
  const ref = inputs.ref ?? "";
  const major = actionMajor(uses);
  // Another repository is refused above, so only a `ref` makes the checkout a custom one.
  const optedIn = (inputs["allow-unsafe-pr-checkout"] || "false").toUpperCase() === "TRUE";
  if (major !== undefined && major >= 7 && ref !== "" && !optedIn) {
    const sha = /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(ref);
    const refused = unsafePrCheckout(state, {
      qualifiedRepository: repository,
      ref: sha ? "" : ref,
      commit: sha ? ref : undefined,
    });
    if (refused) return fail(refused);
  }
  const depthText = inputs["fetch-depth"] ?? "1";
  const depth = Number.parseInt(depthText === "" ? "1" : depthText, 10);
  if (Number.isNaN(depth)) return fail(`Invalid fetch-depth '${depthText}'`);
  if (existsSync(target)) {
    for (const entry of readdirSync(target))
      rmSync(join(target, entry), { recursive: true, force: true });
  }
  try {
    const done = checkout({
      bare: state.sim.bareRepo,
      dir: target,
      ref,
      githubRef: state.planned.githubRef,
      githubSha: state.planned.githubSha,
      fetchDepth: depth,
    });
    return {
      ...base,
      conclusion: "success",
      outcome: "success",
      outputs: { ref: ref || state.planned.githubRef, commit: done.sha },
      stdout: done.log,
      stderr: "",
      summary: "",
    };
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

async function runAppToken(
  runtime: JobRuntime,
  base: Partial<StepResult> & { name: string },
  inputs: Record<string, string>,
): Promise<StepResult> {
  const { state } = runtime;
  // action.yml defaults: skip-token-revoke "false", github-api-url ${{ github.api_url }}.
  const values = { "skip-token-revoke": "false", "github-api-url": state.sim.url, ...inputs };
  const created = await createAppToken(values, {
    repository: `${state.sim.owner}/${state.sim.repo}`,
    repositoryOwner: state.sim.owner,
    apiUrl: state.sim.url,
  });
  for (const mask of created.masks) runtime.masks.add(mask);
  const revoke = created.revoke;
  if (revoke) {
    runtime.post.push({
      name: `Post ${base.name}`,
      run: async () => {
        await revokeAppToken(revoke);
      },
    });
  }
  return {
    ...base,
    conclusion: created.ok ? "success" : "failure",
    outcome: created.ok ? "success" : "failure",
    outputs: created.outputs,
    stdout: created.stdout,
    stderr: "",
    summary: "",
    ...(created.error ? { error: created.error } : {}),
  };
}
