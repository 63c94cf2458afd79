/**
 * Webhook payloads as GitHub sends them: the examples GitHub publishes
 * (@octokit/webhooks-examples), with the repository and pull request of the test.
 */
import { createRequire } from "node:module";

/** The package's main is a JSON file: a list of events, each with example payloads. */
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as {
  name: string;
  examples: Record<string, unknown>[];
}[];

interface PayloadTarget {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  headRef: string;
  baseRef?: string;
  /** Who did it: for opened/synchronize, the pusher; for a review, the reviewer. */
  sender?: string;
}

function example(name: string, action: string): Record<string, unknown> {
  const group = examples.find((e) => e.name === name);
  const found = group?.examples.find((e) => e.action === action);
  if (!found) throw new Error(`no ${name}.${action} example payload`);
  return structuredClone(found);
}

function retarget(
  payload: Record<string, unknown>,
  target: PayloadTarget,
): Record<string, unknown> {
  const repository = payload.repository as Record<string, unknown>;
  Object.assign(repository, {
    name: target.repo,
    full_name: `${target.owner}/${target.repo}`,
    default_branch: target.baseRef ?? "main",
  });
  Object.assign(repository.owner as object, { login: target.owner });
  const pull = payload.pull_request as Record<string, unknown>;
  pull.number = target.number;
  Object.assign(pull.head as object, { sha: target.headSha, ref: target.headRef });
  Object.assign(pull.base as object, { ref: target.baseRef ?? "main" });
  if ("number" in payload) payload.number = target.number;
  if (target.sender) Object.assign(payload.sender as object, { login: target.sender });
  return payload;
}

/**
 * A pull_request (or pull_request_target: the same payload) event. Actions without a published
 * example (edited) start from "opened" with the action and `changes` set as GitHub documents
 * them (a base change carries changes.base.ref.from and changes.base.sha.from).
 */
export function pullRequestEvent(
  action: "opened" | "synchronize" | "reopened" | "edited" | "ready_for_review",
  target: PayloadTarget,
  changes?: Record<string, unknown>,
) {
  const known = ["opened", "synchronize", "reopened", "ready_for_review"].includes(action);
  const payload = retarget(example("pull_request", known ? action : "opened"), target);
  payload.action = action;
  if (changes) payload.changes = changes;
  return payload;
}

/** workflow_run completed, for a run of `workflow` whose head is `headSha` (as GitHub sends it). */
export function workflowRunEvent(target: {
  owner: string;
  repo: string;
  workflow: string;
  headSha: string;
  headBranch: string;
  event: string;
}) {
  const payload = example("workflow_run", "completed");
  const run = payload.workflow_run as Record<string, unknown>;
  Object.assign(run, {
    name: target.workflow,
    head_sha: target.headSha,
    head_branch: target.headBranch,
    event: target.event,
    conclusion: "success",
    pull_requests: [],
  });
  const repository = payload.repository as Record<string, unknown>;
  Object.assign(repository, { name: target.repo, full_name: `${target.owner}/${target.repo}` });
  return payload;
}

export function pullRequestReviewEvent(target: PayloadTarget) {
  return retarget(example("pull_request_review", "submitted"), target);
}
