/**
 * The forge, as pinline needs it (STYLE: core never sees Octokit). Plain data in and out; the
 * GitHub implementation is in octokit-forge.ts, tests run it against the simulator.
 */
import type { Permission, Review } from "../core/gates/gate-input.js";

export interface RepositoryRef {
  owner: string;
  repo: string;
}

export interface PullRequestInfo {
  number: number;
  /** GraphQL id, for auto-merge. */
  nodeId: string;
  title: string;
  body: string;
  state: "open" | "closed";
  merged: boolean;
  author: string;
  headRef: string;
  headSha: string;
  /** owner/name of the repository the head branch lives in: another one for a fork. */
  headRepository: string | undefined;
  baseRef: string;
  baseSha: string;
  draft: boolean;
  /**
   * How many files the PR changes, as GitHub counts them (uncapped, while the file list stops
   * at 3,000); undefined where the API gave no count (lists of PRs carry none).
   */
  changedFiles: number | undefined;
  labels: string[];
  htmlUrl: string;
  autoMerge: boolean;
}

/** A commit as the gate reads it: who made it and what its message says. */
export interface CommitInfo {
  sha: string;
  message: string;
  authorLogin?: string | undefined;
  committerLogin?: string | undefined;
}

/** Who moved a branch to a commit, from GitHub's record of pushes; or why that is unknown. */
export type Pusher = { login: string } | { unknown: string };

export interface ChangedFile {
  path: string;
  status: string;
  previousPath?: string | undefined;
}

export interface CheckRunInfo {
  id: number;
  name: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion: string | null;
  startedAt?: Date | undefined;
  completedAt?: Date | undefined;
  /** The GitHub App that wrote it: only that App may change it. */
  appId?: number | undefined;
  appSlug?: string | undefined;
  /** What the check's author stored with it (pinline/gate: a digest of its verdict). */
  externalId?: string | null | undefined;
}

/** A check run to create, or what to write into an in-progress one. */
export interface CheckRunOutput {
  name: string;
  headSha: string;
  status: "in_progress" | "completed";
  conclusion?: "success" | "failure" | "neutral" | "action_required" | undefined;
  title: string;
  summary: string;
  text?: string | undefined;
  detailsUrl?: string | undefined;
  externalId?: string | undefined;
}

export interface DeploymentInfo {
  id: number;
  environment: string;
  sha: string;
  ref: string;
  /** The version deployed: payload.version, else the ref when it is a version. */
  version: string | undefined;
  createdAt: Date;
}

export interface DeploymentStatusInfo {
  state: "error" | "failure" | "inactive" | "in_progress" | "queued" | "pending" | "success";
  createdAt: Date;
}

export interface CommentInfo {
  id: number;
  body: string;
  author: string;
}

export interface Forge {
  readonly repository: RepositoryRef;
  getDefaultBranch(): Promise<string>;
  getPullRequest(number: number): Promise<PullRequestInfo>;
  listOpenPullRequests(filter?: { head?: string; base?: string }): Promise<PullRequestInfo[]>;
  /** The pull requests a commit belongs to (merged as it, or with it as their head). */
  listPullRequestsOfCommit(sha: string): Promise<PullRequestInfo[]>;
  listPullRequestFiles(number: number): Promise<ChangedFile[]>;
  /** One commit, read directly (a PR's commit list stops at 250). */
  getCommit(sha: string): Promise<CommitInfo>;
  /** Who last moved `branch` (of this repository) to `sha`, from GitHub's record of pushes. */
  findPusher(branch: string, sha: string): Promise<Pusher>;
  listReviews(number: number): Promise<Review[]>;
  getPermission(user: string): Promise<Permission>;
  isTeamMember(team: string, user: string): Promise<boolean>;
  /** A file's text at a ref; undefined when it does not exist there. */
  getFileText(path: string, ref: string): Promise<{ text: string; blobSha: string } | undefined>;
  /** Every check run on the commit (all of each name, newest first), optionally of one name. */
  listCheckRuns(ref: string, name?: string): Promise<CheckRunInfo[]>;
  /** A new check run (GitHub never changes a completed one: a new verdict is a new run). */
  createCheckRun(output: CheckRunOutput): Promise<CheckRunInfo>;
  /** Writes an in-progress check run (its status, conclusion and output). */
  updateCheckRun(id: number, output: CheckRunOutput): Promise<void>;
  listDeployments(environment: string): Promise<DeploymentInfo[]>;
  listDeploymentStatuses(deploymentId: number): Promise<DeploymentStatusInfo[]>;
  /** The commit a branch points at; undefined when there is no such branch. */
  getBranchSha(branch: string): Promise<string | undefined>;
  /** Points the branch at `sha`, creating it or moving it (force). */
  setBranch(branch: string, sha: string): Promise<void>;
  deleteBranch(branch: string): Promise<void>;
  /** Writes one file on a branch as a commit; returns the commit's sha. */
  putFile(input: {
    branch: string;
    path: string;
    text: string;
    message: string;
    blobSha?: string | undefined;
  }): Promise<string>;
  createPullRequest(input: {
    head: string;
    base: string;
    title: string;
    body: string;
  }): Promise<PullRequestInfo>;
  updatePullRequest(
    number: number,
    input: { title?: string; body?: string; state?: "open" | "closed" },
  ): Promise<PullRequestInfo>;
  addLabels(number: number, labels: readonly string[]): Promise<void>;
  listComments(number: number): Promise<CommentInfo[]>;
  createComment(number: number, body: string): Promise<CommentInfo>;
  updateComment(id: number, body: string): Promise<void>;
  enableAutoMerge(
    pullRequest: PullRequestInfo,
    method: "MERGE" | "SQUASH" | "REBASE",
  ): Promise<void>;
  /** Merges now; throws when GitHub refuses (checks, reviews, conflicts). */
  mergePullRequest(number: number, method: "merge" | "squash" | "rebase"): Promise<{ sha: string }>;
  createDeployment(input: {
    environment: string;
    ref: string;
    version: string;
    description: string;
    production: boolean;
  }): Promise<DeploymentInfo>;
  createDeploymentStatus(
    deploymentId: number,
    input: {
      state: DeploymentStatusInfo["state"];
      description?: string | undefined;
      logUrl?: string | undefined;
      environmentUrl?: string | undefined;
    },
  ): Promise<void>;
}
