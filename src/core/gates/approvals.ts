/**
 * Approvals (DESIGN §6): N distinct approvals from the policy's approvers. A review counts only
 * if it is the reviewer's latest review, APPROVED, made on the PR's current head commit, by a
 * user with write access who is neither the PR author nor the last pusher, and who is an
 * approver directly or through a team. A later CHANGES_REQUESTED cancels an approval.
 */
import type { Permission, Review, ReviewFacts } from "./gate-input.js";
import { type GateRule, pass, type RuleInput, type RuleResult, waiting } from "./gate-rule.js";

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

/** How `user` is an approver: "" directly, " (via @org/team)", or undefined when not. */
function approverRoute(
  user: string,
  approvers: readonly string[],
  facts: ReviewFacts,
): string | undefined {
  if (approvers.length === 0) return "";
  const login = user.toLowerCase();
  if (approvers.some((a) => !a.startsWith("@") && a.toLowerCase() === login)) return "";
  const team = approvers.find(
    (a) => a.startsWith("@") && (facts.teamMembers[a] ?? []).some((m) => m.toLowerCase() === login),
  );
  return team === undefined ? undefined : ` (via ${team})`;
}

/** Why a latest review does not count, or undefined when it does. */
function whyNotCounted(
  review: Review,
  facts: ReviewFacts,
  preventSelfReview: boolean,
  isApprover: boolean,
  file: string,
): string | undefined {
  const login = review.user.toLowerCase();
  if (review.state === "CHANGES_REQUESTED") {
    return `requested changes on ${short(review.commitId)}`;
  }
  if (review.state === "DISMISSED") return "had their review dismissed";
  if (review.commitId !== facts.headSha) {
    return `approved ${short(review.commitId)}, an older commit (head is ${short(facts.headSha)})`;
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

export function evaluateApprovals(input: RuleInput): RuleResult {
  const { approval } = input.policy.policy;
  const file = input.policy.file;
  const required = approval?.required ?? 0;
  if (required === 0) return pass(`${file} asks for no approvals`);
  const approvers = approval?.approvers ?? [];
  const from = approvers.length > 0 ? ` from ${approvers.join(", ")}` : "";
  const facts = input.review;
  if (!facts) {
    return waiting(
      `needs ${required} approval${required === 1 ? "" : "s"}${from} on the promotion PR`,
    );
  }
  const counted: string[] = [];
  const refused: string[] = [];
  for (const review of latestVerdicts(facts.reviews)) {
    const route = approverRoute(review.user, approvers, facts);
    const why = whyNotCounted(
      review,
      facts,
      approval?.preventSelfReview !== false,
      route !== undefined,
      file,
    );
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
  return waiting(`${tally}${notCounted}${refused.length === 0 ? `; needs approvals${from}` : ""}`);
}

export const approvals: GateRule = {
  name: "approvals",
  scope: "policy",
  evaluate: evaluateApprovals,
};
