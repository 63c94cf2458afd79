import { describe, expect, it } from "vitest";
import {
  buildGateInput,
  buildRuleInput,
  productionPolicy,
  RELEASE_COMMIT,
} from "../../../test/harness/gate-input-fixture.js";
import { evaluateComplianceChecks } from "./compliance-checks.js";
import type { ComplianceFacts, GateInput, GateStatus } from "./gate-input.js";

type Run = ComplianceFacts["runs"][number];

const COMMIT = RELEASE_COMMIT.slice(0, 7);

/** The fixture's three successful runs, with `name`'s replaced by `runs` (none: missing). */
function compliance(name: string, ...runs: Run[]): ComplianceFacts {
  const base = buildGateInput().compliance as ComplianceFacts;
  return { ...base, runs: [...base.runs.filter((run) => run.name !== name), ...runs] };
}

function completed(name: string, conclusion: string, completedAt: string): Run {
  return { name, status: "completed", conclusion, completedAt: new Date(completedAt) };
}

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  status: GateStatus;
  reason: string[];
}

const CASES: Case[] = [
  {
    scenario: "passes when every required check succeeded on the release commit",
    input: {},
    status: "pass",
    reason: [`security-scan, license-validation, dependency-audit succeeded on ${COMMIT}`],
  },
  {
    scenario: "refuses a release whose license validation failed, naming the check",
    input: {
      compliance: compliance(
        "license-validation",
        completed("license-validation", "failure", "2024-03-15T01:04:00Z"),
      ),
    },
    status: "fail",
    reason: [`on ${COMMIT}: license-validation concluded failure`],
  },
  {
    scenario: "names every failing and unfinished check together",
    input: {
      compliance: compliance(
        "security-scan",
        completed("security-scan", "timed_out", "2024-03-15T01:10:00Z"),
        { name: "dependency-audit", status: "in_progress" },
      ),
    },
    status: "fail",
    reason: ["security-scan concluded timed_out", "dependency-audit is in progress"],
  },
  {
    scenario: "waits while a required check is still in progress",
    input: {
      compliance: compliance("dependency-audit", {
        name: "dependency-audit",
        status: "in_progress",
      }),
    },
    status: "waiting",
    reason: [`on ${COMMIT}: dependency-audit is in progress`],
  },
  {
    scenario: "waits while a required check has not run",
    input: { compliance: compliance("dependency-audit") },
    status: "waiting",
    reason: [`on ${COMMIT}: dependency-audit has not run`],
  },
  {
    scenario: "waits when the check runs were not read (offline)",
    input: { compliance: undefined },
    status: "waiting",
    reason: [
      "check runs were not read (offline): security-scan, license-validation, dependency-audit must succeed on the release commit",
    ],
  },
  {
    scenario: "passes when a re-run succeeded after a failure: the latest run counts",
    input: {
      compliance: compliance(
        "security-scan",
        completed("security-scan", "failure", "2024-03-15T01:10:00Z"),
        completed("security-scan", "success", "2024-03-15T02:40:00Z"),
      ),
    },
    status: "pass",
    reason: [`succeeded on ${COMMIT}`],
  },
  {
    scenario: "refuses when a re-run failed after a success: the latest run counts",
    input: {
      compliance: compliance(
        "security-scan",
        completed("security-scan", "failure", "2024-03-15T02:40:00Z"),
        completed("security-scan", "success", "2024-03-15T01:10:00Z"),
      ),
    },
    status: "fail",
    reason: ["security-scan concluded failure"],
  },
  {
    scenario: "waits for a re-run in progress after a failure",
    input: {
      compliance: compliance(
        "security-scan",
        completed("security-scan", "failure", "2024-03-15T01:10:00Z"),
        { name: "security-scan", status: "queued" },
      ),
    },
    status: "waiting",
    reason: ["security-scan is queued"],
  },
  {
    scenario: "refuses a release that does not exist",
    input: { to: "2.4.9", release: undefined },
    status: "fail",
    reason: ["releases/2.4.9 does not exist on the base branch"],
  },
  {
    scenario: "passes when the policy names no compliance checks",
    input: { policies: [productionPolicy({ complianceChecks: undefined })], compliance: undefined },
    status: "pass",
    reason: ["policies/production.yaml names no compliance checks"],
  },
];

describe("compliance checks", () => {
  it.each(CASES)("$scenario", ({ input, status, reason }) => {
    const result = evaluateComplianceChecks(buildRuleInput(input));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
    // Checks are waited for, not timed.
    expect(result.until).toBeUndefined();
  });
});
