/**
 * Test support for the gate rules: a realistic GateInput for promoting production-canary from
 * 2.4.0 to 2.4.1 under policies/production.yaml, on Saturday 2024-03-16 03:00 UTC (inside the
 * production maintenance window). Every call builds fresh objects, so a test may change what
 * it gets without touching other tests. Shapes follow policies/*.yaml, environments/*.yaml
 * and releases/*\/release.yaml; the data is written here so the tests stay pure.
 */

import { describeChange } from "../../src/core/gates/describe-change.js";
import type {
  DeploymentRecord,
  DeploymentState,
  GateInput,
  NamedPolicy,
  PinPeriod,
  ReleaseFacts,
  Review,
  ReviewFacts,
  ReviewState,
} from "../../src/core/gates/gate-input.js";
import type { RuleInput } from "../../src/core/gates/gate-rule.js";
import type { Policy, RolloutStage } from "../../src/core/schema-types.js";

/** Saturday 2024-03-16 03:00 UTC: inside production's Saturday/Sunday 02:00–06:00 UTC window. */
export const NOW = new Date("2024-03-16T03:00:00Z");

/** The promotion PR's head commit. */
export const HEAD_SHA = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";
/** A commit the PR pointed at before its last push. */
export const OLDER_SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f80912345678";
/** The commit that last changed releases/2.4.1/release.yaml. */
export const RELEASE_COMMIT = "c0ffee5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708";

const HOUR_MS = 60 * 60 * 1000;

/** The instant `hours` before NOW (or before `from`). */
export function hoursBefore(hours: number, from: Date = NOW): Date {
  return new Date(from.getTime() - hours * HOUR_MS);
}

/** The instant `hours` after `from`. */
export function hoursAfter(hours: number, from: Date): Date {
  return new Date(from.getTime() + hours * HOUR_MS);
}

/** policies/production.yaml, as the policy reader returns it. */
export function productionPolicyData(): Policy {
  return {
    appliesTo: ["production-*"],
    approval: {
      required: 2,
      approvers: ["@acme/release-managers", "alice", "bob"],
      preventSelfReview: true,
    },
    testing: { environments: ["staging", "qa"], minimumSoak: "48h" },
    blockedVersions: ["2.4.2", ">=2.6.0 <2.6.3"],
    allowedChannels: ["stable", "custom:acme"],
    customChannels: { acme: { versions: ["2.4.1"] } },
    complianceChecks: ["security-scan", "license-validation", "dependency-audit"],
    signatures: { threshold: 2 },
    maintenanceWindow: {
      days: ["saturday", "sunday"],
      start: "02:00",
      end: "06:00",
      timezone: "UTC",
    },
    rollback: { automatic: true, healthCheckTimeout: "5m", keepVersions: 3 },
    canary: {
      errorRate: { max: 0.01 },
      responseTimeP95Ms: { max: 200 },
      successRate: { min: 0.99 },
    },
  };
}

/** policies/production.yaml with some top-level fields replaced (undefined removes one). */
export function productionPolicy(overrides: Partial<Policy> = {}): NamedPolicy {
  return {
    file: "policies/production.yaml",
    policy: { ...productionPolicyData(), ...overrides },
  };
}

/** The stages of policies/rollout.yaml, in order. */
export function rolloutStages(): RolloutStage[] {
  return [
    { name: "dev", traffic: 100, soak: "24h" },
    { name: "staging", traffic: 100, soak: "48h" },
    { name: "production-canary", traffic: 5, soak: "24h" },
    { name: "production-partial", traffic: 25, soak: "48h" },
    { name: "production-majority", traffic: 75, soak: "24h" },
    { name: "production-full", traffic: 100 },
  ];
}

/** Environment names by stage, from the `stage` of every environments/*.yaml. */
export function environmentsByStage(): Record<string, string[]> {
  return {
    dev: ["dev"],
    staging: ["staging", "qa"],
    "production-canary": ["production-canary"],
    "production-partial": ["production-partial"],
    "production-majority": ["production-majority"],
    "production-full": ["production-full"],
  };
}

/** The releases of releases/*\/release.yaml, as the gate sees them. */
export function releaseFacts(): ReleaseFacts[] {
  const current = {
    contentManager: ["9.4+", "10.x", "23.x", "24.x", "25.x"],
    database: ["PostgreSQL 14+", "15", "16"],
    kubernetes: ["1.26+", "1.27", "1.28", "1.29"],
  };
  return [
    {
      version: "2.0.0",
      mandatory: false,
      compatibility: {
        contentManager: ["9.4+", "10.x", "23.x"],
        database: ["PostgreSQL 13+", "14", "15"],
        kubernetes: ["1.24+", "1.25", "1.26", "1.27"],
      },
    },
    {
      version: "2.3.0",
      minimumVersion: "2.0.0",
      mandatory: false,
      compatibility: {
        contentManager: ["9.4+", "10.x", "23.x", "24.x"],
        database: ["PostgreSQL 14+", "15"],
        kubernetes: ["1.25+", "1.26", "1.27", "1.28"],
      },
    },
    { version: "2.4.0", minimumVersion: "2.0.0", mandatory: false, compatibility: current },
    { version: "2.4.1", minimumVersion: "2.0.0", mandatory: true, compatibility: current },
    { version: "2.5.0-beta.3", minimumVersion: "2.3.0", mandatory: false, compatibility: current },
    {
      version: "2.5.0-nightly.20240315",
      minimumVersion: "2.3.0",
      mandatory: false,
      compatibility: current,
    },
  ];
}

/** One stretch of an environment's pin history. */
export function period(
  version: string,
  since: Date,
  until?: Date,
  next?: string,
  commit = `pin-${version}-${since.toISOString()}`,
): PinPeriod {
  return until === undefined ? { version, since, commit } : { version, since, until, next, commit };
}

/**
 * Pin histories: staging and qa have run 2.4.1 for 65h and 63h (more than the 48h soak),
 * production-canary runs 2.4.0 after 2.3.0, the later production stages still run 2.4.0.
 */
export function pinHistory(): Record<string, PinPeriod[]> {
  const stagingSince = new Date("2024-03-13T10:00:00Z");
  const qaSince = new Date("2024-03-13T12:00:00Z");
  const canarySince = new Date("2024-02-10T03:00:00Z");
  const productionSince = new Date("2024-02-17T03:00:00Z");
  return {
    staging: [
      period("2.4.0", new Date("2024-02-06T10:00:00Z"), stagingSince, "2.4.1"),
      period("2.4.1", stagingSince),
    ],
    qa: [
      period("2.4.0", new Date("2024-02-07T09:00:00Z"), qaSince, "2.4.1"),
      period("2.4.1", qaSince),
    ],
    "production-canary": [
      period("2.3.0", new Date("2023-12-02T03:00:00Z"), canarySince, "2.4.0"),
      period("2.4.0", canarySince),
    ],
    "production-partial": [period("2.4.0", productionSince)],
    "production-majority": [period("2.4.0", productionSince)],
    "production-full": [period("2.4.0", productionSince)],
  };
}

let nextReviewId = 1000;

/** A review; by default an approval on the head commit, submitted an hour before NOW. */
export function review(
  user: string,
  state: ReviewState = "APPROVED",
  options: { commitId?: string; submittedAt?: Date } = {},
): Review {
  nextReviewId += 1;
  return {
    id: nextReviewId,
    user,
    state,
    commitId: options.commitId ?? HEAD_SHA,
    submittedAt: options.submittedAt ?? hoursBefore(1),
  };
}

/**
 * The promotion PR #128 by carol (who also pushed its head commit), approved on the head
 * commit by alice and bob. dave approves through @acme/release-managers; mallory has write
 * access but is no approver; frank (read) and grace (triage) are in the team but cannot
 * approve.
 */
export function reviewFacts(overrides: Partial<ReviewFacts> = {}): ReviewFacts {
  return {
    pullRequest: 128,
    author: "carol",
    headSha: HEAD_SHA,
    lastPushers: ["carol"],
    reviews: [
      review("alice", "APPROVED", { submittedAt: hoursBefore(2) }),
      review("bob", "APPROVED", { submittedAt: hoursBefore(1) }),
    ],
    permissions: {
      alice: "write",
      bob: "maintain",
      carol: "write",
      dave: "write",
      erin: "write",
      frank: "read",
      grace: "triage",
      mallory: "write",
    },
    teamMembers: { "@acme/release-managers": ["dave", "erin", "frank", "grace"] },
    ...overrides,
  };
}

/** A deployment of `version` to `environment` with its statuses, oldest first. */
export function deployment(
  environment: string,
  version: string,
  statuses: [DeploymentState, Date][],
): DeploymentRecord {
  const first = statuses[0]?.[1] ?? NOW;
  return {
    environment,
    version,
    createdAt: first,
    statuses: statuses.map(([state, createdAt]) => ({ state, createdAt })),
  };
}

/** The realistic promotion of production-canary from 2.4.0 to 2.4.1; overrides replace fields. */
export function buildGateInput(overrides: Partial<GateInput> = {}): GateInput {
  const releases = releaseFacts();
  return {
    now: NOW,
    environment: "production-canary",
    stage: "production-canary",
    from: "2.4.0",
    to: "2.4.1",
    channel: "stable",
    platform: undefined,
    release: releases.find((release) => release.version === "2.4.1"),
    releases,
    policies: [productionPolicy()],
    stages: rolloutStages(),
    environmentsByStage: environmentsByStage(),
    history: pinHistory(),
    deployments: undefined,
    review: reviewFacts(),
    signatures: {
      validSigners: [
        {
          fingerprint: "8F3A1C2B9D4E5F60718293A4B5C6D7E8F9012345",
          userId: "Alice Release <alice@acme.example>",
        },
        {
          fingerprint: "1B2C3D4E5F60718293A4B5C6D7E8F90123456789",
          userId: "Bob Release <bob@acme.example>",
        },
      ],
      problems: [],
    },
    compliance: {
      commit: RELEASE_COMMIT,
      runs: [
        {
          name: "security-scan",
          status: "completed",
          conclusion: "success",
          completedAt: new Date("2024-03-15T01:10:00Z"),
        },
        {
          name: "license-validation",
          status: "completed",
          conclusion: "success",
          completedAt: new Date("2024-03-15T01:04:00Z"),
        },
        {
          name: "dependency-audit",
          status: "completed",
          conclusion: "success",
          completedAt: new Date("2024-03-15T01:07:00Z"),
        },
      ],
    },
    ...overrides,
  };
}

/**
 * What one rule sees: the gate input, the policy at `policyIndex` of its policies (the
 * registry's "(no policy)" stand-in when none applies) and the change as the registry
 * describes it.
 */
export function buildRuleInput(overrides: Partial<GateInput> = {}, policyIndex = 0): RuleInput {
  const input = buildGateInput(overrides);
  const policy = input.policies[policyIndex] ?? {
    file: "(no policy)",
    policy: { appliesTo: [input.environment] },
  };
  return { ...input, policy, change: describeChange(input) };
}
