/**
 * Compatibility (specification section 2.2 "validate compatibility"): every platform version
 * the environment's pin declares falls in the release's ranges for that platform.
 */
import { checkCompatibility } from "../compatibility.js";
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";

export function evaluateCompatibility(input: RuleInput): RuleResult {
  const declared = input.platform ?? {};
  if (Object.keys(declared).length === 0) {
    return pass(`environments/${input.environment}.yaml declares no platform versions`);
  }
  if (!input.release) return fail(`releases/${input.to} does not exist on the base branch`);
  const results = checkCompatibility(declared, input.release.compatibility);
  const broken = results.filter((result) => !result.compatible);
  if (broken.length > 0) return fail(broken.map((result) => result.reason).join("; "));
  return pass(results.map((result) => result.reason).join("; "));
}

export const compatibility: GateRule = {
  name: "compatibility",
  scope: "environment",
  evaluate: evaluateCompatibility,
};
