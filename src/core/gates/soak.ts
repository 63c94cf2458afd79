/**
 * Soak (specification section 8.1 testingRequired / minimumTestDuration): the version ran
 * healthy in every one of the policy's `testing.environments` for `minimumSoak`, without
 * interruption. A revert is exempt: the environment ran that version before.
 */
import { parseDuration } from "../duration.js";
import { type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";
import { measureSoakIn } from "./measure-soak.js";

export function evaluateSoak(input: RuleInput): RuleResult {
  const testing = input.policy.policy.testing;
  const environments = testing?.environments ?? [];
  if (environments.length === 0) {
    return pass(`${input.policy.file} names no testing environments`);
  }
  if (input.change.kind === "revert") {
    return pass(`a revert to ${input.to}, which ${input.environment} ran before, needs no soak`);
  }
  if (input.change.kind === "unchanged") {
    return pass(`${input.environment} already runs ${input.to}`);
  }
  const requiredMs = testing?.minimumSoak ? parseDuration(testing.minimumSoak) : 0;
  const combined = measureSoakIn(input, environments, requiredMs);
  const need = `${input.to} needs ${testing?.minimumSoak ?? "0s"} uninterrupted in ${environments.join(", ")}`;
  return { status: combined.status, reason: `${need}: ${combined.details}`, until: combined.until };
}

export const soak: GateRule = { name: "soak", scope: "policy", evaluate: evaluateSoak };
