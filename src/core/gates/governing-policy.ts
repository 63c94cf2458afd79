/**
 * Governing policy (DESIGN §6): an environment that no policy governs never passes — there is
 * nothing that says who approves or what must have soaked. A policy that governs it with
 * `approval.required: 0` is how an environment is opened to promotions without review.
 */
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";

export function evaluateGoverningPolicy(input: RuleInput): RuleResult {
  if (input.policies.length === 0) {
    return fail(
      `no policy governs environments/${input.environment}.yaml: add a policy whose appliesTo matches "${input.environment}" (approval.required: 0 allows promotions without review)`,
    );
  }
  return pass(
    `${input.environment} is governed by ${input.policies.map((named) => named.file).join(", ")}`,
  );
}

export const governingPolicy: GateRule = {
  name: "policy",
  scope: "environment",
  evaluate: evaluateGoverningPolicy,
};
