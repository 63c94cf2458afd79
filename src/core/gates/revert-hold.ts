/**
 * Revert hold: a version reverted in this environment is not promoted there again until the
 * promotion re-allows it explicitly (core/revert-hold.ts). Unchanged pins are not judged.
 */
import { isRetried, RETRY_TRAILER, revertHolding } from "../revert-hold.js";
import { formatInstant } from "./format-instant.js";
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";

export function evaluateRevertHold(input: RuleInput): RuleResult {
  if (input.change.kind === "unchanged") return pass(`${input.to} is already pinned`);
  const periods = input.history[input.environment] ?? [];
  const held = revertHolding(periods, input.to);
  if (!held) return pass(`${input.to} was never reverted in ${input.environment}`);
  const when = `${formatInstant(held.at)} (back to ${held.revertedTo})`;
  if (isRetried(input.retry, input.to)) {
    return pass(
      `${input.to} was reverted in ${input.environment} on ${when}; this promotion tries it again (${RETRY_TRAILER}: ${input.to})`,
    );
  }
  return fail(
    `${input.to} was reverted in ${input.environment} on ${when}, so it is held there: ship a fixed release, or try it again on purpose with a head commit that carries "${RETRY_TRAILER}: ${input.to}" (pinline promote ${input.environment} ${input.to} --retry)`,
  );
}

export const revertHold: GateRule = {
  name: "revert hold",
  scope: "environment",
  evaluate: evaluateRevertHold,
};
