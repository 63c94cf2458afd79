/**
 * The simulator's records: plain data, readable by tests through `simulator.state`. Git data
 * (branches, commits, files) is not here: it lives in the bare repository.
 */

export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";
export type UserType = "User" | "Bot" | "Organization";

export interface User {
  login: string;
  id: number;
  nodeId: string;
  type: UserType;
  permission: Permission;
  token: string;
}

export interface Team {
  id: number;
  org: string;
  slug: string;
  members: Set<string>;
}

export type MergeMethod = "merge" | "squash" | "rebase";

export interface AutoMerge {
  enabledBy: string;
  mergeMethod: MergeMethod;
  commitTitle: string;
  commitMessage: string;
  enabledAt: string;
}

export interface PullRequest {
  number: number;
  id: number;
  nodeId: string;
  title: string;
  body: string | null;
  /** Branch names in this repository. */
  head: string;
  base: string;
  /** The head's commit: follows the branch while the pull request is open, frozen after. */
  headSha: string;
  baseSha: string;
  author: string;
  state: "open" | "closed";
  draft: boolean;
  merged: boolean;
  mergedBy: string | null;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  closedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Label names, in the order they were added. */
  labels: string[];
  autoMerge: AutoMerge | null;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface Review {
  id: number;
  nodeId: string;
  pullNumber: number;
  user: string;
  body: string;
  state: ReviewState;
  commitId: string;
  submittedAt: string | null;
}

export interface IssueComment {
  id: number;
  nodeId: string;
  issueNumber: number;
  user: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export interface Label {
  id: number;
  nodeId: string;
  name: string;
  color: string;
  description: string | null;
}

export type CheckStatus =
  | "queued"
  | "in_progress"
  | "completed"
  | "waiting"
  | "requested"
  | "pending";

export interface CheckRun {
  id: number;
  nodeId: string;
  checkSuiteId: number;
  name: string;
  headSha: string;
  status: CheckStatus;
  conclusion: string | null;
  startedAt: string | null;
  completedAt: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
}

export interface CommitStatus {
  id: number;
  nodeId: string;
  sha: string;
  state: "error" | "failure" | "pending" | "success";
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: string;
  createdAt: string;
  updatedAt: string;
}

export interface Deployment {
  id: number;
  nodeId: string;
  sha: string;
  ref: string;
  task: string;
  payload: unknown;
  environment: string;
  originalEnvironment: string;
  description: string | null;
  creator: string;
  transientEnvironment: boolean;
  productionEnvironment: boolean;
  createdAt: string;
  updatedAt: string;
}

export type DeploymentState =
  | "error"
  | "failure"
  | "inactive"
  | "in_progress"
  | "queued"
  | "pending"
  | "success";

export interface DeploymentStatus {
  id: number;
  nodeId: string;
  deploymentId: number;
  state: DeploymentState;
  creator: string;
  description: string;
  environment: string;
  logUrl: string;
  environmentUrl: string;
  createdAt: string;
  updatedAt: string;
}

/** Everything the simulator remembers besides git data. Arrays are in creation order. */
export interface SimulatorState {
  users: Map<string, User>;
  teams: Team[];
  pulls: PullRequest[];
  reviews: Review[];
  comments: IssueComment[];
  labels: Label[];
  checkRuns: CheckRun[];
  statuses: CommitStatus[];
  deployments: Deployment[];
  deploymentStatuses: DeploymentStatus[];
}

export function emptyState(): SimulatorState {
  return {
    users: new Map(),
    teams: [],
    pulls: [],
    reviews: [],
    comments: [],
    labels: [],
    checkRuns: [],
    statuses: [],
    deployments: [],
    deploymentStatuses: [],
  };
}

/** GitHub's timestamp form: ISO 8601 in UTC, whole seconds. */
export function isoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Node ids shaped like GitHub's (a type prefix and an opaque part), unique per record. */
export function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(`sim:${prefix}:${id}`).toString("base64url")}`;
}
