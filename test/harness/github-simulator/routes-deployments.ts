/**
 * Deployments and deployment statuses, with GitHub's server-side rules that deploying code
 * runs into: the commit-status gate (required_contexts), auto-merging the default branch
 * into a stale ref (auto_merge), and auto_inactive on a new success.
 */
import type { SimulatorCore } from "./core.js";
import {
  errorBody,
  HttpError,
  integerParam,
  isRecord,
  listReply,
  notFound,
  optionalBoolean,
  optionalEnum,
  optionalString,
  optionalStringArray,
  type Reply,
  type RequestContext,
  type Router,
  requiredString,
  unprocessable,
  validationFailed,
} from "./http.js";
import { deploymentJson, deploymentStatusJson } from "./json.js";
import {
  type Deployment,
  type DeploymentState,
  type DeploymentStatus,
  nodeId,
  type User,
} from "./model.js";

const DEPLOYMENT_STATES = [
  "error",
  "failure",
  "inactive",
  "in_progress",
  "queued",
  "pending",
  "success",
] as const;

export function registerDeploymentRoutes(router: Router, core: SimulatorCore): void {
  const deployments = "/repos/{owner}/{repo}/deployments";
  router.add("POST", deployments, (request) => createDeployment(core, request));
  router.add("GET", deployments, (request) => {
    const filters = ["sha", "ref", "task", "environment"] as const;
    const listed = core.state.deployments
      .filter((deployment) =>
        filters.every((key) => {
          const wanted = request.query.get(key);
          return wanted === null || deployment[key] === wanted;
        }),
      )
      .sort((a, b) => b.id - a.id);
    return listReply(request, listed, (deployment) => deploymentJson(core, deployment));
  });
  router.add("GET", `${deployments}/{deployment_id}`, (request) => ({
    status: 200,
    body: deploymentJson(core, findDeployment(core, request)),
  }));
  router.add("POST", `${deployments}/{deployment_id}/statuses`, (request) =>
    createDeploymentStatus(core, request),
  );
  router.add("GET", `${deployments}/{deployment_id}/statuses`, (request) => {
    const deployment = findDeployment(core, request);
    const listed = core.state.deploymentStatuses
      .filter((status) => status.deploymentId === deployment.id)
      .sort((a, b) => b.id - a.id);
    return listReply(request, listed, (status) => deploymentStatusJson(core, status));
  });
}

function findDeployment(core: SimulatorCore, request: RequestContext): Deployment {
  const id = integerParam(request, "deployment_id");
  const deployment = core.state.deployments.find((candidate) => candidate.id === id);
  if (!deployment) throw notFound();
  return deployment;
}

function createDeployment(core: SimulatorCore, request: RequestContext): Reply {
  core.requireRole(request, "write");
  const ref = requiredString(request.body, "ref");
  const sha = core.tryResolveRef(ref);
  if (!sha) throw unprocessable(`No ref found for: ${ref}`);
  if (optionalBoolean(request.body, "auto_merge") ?? true) {
    const merged = autoMergeDefaultBranch(core, ref, request.actor.login);
    if (merged) return merged;
  }
  const required = optionalStringArray(request.body, "required_contexts");
  checkContexts(core, ref, sha, required);

  const environment = optionalString(request.body, "environment") ?? "production";
  const payload = request.body.payload;
  if (payload !== undefined && typeof payload !== "string" && !isRecord(payload)) {
    throw unprocessable(
      "Invalid request.\n\nFor 'properties/payload', it is not an object or a string.",
    );
  }
  const now = core.now();
  const id = core.nextId();
  const deployment: Deployment = {
    id,
    nodeId: nodeId("DE", id),
    sha,
    ref,
    task: optionalString(request.body, "task") ?? "deploy",
    payload: payload ?? {},
    environment,
    originalEnvironment: environment,
    description: optionalString(request.body, "description") ?? "",
    creator: request.actor.login,
    transientEnvironment: optionalBoolean(request.body, "transient_environment") ?? false,
    productionEnvironment:
      optionalBoolean(request.body, "production_environment") ?? environment === "production",
    createdAt: now,
    updatedAt: now,
  };
  core.state.deployments.push(deployment);
  return { status: 201, body: deploymentJson(core, deployment) };
}

/**
 * auto_merge (default true): deploying a branch the default branch is not merged into makes
 * GitHub merge it first and answer 202, asking the client to try again (409 on conflicts).
 */
function autoMergeDefaultBranch(
  core: SimulatorCore,
  ref: string,
  actor: string,
): Reply | undefined {
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
  const branchSha = core.branchSha(branch);
  const defaultSha = core.branchSha(core.defaultBranch);
  if (!branchSha || !defaultSha || branch === core.defaultBranch) return undefined;
  if (core.git.isAncestor(defaultSha, branchSha)) return undefined;
  const merged = core.git.mergeTree(branchSha, defaultSha);
  if (merged.conflicts) {
    throw new HttpError(409, errorBody(`Conflict merging ${core.defaultBranch} into ${branch}.`));
  }
  const message = `Auto-merged ${core.defaultBranch} into ${branch} on deployment.`;
  const identity = core.githubIdentity();
  const sha = core.git.commitTree({
    tree: merged.tree,
    parents: [branchSha, defaultSha],
    message,
    author: identity,
    committer: identity,
  });
  core.moveRef({ ref: `refs/heads/${branch}`, sha, expected: branchSha, actor });
  return { status: 202, body: { message } };
}

/**
 * required_contexts: every named context (by default every context the commit has, statuses
 * and check runs alike) must be successful, else 409. An empty list skips the gate.
 */
function checkContexts(
  core: SimulatorCore,
  ref: string,
  sha: string,
  required: string[] | undefined,
): void {
  const states = new Map<string, string>();
  for (const status of [...core.state.statuses].reverse()) {
    if (status.sha === sha && !states.has(status.context)) states.set(status.context, status.state);
  }
  for (const run of [...core.state.checkRuns].reverse()) {
    if (run.headSha !== sha || states.has(run.name)) continue;
    const passed = ["success", "neutral", "skipped"].includes(run.conclusion ?? "");
    states.set(run.name, run.status !== "completed" ? "pending" : passed ? "success" : "failure");
  }
  const names = required ?? [...states.keys()];
  const failing = names
    .map((context) => ({ context, state: states.get(context) ?? "missing" }))
    .filter((context) => context.state !== "success");
  if (failing.length === 0) return;
  throw new HttpError(
    409,
    errorBody(`Conflict: Commit status checks failed for ${ref}.`, {
      errors: [
        { contexts: failing, resource: "Deployment", field: "required_contexts", code: "invalid" },
      ],
    }),
  );
}

function createDeploymentStatus(core: SimulatorCore, request: RequestContext): Reply {
  core.requireRole(request, "write");
  const deployment = findDeployment(core, request);
  const state = optionalEnum(request.body, "state", DEPLOYMENT_STATES);
  if (!state)
    throw validationFailed([
      { resource: "DeploymentStatus", field: "state", code: "missing_field" },
    ]);
  const description = optionalString(request.body, "description") ?? "";
  if (description.length > 140) {
    throw validationFailed([
      {
        resource: "DeploymentStatus",
        field: "description",
        code: "custom",
        message: "description is too long (maximum is 140 characters)",
      },
    ]);
  }
  const environment = optionalString(request.body, "environment");
  if (environment) deployment.environment = environment;
  const status = addDeploymentStatus(core, deployment, request.actor, {
    state,
    description,
    logUrl:
      optionalString(request.body, "log_url") ?? optionalString(request.body, "target_url") ?? "",
    environmentUrl: optionalString(request.body, "environment_url") ?? "",
  });
  if (state === "success" && (optionalBoolean(request.body, "auto_inactive") ?? true)) {
    deactivateEarlier(core, deployment, request.actor);
  }
  return { status: 201, body: deploymentStatusJson(core, status) };
}

function addDeploymentStatus(
  core: SimulatorCore,
  deployment: Deployment,
  actor: User,
  fields: { state: DeploymentState; description: string; logUrl: string; environmentUrl: string },
): DeploymentStatus {
  const now = core.now();
  const id = core.nextId();
  const status: DeploymentStatus = {
    id,
    nodeId: nodeId("DES", id),
    deploymentId: deployment.id,
    creator: actor.login,
    environment: deployment.environment,
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
  core.state.deploymentStatuses.push(status);
  deployment.updatedAt = now;
  return status;
}

/** auto_inactive: earlier deployments to the environment whose latest state is success go inactive. */
function deactivateEarlier(core: SimulatorCore, deployment: Deployment, actor: User): void {
  for (const earlier of core.state.deployments) {
    if (earlier.id >= deployment.id || earlier.environment !== deployment.environment) continue;
    const latest = core.state.deploymentStatuses
      .filter((status) => status.deploymentId === earlier.id)
      .at(-1);
    if (latest?.state !== "success") continue;
    addDeploymentStatus(core, earlier, actor, {
      state: "inactive",
      description: "",
      logUrl: "",
      environmentUrl: "",
    });
  }
}
