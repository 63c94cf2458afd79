/**
 * Stage order (specification section 8.2): a version enters a stage of policies/rollout.yaml
 * only after it has run in every environment of the previous stage for that stage's soak —
 * no skipping the canary.
 */
import { parseDuration } from "../duration.js";
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";
import { measureSoakIn } from "./measure-soak.js";

export function evaluateStageOrder(input: RuleInput): RuleResult {
  const index = input.stages.findIndex((stage) => stage.name === input.stage);
  if (index < 0) {
    return fail(`stage "${input.stage}" of ${input.environment} is not in policies/rollout.yaml`);
  }
  if (index === 0) return pass(`${input.stage} is the first stage of the rollout`);
  if (input.change.kind === "revert") {
    return pass(`a revert to ${input.to}, which ${input.environment} ran before, keeps its place`);
  }
  if (input.change.kind === "unchanged") {
    return pass(`${input.environment} already runs ${input.to}`);
  }
  const previous = input.stages[index - 1];
  if (!previous) return fail(`stage ${input.stage} has no previous stage`);
  const environments = input.environmentsByStage[previous.name] ?? [];
  if (environments.length === 0) {
    return fail(`${input.to} cannot have passed ${previous.name}: no environment is in that stage`);
  }
  const requiredMs = previous.soak ? parseDuration(previous.soak) : 0;
  const combined = measureSoakIn(input, environments, requiredMs);
  const verb =
    combined.status === "fail"
      ? "has not passed"
      : combined.status === "pass"
        ? "passed"
        : "is passing";
  const reason = `${input.to} ${verb} ${previous.name} (${previous.soak ?? "no soak"} each) before ${input.stage}: ${combined.details}`;
  return { status: combined.status, reason, until: combined.until };
}

export const stageOrder: GateRule = {
  name: "stage order",
  scope: "environment",
  evaluate: evaluateStageOrder,
};
