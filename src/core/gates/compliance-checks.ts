/**
 * Compliance checks (specification section 8.1): every check run the policy names concluded
 * "success" on the release's commit — the commit that last changed its release.yaml.
 */
import type { ComplianceFacts } from "./gate-input.js";
import {
  fail,
  type GateRule,
  pass,
  type RuleInput,
  type RuleResult,
  waiting,
} from "./gate-rule.js";

type Run = ComplianceFacts["runs"][number];

/** The latest run of a check: completed runs by completion time, an unfinished one last. */
function latestRun(runs: readonly Run[], name: string): Run | undefined {
  const named = runs.filter((run) => run.name === name);
  return (
    named.find((run) => run.status !== "completed") ??
    named.sort((a, b) => (b.completedAt?.getTime() ?? 0) - (a.completedAt?.getTime() ?? 0))[0]
  );
}

export function evaluateComplianceChecks(input: RuleInput): RuleResult {
  const required = input.policy.policy.complianceChecks ?? [];
  const file = input.policy.file;
  if (required.length === 0) return pass(`${file} names no compliance checks`);
  if (!input.release) return fail(`releases/${input.to} does not exist on the base branch`);
  const facts = input.compliance;
  if (!facts) {
    return waiting(
      `check runs were not read (offline): ${required.join(", ")} must succeed on the release commit`,
    );
  }
  const commit = facts.commit.slice(0, 7);
  const failed: string[] = [];
  const pending: string[] = [];
  for (const name of required) {
    const run = latestRun(facts.runs, name);
    if (!run) pending.push(`${name} has not run`);
    else if (run.status !== "completed") pending.push(`${name} is ${run.status.replace("_", " ")}`);
    else if (run.conclusion !== "success")
      failed.push(`${name} concluded ${run.conclusion ?? "without a conclusion"}`);
  }
  if (failed.length > 0) return fail(`on ${commit}: ${[...failed, ...pending].join("; ")}`);
  if (pending.length > 0) return waiting(`on ${commit}: ${pending.join("; ")}`);
  return pass(`${required.join(", ")} succeeded on ${commit}`);
}

export const complianceChecks: GateRule = {
  name: "compliance checks",
  scope: "policy",
  evaluate: evaluateComplianceChecks,
};
