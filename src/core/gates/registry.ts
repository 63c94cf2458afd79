/**
 * The gate's rules, in the order the check run lists them. Adding a rule is adding a file and
 * a line here. evaluateGate never throws for a rule: a rule that crashes fails (fail closed).
 */

import { evaluateMaintenanceWindow } from "../maintenance-window.js";
import { approvals } from "./approvals.js";
import { blockedVersions } from "./blocked-versions.js";
import { channel } from "./channel.js";
import { compatibility } from "./compatibility.js";
import { complianceChecks } from "./compliance-checks.js";
import { describeChange } from "./describe-change.js";
import type { GateInput, GateStatus, GateVerdict, NamedPolicy } from "./gate-input.js";
import type { Change, GateRule, RuleResult } from "./gate-rule.js";
import { governingPolicy } from "./governing-policy.js";
import { maintenanceWindow } from "./maintenance-window.js";
import { revertHold } from "./revert-hold.js";
import { signatures } from "./signatures.js";
import { soak } from "./soak.js";
import { stageOrder } from "./stage-order.js";
import { upgradePath } from "./upgrade-path.js";

export const GATE_RULES: readonly GateRule[] = [
  governingPolicy,
  approvals,
  signatures,
  blockedVersions,
  revertHold,
  channel,
  upgradePath,
  stageOrder,
  soak,
  complianceChecks,
  compatibility,
  maintenanceWindow,
];

/**
 * Stands in when no policy applies, so every policy rule still says something; the "policy"
 * rule fails the change (an ungoverned environment never passes).
 */
export const NO_POLICY = "(no policy)";

const SEVERITY: Record<GateStatus, number> = { pass: 0, waiting: 1, fail: 2 };

/** The worst of several statuses: fail, else waiting, else pass (pass when there are none). */
export function worstStatus(statuses: readonly GateStatus[]): GateStatus {
  return statuses.reduce<GateStatus>(
    (worst, status) => (SEVERITY[status] > SEVERITY[worst] ? status : worst),
    "pass",
  );
}

function runRule(
  rule: GateRule,
  input: GateInput,
  policy: NamedPolicy,
  change: Change,
): RuleResult {
  try {
    return rule.evaluate({ ...input, policy, change });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: "fail", reason: `the rule could not be evaluated: ${message}` };
  }
}

/** Several policies' results for one rule: the worst status; waiting clears when all do. */
export function combine(results: readonly { file: string; result: RuleResult }[]): RuleResult {
  const first = results[0];
  if (results.length === 1 && first) return first.result;
  const status = worstStatus(results.map(({ result }) => result.status));
  const reason = results.map(({ file, result }) => `${file}: ${result.reason}`).join(" — ");
  if (status !== "waiting") return { status, reason };
  const untils = results.filter((r) => r.result.status === "waiting").map((r) => r.result.until);
  const until = untils.every((u) => u !== undefined)
    ? new Date(Math.max(...untils.map((u) => (u as Date).getTime())))
    : undefined;
  return { status, reason, until };
}

/** Every rule's verdict on one pin change. */
export function evaluateGate(input: GateInput): GateVerdict[] {
  const policies: NamedPolicy[] =
    input.policies.length > 0
      ? input.policies
      : [{ file: NO_POLICY, policy: { appliesTo: [input.environment] } }];
  const change = describeChange(input);
  return GATE_RULES.map((rule) => {
    const applied = rule.scope === "policy" ? policies : policies.slice(0, 1);
    const result = combine(
      applied.map((policy) => ({
        file: policy.file,
        result: runRule(rule, input, policy, change),
      })),
    );
    return result.until === undefined
      ? { rule: rule.name, status: result.status, reason: result.reason }
      : { rule: rule.name, status: result.status, reason: result.reason, until: result.until };
  });
}

/** The gate's verdict: fail if any rule fails, else waiting if any waits, else pass. */
export function overallStatus(verdicts: readonly GateVerdict[]): GateStatus {
  return worstStatus(verdicts.map((verdict) => verdict.status));
}

/** How many times a clearance may be pushed to a later window before giving up (never in practice). */
const WINDOW_STEPS = 16;

/**
 * When a waiting gate clears by itself: the latest `until`, or undefined when people must act.
 * With the gate's input, a time that falls outside a policy's maintenance window moves on to
 * the window's next opening (soak done Saturday 10:00, window 02:00–06:00 → Sunday 02:00).
 */
export function clearsAt(verdicts: readonly GateVerdict[], input?: GateInput): Date | undefined {
  const waits = verdicts.filter((v) => v.status === "waiting");
  if (waits.length === 0 || waits.some((v) => v.until === undefined)) return undefined;
  let at = new Date(Math.max(...waits.map((v) => (v.until as Date).getTime())));
  const windows = (input?.policies ?? []).flatMap((named) =>
    named.policy.maintenanceWindow && named.policy.maintenanceWindow.enabled !== false
      ? [named.policy.maintenanceWindow]
      : [],
  );
  if (windows.length === 0 || describeChange(input as GateInput).kind === "revert") return at;
  for (let step = 0; step < WINDOW_STEPS; step++) {
    const closed = windows
      .map((window) => evaluateMaintenanceWindow(window, at))
      .find((state) => !state.open);
    if (!closed) return at;
    if (!closed.opensAt) return undefined;
    at = closed.opensAt;
  }
  return undefined;
}
