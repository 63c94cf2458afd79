import { describe, expect, it } from "vitest";
import {
  buildRuleInput,
  HEAD_SHA,
  hoursBefore,
  OLDER_SHA,
  productionPolicy,
  review,
  reviewFacts,
} from "../../../test/harness/gate-input-fixture.js";
import { evaluateApprovals } from "./approvals.js";
import type { GateInput, GateStatus, ReviewFacts } from "./gate-input.js";

interface Case {
  scenario: string;
  facts?: Partial<ReviewFacts>;
  input?: Partial<GateInput>;
  status: GateStatus;
  /** Words the reason must contain. */
  reason: string[];
  /** Words the reason must not contain. */
  not?: string[];
}

const CASES: Case[] = [
  {
    scenario: "passes with two approvals from listed approvers on the head commit",
    status: "pass",
    reason: ["2 of 2 approvals: alice, bob"],
    not: ["not counted"],
  },
  {
    scenario: "refuses an approval made on an older commit",
    facts: {
      reviews: [review("alice"), review("bob", "APPROVED", { commitId: OLDER_SHA })],
    },
    status: "waiting",
    reason: [
      "1 of 2 approvals: alice",
      `bob approved ${OLDER_SHA.slice(0, 7)}, an older commit (head is ${HEAD_SHA.slice(0, 7)})`,
    ],
  },
  {
    scenario: "refuses a self-approval by the PR author, even one who is an approver",
    facts: {
      reviews: [review("alice"), review("carol")],
      teamMembers: { "@acme/release-managers": ["carol", "dave"] },
    },
    status: "waiting",
    reason: ["1 of 2 approvals: alice", "carol is the PR author"],
  },
  {
    scenario: "refuses an approval by whoever pushed the head commit",
    facts: {
      lastPushers: ["carol", "erin"],
      reviews: [review("alice"), review("erin")],
    },
    status: "waiting",
    reason: ["1 of 2 approvals: alice", "erin pushed the head commit"],
  },
  {
    scenario: "refuses an approval by a user with read access",
    facts: { reviews: [review("alice"), review("frank")] },
    status: "waiting",
    reason: ["1 of 2 approvals: alice", "frank has only read access (write is needed)"],
  },
  {
    scenario: "refuses an approval by a user with triage access",
    facts: { reviews: [review("alice"), review("grace")] },
    status: "waiting",
    reason: ["1 of 2 approvals: alice", "grace has only triage access (write is needed)"],
  },
  {
    scenario: "refuses an approval by a user whose permission is unknown",
    facts: { reviews: [review("alice"), review("zoe")] },
    status: "waiting",
    reason: ["1 of 2 approvals: alice", "zoe has no access to the repository"],
  },
  {
    scenario: "counts two approvals by one user once",
    facts: {
      reviews: [
        review("alice", "APPROVED", { submittedAt: hoursBefore(3) }),
        review("alice", "APPROVED", { submittedAt: hoursBefore(1) }),
      ],
    },
    status: "waiting",
    reason: ["1 of 2 approvals: alice"],
    not: ["alice, alice"],
  },
  {
    scenario: "cancels an approval when the same reviewer later requests changes",
    facts: {
      reviews: [
        review("alice", "APPROVED", { submittedAt: hoursBefore(3) }),
        review("bob", "APPROVED", { submittedAt: hoursBefore(2) }),
        review("alice", "CHANGES_REQUESTED", { submittedAt: hoursBefore(1) }),
      ],
    },
    status: "waiting",
    reason: ["1 of 2 approvals: bob", `alice requested changes on ${HEAD_SHA.slice(0, 7)}`],
  },
  {
    scenario: "holds the promotion when one reviewer requests changes although two others approved",
    facts: {
      reviews: [
        review("alice", "APPROVED", { submittedAt: hoursBefore(3) }),
        review("bob", "APPROVED", { submittedAt: hoursBefore(2) }),
        review("dave", "APPROVED", { submittedAt: hoursBefore(2) }),
        review("alice", "CHANGES_REQUESTED", { submittedAt: hoursBefore(1) }),
      ],
    },
    status: "waiting",
    reason: [
      "2 of 2 approvals: bob, dave (via @acme/release-managers), but alice requested changes",
    ],
  },
  {
    scenario: "keeps an approval when the same reviewer comments afterwards",
    facts: {
      reviews: [
        review("alice", "APPROVED", { submittedAt: hoursBefore(3) }),
        review("alice", "COMMENTED", { submittedAt: hoursBefore(1) }),
        review("bob", "APPROVED", { submittedAt: hoursBefore(2) }),
      ],
    },
    status: "pass",
    reason: ["2 of 2 approvals: alice, bob"],
  },
  {
    scenario: "ignores a pending draft review after an approval",
    facts: {
      reviews: [
        review("alice", "APPROVED", { submittedAt: hoursBefore(3) }),
        review("alice", "PENDING", { submittedAt: hoursBefore(1) }),
        review("bob", "APPROVED", { submittedAt: hoursBefore(2) }),
      ],
    },
    status: "pass",
    reason: ["2 of 2 approvals: alice, bob"],
  },
  {
    scenario: "refuses an approval that was dismissed",
    facts: { reviews: [review("alice", "DISMISSED"), review("bob")] },
    status: "waiting",
    reason: ["1 of 2 approvals: bob", "alice", "dismissed"],
  },
  {
    scenario: "counts an approval through team membership and names the team",
    facts: { reviews: [review("alice"), review("dave")] },
    status: "pass",
    reason: ["2 of 2 approvals: alice, dave (via @acme/release-managers)"],
  },
  {
    scenario: "refuses an approval by a user with write access who is not an approver",
    facts: { reviews: [review("alice"), review("mallory")] },
    status: "waiting",
    reason: ["1 of 2 approvals: alice", "mallory is not an approver in policies/production.yaml"],
  },
  {
    scenario: "matches approver logins without regard to case",
    facts: {
      reviews: [review("Alice"), review("bob")],
      permissions: { Alice: "admin", bob: "write" },
    },
    status: "pass",
    reason: ["2 of 2 approvals: Alice, bob"],
  },
  {
    scenario: "lets the PR author and last pusher count when preventSelfReview is false",
    facts: {
      reviews: [review("alice"), review("carol")],
      teamMembers: { "@acme/release-managers": ["carol"] },
    },
    input: {
      policies: [
        productionPolicy({
          approval: {
            required: 2,
            approvers: ["@acme/release-managers", "alice", "bob"],
            preventSelfReview: false,
          },
        }),
      ],
    },
    status: "pass",
    reason: ["2 of 2 approvals: alice, carol (via @acme/release-managers)"],
  },
  {
    scenario: "counts any reviewer with write access when the policy lists no approvers",
    facts: { reviews: [review("mallory"), review("erin")] },
    input: { policies: [productionPolicy({ approval: { required: 2 } })] },
    status: "pass",
    reason: ["2 of 2 approvals: mallory, erin"],
  },
  {
    scenario: "waits for approvals while there is no promotion PR yet",
    input: { review: undefined },
    status: "waiting",
    reason: ["needs 2 approvals from @acme/release-managers, alice, bob on the promotion PR"],
  },
  {
    scenario: "waits for approvals while nobody has reviewed",
    facts: { reviews: [] },
    status: "waiting",
    reason: ["0 of 2 approvals", "needs 2 approvals from @acme/release-managers, alice, bob"],
  },
  {
    scenario: "passes when the policy explicitly asks for no approval",
    input: { policies: [productionPolicy({ approval: { required: 0 } })], review: undefined },
    status: "pass",
    reason: ["policies/production.yaml asks for no approvals"],
  },
  {
    scenario: "fails when no applying policy says who approves",
    input: { policies: [productionPolicy({ approval: undefined })], review: undefined },
    status: "fail",
    reason: ["policies/production.yaml does not say who approves a promotion"],
  },
  {
    scenario: "counts no approval at all while GitHub cannot tell who pushed the head commit",
    facts: { pusherUnknown: "GitHub has no record of a push of it to promote-canary" },
    status: "waiting",
    reason: [
      `cannot tell who pushed ${HEAD_SHA.slice(0, 7)} (GitHub has no record of a push of it to promote-canary), so no approval counts`,
    ],
    not: ["2 of 2"],
  },
  {
    scenario: "never counts a bot account, even one in an approving team",
    facts: {
      reviews: [review("alice"), { ...review("release-bot[bot]"), bot: true }],
      permissions: { alice: "write", "release-bot[bot]": "write" },
      teamMembers: { "@acme/release-managers": ["release-bot[bot]"] },
    },
    status: "waiting",
    reason: ["1 of 2 approvals: alice", "release-bot[bot] is a bot account"],
  },
  {
    scenario: "counts a bot account that the policy lists by login",
    facts: {
      reviews: [review("alice"), { ...review("release-bot[bot]"), bot: true }],
      permissions: { alice: "write", "release-bot[bot]": "write" },
    },
    input: {
      policies: [
        productionPolicy({
          approval: { required: 2, approvers: ["alice", "release-bot[bot]"] },
        }),
      ],
    },
    status: "pass",
    reason: ["2 of 2 approvals: alice, release-bot[bot]"],
  },
];

describe("approvals", () => {
  it.each(CASES)("$scenario", ({ facts, input, status, reason, not = [] }) => {
    const result = evaluateApprovals(buildRuleInput({ review: reviewFacts(facts), ...input }));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
    for (const words of not) expect(result.reason).not.toContain(words);
    // Approvals wait on people, never on the clock.
    expect(result.until).toBeUndefined();
  });
});
