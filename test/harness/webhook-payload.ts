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

export function pullRequestEvent(action: "opened" | "synchronize", target: PayloadTarget) {
  return retarget(example("pull_request", action), target);
}

export function pullRequestReviewEvent(target: PayloadTarget) {
  return retarget(example("pull_request_review", "submitted"), target);
}
