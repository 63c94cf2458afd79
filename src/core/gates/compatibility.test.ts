import { describe, expect, it } from "vitest";
import { buildRuleInput } from "../../../test/harness/gate-input-fixture.js";
import { evaluateCompatibility } from "./compatibility.js";
import type { GateInput, GateStatus } from "./gate-input.js";

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  status: GateStatus;
  reason: string[];
}

const CASES: Case[] = [
  {
    scenario: "refuses a release that does not support the pin's Kubernetes version",
    input: {
      platform: { kubernetes: "1.25" },
      release: { version: "2.4.1", compatibility: { kubernetes: ["1.26+"] } },
    },
    status: "fail",
    reason: ["kubernetes 1.25", "1.26+"],
  },
  {
    scenario: "passes a release that supports the pin's Kubernetes version",
    input: { platform: { kubernetes: "1.28" } },
    status: "pass",
    reason: ["kubernetes 1.28", "1.26+"],
  },
  {
    scenario: "passes when the pin declares no platform versions",
    input: { platform: undefined },
    status: "pass",
    reason: ["environments/production-canary.yaml declares no platform versions"],
  },
  {
    scenario: "passes when the pin declares an empty platform",
    input: { platform: {} },
    status: "pass",
    reason: ["declares no platform versions"],
  },
  {
    scenario: "refuses a release that does not exist when the pin declares platform versions",
    input: { platform: { kubernetes: "1.28" }, to: "2.4.9", release: undefined },
    status: "fail",
    reason: ["releases/2.4.9 does not exist on the base branch"],
  },
];

describe("compatibility", () => {
  it.each(CASES)("$scenario", ({ input, status, reason }) => {
    const result = evaluateCompatibility(buildRuleInput(input));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
  });
});
