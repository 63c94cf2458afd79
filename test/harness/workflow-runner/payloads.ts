/**
 * Webhook payloads as GitHub hands them to a workflow run (GITHUB_EVENT_PATH,
 * `github.event`): GitHub's published examples (@octokit/webhooks-examples), retargeted to the
 * simulated repository and filled from its state and git data.
 */
import { createRequire } from "node:module";
import type { PullRequest } from "../github-simulator.js";
import { git } from "./git.js";

const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as {
  name: string;
  examples: Record<string, unknown>[];
}[];

type Json = Record<string, unknown>;

/** The example for name.action (the first example when the action has none, re-labelled). */
export function example(name: string, action?: string): Json {
  const group = examples.find((candidate) => candidate.name === name);
  if (!group || group.examples.length === 0) throw new Error(`no ${name} example payload`);
  const found =
    (action ? group.examples.find((candidate) => candidate.action === action) : undefined) ??
    group.examples.find((candidate) => candidate.action === "opened") ??
    group.examples[0];
  const payload = structuredClone(found) as Json;
  if (action) payload.action = action;
  return payload;
}

export interface RepositoryTarget {
  owner: string;
  repo: string;
  defaultBranch: string;
  fork?: boolean;
  /** The repository's id (a fork's differs from its parent's; actions/checkout v7 compares them). */
  id?: number;
}

/** The simulated repository's id in payloads (GitHub's example repository's). */
export const BASE_REPOSITORY_ID = 186853002;

function record(value: unknown): Json {
  return value && typeof value === "object" ? (value as Json) : {};
}

/** A repository object (from any example) pointed at owner/repo. */
export function retargetRepository(repository: unknown, target: RepositoryTarget): Json {
  const out = record(structuredClone(repository ?? {}));
  const full = `${target.owner}/${target.repo}`;
  Object.assign(out, {
    name: target.repo,
    full_name: full,
    default_branch: target.defaultBranch,
    fork: target.fork ?? false,
    html_url: `https://github.com/${full}`,
    clone_url: `https://github.com/${full}.git`,
    git_url: `git://github.com/${full}.git`,
    ssh_url: `git@github.com:${full}.git`,
    url: `https://api.github.com/repos/${full}`,
    id: target.id ?? (target.fork ? BASE_REPOSITORY_ID + 1 : BASE_REPOSITORY_ID),
  });
  out.owner = { ...record(out.owner), login: target.owner };
  return out;
}

/** Repository, organization and sender, common to every payload. */
export function retargetCommon(payload: Json, target: RepositoryTarget, sender: string): Json {
  payload.repository = retargetRepository(payload.repository, target);
  if (payload.organization)
    payload.organization = { ...record(payload.organization), login: target.owner };
  if (payload.sender) payload.sender = { ...record(payload.sender), login: sender };
  else payload.sender = { login: sender, type: sender.endsWith("[bot]") ? "Bot" : "User" };
  delete payload.installation;
  return payload;
}

export interface PullTarget {
  pull: PullRequest;
  /** The fork's owner/repo when the head lives in a fork. */
  headRepository: { owner: string; repo: string; fork: boolean; id?: number };
  base: RepositoryTarget;
}

/** A pull_request object (webhook shape) from the simulator's record. */
export function pullRequestObject(template: unknown, target: PullTarget): Json {
  const { pull, headRepository, base } = target;
  const out = record(structuredClone(template ?? {}));
  const full = `${base.owner}/${base.repo}`;
  Object.assign(out, {
    number: pull.number,
    id: pull.id,
    node_id: pull.nodeId,
    title: pull.title,
    body: pull.body,
    state: pull.state,
    draft: pull.draft,
    merged: pull.merged,
    merge_commit_sha: pull.mergeCommitSha,
    merged_at: pull.mergedAt,
    closed_at: pull.closedAt,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    html_url: `https://github.com/${full}/pull/${pull.number}`,
    url: `https://api.github.com/repos/${full}/pulls/${pull.number}`,
    labels: pull.labels.map((name) => ({ name })),
  });
  out.user = { ...record(out.user), login: pull.author };
  out.merged_by = pull.mergedBy ? { ...record(out.user), login: pull.mergedBy } : null;
  const headRepo = retargetRepository(record(out.head).repo ?? record(out.base).repo, {
    owner: headRepository.owner,
    repo: headRepository.repo,
    defaultBranch: base.defaultBranch,
    fork: headRepository.fork,
    ...(headRepository.id === undefined ? {} : { id: headRepository.id }),
  });
  out.head = {
    ...record(out.head),
    ref: pull.head,
    sha: pull.headSha,
    label: `${headRepository.owner}:${pull.head}`,
    user: { ...record(record(out.head).user), login: headRepository.owner },
    repo: headRepo,
  };
  out.base = {
    ...record(out.base),
    ref: pull.base,
    sha: pull.baseSha,
    label: `${base.owner}:${pull.base}`,
    user: { ...record(record(out.base).user), login: base.owner },
    repo: retargetRepository(record(out.base).repo, base),
  };
  return out;
}

/** The commits of a push, oldest first, as the push payload lists them (at most 20). */
export function pushCommits(bare: string, before: string | undefined, after: string): Json[] {
  const range = before ? [`${before}..${after}`] : ["-1", after];
  const out = git([
    "--git-dir",
    bare,
    "log",
    "--reverse",
    "--format=%H%x00%an%x00%ae%x00%cn%x00%ce%x00%cI%x00%B%x1e",
    ...range,
  ]).stdout;
  return out
    .split("\x1e")
    .map((entry) => entry.replace(/^\n/, ""))
    .filter((entry) => entry.trim() !== "")
    .slice(-20)
    .map((entry) => {
      const [id = "", an = "", ae = "", cn = "", ce = "", date = "", message = ""] =
        entry.split("\0");
      return {
        id,
        tree_id: git(["--git-dir", bare, "rev-parse", `${id}^{tree}`]).stdout.trim(),
        distinct: true,
        message: message.trim(),
        timestamp: date,
        author: { name: an, email: ae },
        committer: { name: cn, email: ce },
      };
    });
}
