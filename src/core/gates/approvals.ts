/**
 * Approvals (DESIGN §6): N distinct approvals from the policy's approvers. A review counts only
 * if it is the reviewer's latest review, APPROVED, made on the PR's current head commit, by a
 * user with write access who is neither the PR author nor whoever pushed the head commit (known
 * from GitHub's record of pushes: when that record cannot say, no approval counts), and who is
 * an approver directly or through a team. Bot accounts count only when an approver list names
 * them by login. A later CHANGES_REQUESTED cancels an approval.
 *
 * `judgeApprovals` is shared with configuration changes, which name their own approvers.
 */
import type { ApprovalPolicy } from "../schema-types.js";
import type { Permission, Review, ReviewFacts } from "./gate-input.js";
import {
  fail,
  type GateRule,
  pass,
  type RuleInput,
  type RuleResult,
  waiting,
} from "./gate-rule.js";

const WRITE_ACCESS: ReadonlySet<Permission> = new Set(["admin", "maintain", "write"]);

/** Reviews that change a reviewer's verdict; comments and pending drafts do not. */
const VERDICT_STATES = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

function latestVerdicts(reviews: readonly Review[]): Review[] {
  const latest = new Map<string, Review>();
  const ordered = [...reviews].sort(
    (a, b) => a.submittedAt.getTime() - b.submittedAt.getTime() || a.id - b.id,
  );
  for (const review of ordered) {
    if (VERDICT_STATES.has(review.state)) latest.set(review.user.toLowerCase(), review);
  }
  return [...latest.values()];
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

/** Whether the approver list names this login itself (not through a team). */
function listedByLogin(user: string, approvers: readonly string[]): boolean {
  const login = user.toLowerCase();
  return approvers.some((a) => !a.startsWith("@") && a.toLowerCase() === login);
}

/** How `user` is an approver: "" directly, " (via @org/team)", or undefined when not. */
function approverRoute(
  user: string,
  approvers: readonly string[],
  facts: ReviewFacts,
): string | undefined {
  if (approvers.length === 0) return "";
  if (listedByLogin(user, approvers)) return "";
  const login = user.toLowerCase();
  const team = approvers.find(
    (a) => a.startsWith("@") && (facts.teamMembers[a] ?? []).some((m) => m.toLowerCase() === login),
  );
  return team === undefined ? undefined : ` (via ${team})`;
}

/** Why a latest review does not count, or undefined when it does. */
function whyNotCounted(
  review: Review,
  facts: ReviewFacts,
  approval: ApprovalPolicy,
  isApprover: boolean,
  file: string,
): string | undefined {
  const login = review.user.toLowerCase();
  const preventSelfReview = approval.preventSelfReview !== false;
  if (review.state === "CHANGES_REQUESTED") {
    return `requested changes on ${short(review.commitId)}`;
  }
  if (review.state === "DISMISSED") return "had their review dismissed";
  if (review.commitId !== facts.headSha) {
    return `approved ${short(review.commitId)}, an older commit (head is ${short(facts.headSha)})`;
  }
  if (review.bot && !listedByLogin(review.user, approval.approvers ?? [])) {
    return `is a bot account (a bot counts only when ${file} lists it by login)`;
  }
  if (preventSelfReview && login === facts.author.toLowerCase()) {
    return "is the PR author";
  }
  if (preventSelfReview && facts.lastPushers.some((p) => p.toLowerCase() === login)) {
    return "pushed the head commit";
  }
  const permission = facts.permissions[review.user] ?? "none";
  if (!WRITE_ACCESS.has(permission)) {
    return permission === "none"
      ? "has no access to the repository"
      : `has only ${permission} access (write is needed)`;
  }
  if (!isApprover) return `is not an approver in ${file}`;
  return undefined;
}

/**
 * Counts the approvals `approval` asks for on the PR; `what` names what is approved ("the
 * promotion PR", "this configuration change") in the reasons.
 */
export function judgeApprovals(
  approval: ApprovalPolicy,
  facts: ReviewFacts | undefined,
  file: string,
  what = "the promotion PR",
): RuleResult {
  const required = approval.required;
  if (required === 0) return pass(`${file} asks for no approvals`);
  const approvers = approval.approvers ?? [];
  const from = approvers.length > 0 ? ` from ${approvers.join(", ")}` : "";
  const needs = `needs ${required} approval${required === 1 ? "" : "s"}${from}`;
  if (!facts) return waiting(`${needs} on ${what}`);
  if (facts.pusherUnknown !== undefined) {
    return waiting(
      `cannot tell who pushed ${short(facts.headSha)} (${facts.pusherUnknown}), so no approval counts: ${needs}`,
    );
  }
  const counted: string[] = [];
  const refused: string[] = [];
  for (const review of latestVerdicts(facts.reviews)) {
    const route = approverRoute(review.user, approvers, facts);
    const why = whyNotCounted(review, facts, approval, route !== undefined, file);
    if (why === undefined) counted.push(`${review.user}${route}`);
    else refused.push(`${review.user} ${why}`);
  }
  const tally = `${Math.min(counted.length, required)} of ${required} approvals${counted.length > 0 ? `: ${counted.join(", ")}` : ""}`;
  const notCounted = refused.length > 0 ? `; not counted: ${refused.join("; ")}` : "";
  const blockers = latestVerdicts(facts.reviews).filter(
    (r) => r.state === "CHANGES_REQUESTED" && WRITE_ACCESS.has(facts.permissions[r.user] ?? "none"),
  );
  if (counted.length >= required && blockers.length === 0) return pass(`${tally}${notCounted}`);
  if (counted.length >= required) {
    const who = blockers.map((r) => r.user).join(", ");
    return waiting(`${tally}, but ${who} requested changes${notCounted}`);
  }
  return waiting(`${tally}${notCounted}${refused.length === 0 ? `; ${needs}` : ""}`);
}

export function evaluateApprovals(input: RuleInput): RuleResult {
  const { approval } = input.policy.policy;
  const file = input.policy.file;
  if (approval) return judgeApprovals(approval, input.review, file);
  // Another applying policy may set the approvals; if none does, nothing says who may approve.
  const others = input.policies.filter((named) => named.policy.approval !== undefined);
  if (others.length > 0) {
    return pass(`${file} sets no approvals (${others.map((o) => o.file).join(", ")} does)`);
  }
  return fail(
    `${file} does not say who approves a promotion: set approval.required (0 to promote without review) and approval.approvers`,
  );
}

export const approvals: GateRule = {
  name: "approvals",
  scope: "policy",
  evaluate: evaluateApprovals,
};
