/**
 * Maintenance window (specification section 2.1): a promotion merges (and so deploys) only
 * while the policy's window is open; outside it the gate waits until the next opening. A
 * revert is not held to the window: it restores a version that ran before.
 */
import { evaluateMaintenanceWindow } from "../maintenance-window.js";
import { formatInstant } from "./format-instant.js";
import { type GateRule, pass, type RuleInput, type RuleResult, waiting } from "./gate-rule.js";

export function evaluateWindow(input: RuleInput): RuleResult {
  const window = input.policy.policy.maintenanceWindow;
  const file = input.policy.file;
  if (!window || window.enabled === false) return pass(`${file} sets no maintenance window`);
  if (input.change.kind === "revert") {
    return pass("a revert is not held to the maintenance window");
  }
  const described = `${window.days.join(", ")} ${window.start}–${window.end} ${window.timezone}`;
  const state = evaluateMaintenanceWindow(window, input.now);
  if (state.open) {
    const closes = state.closesAt ? ` until ${formatInstant(state.closesAt, window.timezone)}` : "";
    return pass(`the window (${described}) is open${closes}`);
  }
  if (!state.opensAt) return waiting(`outside the window (${described}), which never opens`);
  return waiting(
    `outside the window (${described}); it opens ${formatInstant(state.opensAt, window.timezone)}`,
    state.opensAt,
  );
}

export const maintenanceWindow: GateRule = {
  name: "maintenance window",
  scope: "policy",
  evaluate: evaluateWindow,
};
