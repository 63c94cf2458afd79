/**
 * The shape every gate rule exports (STYLE: one file per rule, in a registry). A rule is a
 * pure function of the gate's input; rules that read the policy are evaluated once per
 * policy that applies to the environment, the others once.
 */
import type { GateInput, GateStatus, NamedPolicy, PinPeriod } from "./gate-input.js";

/** How the pin's version moves, decided once for all rules. */
export type ChangeKind = "upgrade" | "unchanged" | "revert" | "downgrade";

export interface Change {
  kind: ChangeKind;
  /** For a revert: the latest period in which the environment ran the target version. */
  ranBefore?: PinPeriod | undefined;
  /** How many earlier versions count for a revert (the strictest policy's keepVersions). */
  keepVersions: number;
}

export interface RuleInput extends GateInput {
  /** The policy being applied (for environment-scoped rules: the first that applies). */
  policy: NamedPolicy;
  change: Change;
}

/** What a rule returns; the registry adds the rule's name. */
export interface RuleResult {
  status: GateStatus;
  reason: string;
  until?: Date | undefined;
}

export interface GateRule {
  /** Short, stable name shown in the check run ("approvals", "soak", ...). */
  name: string;
  /** "policy": once per applying policy, all must pass; "environment": once. */
  scope: "policy" | "environment";
  evaluate(input: RuleInput): RuleResult;
}

export function pass(reason: string): RuleResult {
  return { status: "pass", reason };
}

export function fail(reason: string): RuleResult {
  return { status: "fail", reason };
}

export function waiting(reason: string, until?: Date): RuleResult {
  return until === undefined ? { status: "waiting", reason } : { status: "waiting", reason, until };
}
