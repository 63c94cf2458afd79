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
  /** The role on the repository; for an App's bot, derived from the App's permissions. */
  permission: Permission;
  /** The personal access token; "" for accounts that cannot hold one (an App's bot). */
  token: string;
  /** For an App's bot account (`<slug>[bot]`): the App's id. */
  appId?: number;
}

export interface Team {
  id: number;
  org: string;
  slug: string;
  members: Set<string>;
  /** The parent team's slug (same organisation), for nested teams. */
  parent?: string;
}

/** The permissions a GitHub App (and its installation tokens) may hold on the repository. */
export type AppPermission =
  | "checks"
  | "contents"
  | "pull_requests"
  | "issues"
  | "deployments"
  | "statuses"
  | "metadata"
  | "members"
  | "actions"
  | "workflows"
  | "administration";

export type AccessLevel = "read" | "write";

/** Permission name → level, as GitHub's `app-permissions` object (only granted ones appear). */
export type AppPermissions = Partial<Record<string, AccessLevel>>;

/** A GitHub App installed on the repository (one installation: this repository). */
export interface App {
  id: number;
  slug: string;
  name: string;
  nodeId: string;
  clientId: string;
  /** The login of the account owning the App. */
  owner: string;
  botLogin: string;
  installationId: number;
  /** What the installation was granted (metadata: read always). */
  permissions: AppPermissions;
  events: string[];
  createdAt: string;
}

/** An installation access token (GITHUB_TOKEN is one, of the github-actions App). */
export interface InstallationToken {
  token: string;
  appId: number;
  permissions: AppPermissions;
  /** Real time (ms) after which GitHub no longer accepts it. */
  expiresAt: number;
  /** Repository names it was restricted to; undefined = every repository of the installation. */
  repositories?: string[];
  revoked: boolean;
}

/** Who sent a request: a user's personal access token, an installation token, or an App's JWT. */
export type Credential =
  | { kind: "user"; user: User }
  | { kind: "installation"; user: User; app: App; token: InstallationToken }
  | { kind: "app"; user: User; app: App };

export type ActivityType =
  | "push"
  | "force_push"
  | "branch_creation"
  | "branch_deletion"
  | "pr_merge"
  | "merge_queue_merge";

/** A change of a branch of the repository, as GET /repos/{owner}/{repo}/activity lists it. */
export interface Activity {
  id: number;
  nodeId: string;
  /** refs/heads/<branch>. */
  ref: string;
  before: string;
  after: string;
  timestamp: string;
  activityType: ActivityType;
  /** The login of who made the change; null when unknown (GitHub's actor is nullable). */
  actor: string | null;
}

export interface RulesetBypassActor {
  actor_id: number | null;
  actor_type:
    | "Integration"
    | "OrganizationAdmin"
    | "RepositoryRole"
    | "Team"
    | "DeployKey"
    | "User";
  bypass_mode: "always" | "pull_request" | "exempt";
}

export interface RulesetRule {
  type: string;
  parameters?: Record<string, unknown>;
}

/** A repository ruleset, in GitHub's REST field names. */
export interface Ruleset {
  id: number;
  nodeId: string;
  name: string;
  target: "branch" | "tag" | "push";
  enforcement: "active" | "disabled" | "evaluate";
  bypass_actors: RulesetBypassActor[];
  conditions: { ref_name: { include: string[]; exclude: string[] } } | null;
  rules: RulesetRule[];
  createdAt: string;
  updatedAt: string;
}

/** A fork of the repository, owned by `owner` (its branches live under refs/forks/<owner>/). */
export interface Fork {
  id: number;
  nodeId: string;
  owner: string;
  repo: string;
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
  /** Branch names: `base` in this repository, `head` in it or in the fork `headOwner`. */
  head: string;
  base: string;
  /** The head's commit: follows the branch while the pull request is open, frozen after. */
  headSha: string;
  baseSha: string;
  author: string;
  /** The fork's owner when the head branch is a fork's; null for a branch of this repository. */
  headOwner: string | null;
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
  /** The App that created it: only that App may change it. */
  appId: number;
  appSlug: string;
  /** When it was created (it goes stale 14 days after, unless completed). */
  createdAt: string;
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
  /** The App whose installation token created it, if any. */
  appId: number | null;
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

/** A deployment environment and what its deployment branch policy admits. */
export interface Environment {
  id: number;
  nodeId: string;
  name: string;
  deploymentBranchPolicy: { protected_branches: boolean; custom_branch_policies: boolean } | null;
  branchPolicies: { id: number; nodeId: string; name: string; type: "branch" | "tag" }[];
  createdAt: string;
  updatedAt: string;
}

/** A secret or a variable, by name: repository-wide (environment undefined) or an environment's. */
export interface NamedSetting {
  name: string;
  environment?: string | undefined;
  value?: string;
  createdAt: string;
}

/** Everything the simulator remembers besides git data. Arrays are in creation order. */
export interface SimulatorState {
  environments: Environment[];
  secrets: NamedSetting[];
  variables: NamedSetting[];
  /** GitHub Pages, once enabled. */
  pages: { buildType: "legacy" | "workflow" } | undefined;
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
  apps: App[];
  installationTokens: InstallationToken[];
  activities: Activity[];
  rulesets: Ruleset[];
  forks: Fork[];
}

export function emptyState(): SimulatorState {
  return {
    environments: [],
    secrets: [],
    variables: [],
    pages: undefined,
    apps: [],
    installationTokens: [],
    activities: [],
    rulesets: [],
    forks: [],
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
