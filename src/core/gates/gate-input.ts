/**
 * What the gate judges (DESIGN §2, §6): plain data gathered at the edge — the pins, the
 * policy, the releases, the pin history from git, deployments, reviews, signatures and check
 * runs — so every rule is a pure function of it. A fact the edge could not read is absent,
 * and the rule that needs it says so instead of guessing.
 */
import type { Compatibility, Policy, RolloutStage } from "../schema-types.js";

export type GateStatus = "pass" | "fail" | "waiting";

/** One rule's judgement. */
export interface GateVerdict {
  /** The rule's name, as listed in the registry ("approvals", "soak", ...). */
  rule: string;
  status: GateStatus;
  /** Why, in one or two sentences a release engineer can act on. */
  reason: string;
  /** For waiting: the instant the rule clears by itself (absent when it waits on people). */
  until?: Date | undefined;
}

/** A stretch of time during which an environment's pin named one version (git history). */
export interface PinPeriod {
  /** The version as written in the pin. */
  version: string;
  /** When the commit that set it landed on the branch (committer date). */
  since: Date;
  /** When the next version replaced it; absent while it is still pinned. */
  until?: Date | undefined;
  /** The commit that set it. */
  commit: string;
  /** The version that replaced it (older than `version` means it was reverted). */
  next?: string | undefined;
}

/** A GitHub deployment of one version to one environment, with its statuses oldest first. */
export interface DeploymentRecord {
  environment: string;
  version: string;
  createdAt: Date;
  statuses: { state: DeploymentState; createdAt: Date }[];
}

export type DeploymentState =
  | "error"
  | "failure"
  | "inactive"
  | "in_progress"
  | "queued"
  | "pending"
  | "success";

export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface Review {
  id: number;
  user: string;
  state: ReviewState;
  /** The commit the review was made on. */
  commitId: string;
  submittedAt: Date;
  /** A bot account (an App's `name[bot]`, a machine user GitHub types as Bot). */
  bot?: boolean | undefined;
}

/** The promotion pull request, as far as approvals are concerned. */
export interface ReviewFacts {
  pullRequest: number;
  author: string;
  headSha: string;
  /**
   * Whose approval must not count for the head commit: who pushed it (GitHub's record of
   * pushes to the head branch) and its author's and committer's logins (web-flow left out).
   */
  lastPushers: string[];
  /**
   * Why GitHub's record cannot tell who pushed the head commit (a fork, no record of the push,
   * the activity API refused). While set, no approval counts.
   */
  pusherUnknown?: string | undefined;
  reviews: Review[];
  /** Repository permission of every reviewer. */
  permissions: Record<string, Permission>;
  /** For every team an approver list names ("@org/team"): which reviewers are members. */
  teamMembers: Record<string, string[]>;
}

/** Result of verifying the release manifest's signatures against keys/. */
export interface SignatureFacts {
  /** Distinct trusted primary keys with a valid signature. */
  validSigners: { fingerprint: string; userId?: string | undefined }[];
  /** Why other signatures did not count, one line each. */
  problems: string[];
}

/** Check runs on the release's commit. */
export interface ComplianceFacts {
  /** The commit that last changed releases/<version>/release.yaml on the base branch. */
  commit: string;
  runs: {
    name: string;
    status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
    conclusion?: string | null | undefined;
    completedAt?: Date | undefined;
  }[];
}

/** What the gate needs to know about one release. */
export interface ReleaseFacts {
  version: string;
  minimumVersion?: string | undefined;
  mandatory?: boolean | undefined;
  compatibility?: Compatibility | undefined;
}

/** A policy and the file it came from. */
export interface NamedPolicy {
  /** "policies/production.yaml", or "(no policy)" when none applies. */
  file: string;
  policy: Policy;
}

export interface GateInput {
  /** The clock, passed in: core reads none. */
  now: Date;
  /** The environment being changed, and its pin after the change. */
  environment: string;
  stage: string;
  /** The version pinned before the change (the base branch). */
  from: string;
  /** The version the change pins. */
  to: string;
  /** The pin is new (no base version): judged as an upgrade, with no upgrade path to check. */
  newEnvironment?: boolean | undefined;
  /** The pin's update channel after the change (default stable). */
  channel?: string | undefined;
  /** Platform versions the pin declares ({ kubernetes: "1.28" }), for compatibility. */
  platform?: Record<string, string> | undefined;
  /** The target release; absent when releases/<to>/ does not exist on the base branch. */
  release?: ReleaseFacts | undefined;
  /** Every release on the base branch, for the upgrade path. */
  releases: ReleaseFacts[];
  /** Every policy whose appliesTo matches the environment (base branch). */
  policies: NamedPolicy[];
  /** The stages of policies/rollout.yaml, in order. */
  stages: RolloutStage[];
  /** Environment names by stage, from every pin's `stage`. */
  environmentsByStage: Record<string, string[]>;
  /** Pin history by environment, oldest period first; an environment absent was not read. */
  history: Record<string, PinPeriod[]>;
  /** GitHub deployments of the environments involved; absent when not read (offline). */
  deployments?: DeploymentRecord[] | undefined;
  /** Absent when there is no pull request yet (plan). */
  review?: ReviewFacts | undefined;
  /** Absent when the signatures were not verified. */
  signatures?: SignatureFacts | undefined;
  /** Absent when check runs were not read (offline). */
  compliance?: ComplianceFacts | undefined;
  /**
   * Versions this promotion explicitly tries again after they were reverted here (the head
   * commit's `Pinline-Retry:` trailer, or `plan --retry`).
   */
  retry?: readonly string[] | undefined;
}
