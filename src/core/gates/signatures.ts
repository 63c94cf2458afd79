/**
 * Signatures (DESIGN §6): the release manifest carries valid signatures from at least the
 * policy's threshold of distinct trusted keys (keys/). Not verified means not passed.
 */
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";

/** Without a policy setting, one valid signature is the floor (DESIGN §6). */
export const DEFAULT_SIGNATURE_THRESHOLD = 1;

function shortKey(fingerprint: string): string {
  return fingerprint.slice(-16);
}

export function evaluateSignatures(input: RuleInput): RuleResult {
  const threshold = input.policy.policy.signatures?.threshold ?? DEFAULT_SIGNATURE_THRESHOLD;
  if (!input.release) return fail(`releases/${input.to} does not exist on the base branch`);
  const facts = input.signatures;
  if (!facts) return fail(`the signatures of releases/${input.to}/release.yaml were not verified`);
  const valid = facts.validSigners;
  const names = valid.map((s) => s.userId ?? shortKey(s.fingerprint)).join(", ");
  const tally = `${valid.length} valid signature${valid.length === 1 ? "" : "s"} of ${threshold} required${names ? ` (${names})` : ""}`;
  if (valid.length >= threshold) return pass(tally);
  const problems = facts.problems.length > 0 ? `: ${facts.problems.join("; ")}` : "";
  return fail(`${tally}${problems}`);
}

export const signatures: GateRule = {
  name: "signatures",
  scope: "policy",
  evaluate: evaluateSignatures,
};
