/**
 * Configuration changes (DESIGN §6): a PR that changes a pin's configuration (any field but
 * `version`), adds, renames or deletes a pin, or changes what the gate itself trusts —
 * policies/, keys/, schemas/, .github/ — is not a promotion. It needs the approvals of every
 * policy of the base branch that governs what it changes: for a pin, the policies governing
 * that environment (none: it fails); for anything else, every policy. Each policy's
 * `configurationApproval` says who approves, defaulting to its `approval`.
 */
import { judgeApprovals } from "./approvals.js";
import type { GateVerdict, NamedPolicy, ReviewFacts } from "./gate-input.js";
import type { RuleResult } from "./gate-rule.js";
import { combine } from "./registry.js";

export interface ConfigurationChange {
  file: string;
  /** What changes, in a few words ("changes deploy.command, health.ready", "adds the environment"). */
  description: string;
  /** The environments whose policies must approve it; absent: every policy must. */
  environments?: string[] | undefined;
}

export interface ConfigurationInput {
  changes: ConfigurationChange[];
  /** Every policy of the base branch. */
  policies: NamedPolicy[];
  /** The base branch's policies governing an environment. */
  policiesFor(environment: string): NamedPolicy[];
  /** Absent when there is no pull request to read reviews from. */
  review?: ReviewFacts | undefined;
}

export const CONFIGURATION_RULE = "configuration approvals";

function judgePolicy(named: NamedPolicy, review: ReviewFacts | undefined): RuleResult {
  const approval = named.policy.configurationApproval ?? named.policy.approval;
  if (!approval) {
    return {
      status: "fail",
      reason: `${named.file} does not say who approves configuration changes: set configurationApproval (or approval)`,
    };
  }
  return judgeApprovals(approval, review, named.file, "this configuration change");
}

/** The verdict on a configuration change: one row, every required policy's approvals in it. */
export function evaluateConfiguration(input: ConfigurationInput): GateVerdict[] {
  const needed = new Map<string, NamedPolicy>();
  const ungoverned: string[] = [];
  for (const change of input.changes) {
    const governing = change.environments
      ? change.environments.flatMap((name) => {
          const found = input.policiesFor(name);
          if (found.length === 0) ungoverned.push(name);
          return found;
        })
      : input.policies;
    for (const named of governing) needed.set(named.file, named);
  }
  if (ungoverned.length > 0) {
    const names = [...new Set(ungoverned)];
    return [
      {
        rule: CONFIGURATION_RULE,
        status: "fail",
        reason: `no policy governs ${names.map((n) => `environments/${n}.yaml`).join(", ")}: add a policy whose appliesTo matches ${names.join(", ")} first, in its own PR`,
      },
    ];
  }
  if (needed.size === 0) {
    return [
      {
        rule: CONFIGURATION_RULE,
        status: "fail",
        reason: "no policy on the base branch says who approves configuration changes",
      },
    ];
  }
  const results = [...needed.values()].map((named) => ({
    file: named.file,
    result: judgePolicy(named, input.review),
  }));
  const only = results.length === 1 ? results[0] : undefined;
  const result = only
    ? { ...only.result, reason: `${only.file}: ${only.result.reason}` }
    : combine(results);
  return [{ rule: CONFIGURATION_RULE, ...result }];
}
