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
  baseRef: string;
  labels: string[];
  htmlUrl: string;
  autoMerge: boolean;
}

export interface ChangedFile {
  path: string;
  status: string;
  previousPath?: string | undefined;
}

export interface PullRequestCommit {
  sha: string;
  authorLogin?: string | undefined;
  committerLogin?: string | undefined;
}

export interface CheckRunInfo {
  id: number;
  name: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion: string | null;
  completedAt?: Date | undefined;
  /** What the check's author stored with it (pinline/gate: who pushed the head commit). */
  externalId?: string | null | undefined;
}

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
  getPullRequest(number: number): Promise<PullRequestInfo>;
  listOpenPullRequests(filter?: { head?: string; base?: string }): Promise<PullRequestInfo[]>;
  /** The pull requests a commit belongs to (merged as it, or with it as their head). */
  listPullRequestsOfCommit(sha: string): Promise<PullRequestInfo[]>;
  listPullRequestFiles(number: number): Promise<ChangedFile[]>;
  listPullRequestCommits(number: number): Promise<PullRequestCommit[]>;
  listReviews(number: number): Promise<Review[]>;
  getPermission(user: string): Promise<Permission>;
  isTeamMember(team: string, user: string): Promise<boolean>;
  /** A file's text at a ref; undefined when it does not exist there. */
  getFileText(path: string, ref: string): Promise<{ text: string; blobSha: string } | undefined>;
  listCheckRuns(ref: string): Promise<CheckRunInfo[]>;
  /** Creates the named check run on the commit, or updates the one already there. */
  publishCheckRun(output: CheckRunOutput): Promise<{ id: number; created: boolean }>;
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
