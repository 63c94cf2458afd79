import { describe, expect, it } from "vitest";
import {
  buildRuleInput,
  hoursBefore,
  period,
  productionPolicy,
} from "../../../test/harness/gate-input-fixture.js";
import { evaluateBlockedVersions } from "./blocked-versions.js";
import type { GateInput, GateStatus } from "./gate-input.js";

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  status: GateStatus;
  reason: string[];
  not?: string[];
}

const CASES: Case[] = [
  {
    scenario: "lets through a version the policy does not block",
    input: {},
    status: "pass",
    reason: ["2.4.1 is not blocked by policies/production.yaml"],
  },
  {
    scenario: "refuses a version the policy blocks exactly",
    input: { to: "2.4.2" },
    status: "fail",
    reason: ["2.4.2 is blocked by policies/production.yaml"],
    not: ["matches"],
  },
  {
    scenario: 'refuses an exactly blocked version spelled with "-stable"',
    input: { to: "2.4.2-stable" },
    status: "fail",
    reason: ["2.4.2-stable is blocked by policies/production.yaml"],
  },
  {
    scenario: "refuses a version inside a blocked range and names the range",
    input: { to: "2.6.1" },
    status: "fail",
    reason: ['2.6.1 is blocked by policies/production.yaml (matches ">=2.6.0 <2.6.3")'],
  },
  {
    scenario: "lets through the first version after a blocked range",
    input: { to: "2.6.3" },
    status: "pass",
    reason: ["2.6.3 is not blocked by policies/production.yaml"],
  },
  {
    scenario: "refuses a blocked version even as a revert",
    input: {
      from: "2.4.3",
      to: "2.4.2",
      history: {
        "production-canary": [
          period("2.4.2", new Date("2024-03-01T03:00:00Z"), hoursBefore(30), "2.4.3"),
          period("2.4.3", hoursBefore(30)),
        ],
      },
    },
    status: "fail",
    reason: ["2.4.2 is blocked by policies/production.yaml"],
  },
  {
    scenario: "passes when the policy blocks nothing",
    input: { to: "2.4.2", policies: [productionPolicy({ blockedVersions: undefined })] },
    status: "pass",
    reason: ["policies/production.yaml blocks no versions"],
  },
];

describe("blocked versions", () => {
  it.each(CASES)("$scenario", ({ input, status, reason, not = [] }) => {
    const rule = buildRuleInput(input);
    const result = evaluateBlockedVersions(rule);
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
    for (const words of not) expect(result.reason).not.toContain(words);
  });

  it("sees the revert scenario as a revert, so the block really overrides it", () => {
    const rule = buildRuleInput(CASES.find((c) => c.scenario.includes("revert"))?.input);
    expect(rule.change.kind).toBe("revert");
  });
});
