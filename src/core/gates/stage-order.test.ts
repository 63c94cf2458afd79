import { describe, expect, it } from "vitest";
import {
  buildRuleInput,
  hoursBefore,
  period,
  pinHistory,
} from "../../../test/harness/gate-input-fixture.js";
import type { GateInput, GateStatus } from "./gate-input.js";
import { evaluateStageOrder } from "./stage-order.js";

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  status: GateStatus;
  reason: string[];
  until?: string;
}

const CASES: Case[] = [
  {
    scenario: "lets a version into production-canary after staging and qa ran it for 48h",
    input: {},
    status: "pass",
    reason: ["2.4.1 passed staging (48h each) before production-canary", "staging: 65h", "qa: 63h"],
  },
  {
    scenario: "refuses production-full while production-majority never ran the version",
    input: { environment: "production-full", stage: "production-full" },
    status: "fail",
    reason: [
      "2.4.1 has not passed production-majority (24h each) before production-full",
      "production-majority has never run 2.4.1",
    ],
  },
  {
    scenario: "waits for the previous stage's soak when production-majority has run it 20h",
    input: {
      environment: "production-full",
      stage: "production-full",
      history: {
        ...pinHistory(),
        "production-majority": [
          period("2.4.0", new Date("2024-02-17T03:00:00Z"), hoursBefore(20), "2.4.1"),
          period("2.4.1", hoursBefore(20)),
        ],
      },
    },
    status: "waiting",
    reason: ["2.4.1 is passing production-majority (24h each)", "20h of 24h"],
    until: "2024-03-16T07:00:00Z",
  },
  {
    scenario: "lets anything into dev, the first stage",
    input: {
      environment: "dev",
      stage: "dev",
      from: "2.5.0-nightly.20240315",
      to: "2.5.0-nightly.20240316",
      history: {},
    },
    status: "pass",
    reason: ["dev is the first stage of the rollout"],
  },
  {
    scenario: "refuses an environment whose stage is not in the rollout",
    input: { stage: "hotfix" },
    status: "fail",
    reason: ['stage "hotfix" of production-canary is not in policies/rollout.yaml'],
  },
  {
    scenario: "refuses a stage whose previous stage holds no environment",
    input: { environmentsByStage: { "production-canary": ["production-canary"] } },
    status: "fail",
    reason: ["2.4.1 cannot have passed staging: no environment is in that stage"],
  },
  {
    scenario: "lets a revert keep its place without the previous stage",
    input: {
      environment: "production-full",
      stage: "production-full",
      from: "2.4.1",
      to: "2.4.0",
      history: {
        "production-full": [
          period("2.4.0", new Date("2024-02-17T03:00:00Z"), hoursBefore(5), "2.4.1"),
          period("2.4.1", hoursBefore(5)),
        ],
      },
    },
    status: "pass",
    reason: ["a revert to 2.4.0, which production-full ran before, keeps its place"],
  },
];

describe("stage order", () => {
  it.each(CASES)("$scenario", ({ input, status, reason, until }) => {
    const result = evaluateStageOrder(buildRuleInput(input));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
    expect(result.until?.toISOString()).toBe(
      until === undefined ? undefined : new Date(until).toISOString(),
    );
  });
});
