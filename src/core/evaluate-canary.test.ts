import { describe, expect, it } from "vitest";
import type { HealthMeasurement } from "./evaluate-canary.js";
import {
  analyseCanary,
  analysisSchedule,
  type CanaryCriteria,
  judgeMeasurement,
} from "./evaluate-canary.js";

const policy: CanaryCriteria = {
  errorRate: { max: 0.01 },
  responseTimeP95Ms: { max: 200 },
  successRate: { min: 0.99 },
};
const at = new Date("2024-03-16T02:00:00Z");

const healthy = { errorRate: 0, responseTimeP95Ms: 47.5, successRate: 1 };
const broken = { errorRate: 0.3, responseTimeP95Ms: 485, successRate: 0.7 };
const noData = { errorRate: undefined, responseTimeP95Ms: undefined, successRate: undefined };

describe("judgeMeasurement", () => {
  const cases: {
    name: string;
    criteria: CanaryCriteria | undefined;
    values: Record<string, number | undefined>;
    verdict: HealthMeasurement["verdict"];
    problems: string[];
  }[] = [
    { name: "all within bounds", criteria: policy, values: healthy, verdict: "pass", problems: [] },
    {
      name: "every criterion out of bounds",
      criteria: policy,
      values: broken,
      verdict: "fail",
      problems: [
        "errorRate 0.30 > max 0.01",
        "responseTimeP95Ms 485 > max 200",
        "successRate 0.70 < min 0.99",
      ],
    },
    {
      name: "a value just over a bound shows enough decimals",
      criteria: { errorRate: { max: 0.01 } },
      values: { errorRate: 0.011 },
      verdict: "fail",
      problems: ["errorRate 0.011 > max 0.01"],
    },
    {
      name: "a value equal to a bound holds it",
      criteria: { errorRate: { max: 0.01 }, successRate: { min: 0.99 } },
      values: { errorRate: 0.01, successRate: 0.99 },
      verdict: "pass",
      problems: [],
    },
    {
      name: "max 0 with a small error rate",
      criteria: { errorRate: { max: 0 } },
      values: { errorRate: 0.004 },
      verdict: "fail",
      problems: ["errorRate 0.004 > max 0"],
    },
    {
      name: "a band with min and max",
      criteria: { responseTimeP95Ms: { min: 1, max: 200 } },
      values: { responseTimeP95Ms: 0.5 },
      verdict: "fail",
      problems: ["responseTimeP95Ms 0.50 < min 1"],
    },
    {
      name: "no data for any criterion",
      criteria: policy,
      values: noData,
      verdict: "inconclusive",
      problems: ["errorRate: no data", "responseTimeP95Ms: no data", "successRate: no data"],
    },
    {
      name: "NaN counts as no data",
      criteria: { errorRate: { max: 0.01 } },
      values: { errorRate: Number.NaN },
      verdict: "inconclusive",
      problems: ["errorRate: no data"],
    },
    {
      name: "a failure outweighs missing data, and is listed first",
      criteria: policy,
      values: { errorRate: undefined, responseTimeP95Ms: 300, successRate: 1 },
      verdict: "fail",
      problems: ["responseTimeP95Ms 300 > max 200", "errorRate: no data"],
    },
    {
      name: "values of criteria the policy does not set are ignored",
      criteria: { errorRate: { max: 0.01 } },
      values: { errorRate: 0, responseTimeP95Ms: 9999 },
      verdict: "pass",
      problems: [],
    },
    {
      name: "no criteria: always passes",
      criteria: undefined,
      values: broken,
      verdict: "pass",
      problems: [],
    },
    {
      name: "an empty threshold is no criterion",
      criteria: { errorRate: {} },
      values: noData,
      verdict: "pass",
      problems: [],
    },
  ];

  it.each(cases)("$name", ({ criteria, values, verdict, problems }) => {
    const m = judgeMeasurement(criteria, values, at);
    expect(m).toEqual({ at, values, verdict, problems });
    expect(m.values).not.toBe(values);
  });
});

const P = judgeMeasurement(policy, healthy, at);
const F = judgeMeasurement(policy, { ...healthy, errorRate: 0.3, successRate: 0.7 }, at);
const I = judgeMeasurement(policy, noData, at);

/**
 * Argo Rollouts' semantics (https://argo-rollouts.readthedocs.io/en/stable/features/analysis/):
 * the analysis fails once failed measurements exceed failureLimit and is inconclusive once
 * measurements without data exceed inconclusiveLimit — totals, not runs in a row. pinline adds
 * that a pass needs at least one passing measurement: no data is never a pass.
 */
describe("analyseCanary", () => {
  const cases: {
    name: string;
    measurements: HealthMeasurement[];
    finished: boolean;
    failureLimit?: number;
    inconclusiveLimit?: number;
    criteria?: CanaryCriteria | undefined;
    status: string;
    reason: RegExp;
  }[] = [
    {
      name: "nothing yet",
      measurements: [],
      finished: false,
      status: "running",
      reason: /^0 measurements/,
    },
    {
      name: "passing so far",
      measurements: [P, P],
      finished: false,
      status: "running",
      reason: /2 measurements: 2 passed, 0 failed, 0 inconclusive/,
    },
    {
      name: "fails fast once failures exceed the default failureLimit of 2",
      measurements: [P, F, F, F],
      finished: false,
      status: "fail",
      reason:
        /^errorRate 0\.30 > max 0\.01; successRate 0\.70 < min 0\.99 in 3 of 4 measurements \(failureLimit 2\)$/,
    },
    {
      name: "failures count in total, not in a row",
      measurements: [F, P, F, P, F],
      finished: false,
      status: "fail",
      reason: /in 3 of 5 measurements \(failureLimit 2\)$/,
    },
    {
      name: "failures up to the limit keep it running",
      measurements: [F, P, F, P],
      finished: false,
      status: "running",
      reason: /2 failed/,
    },
    {
      name: "failureLimit 0 fails on the first failure",
      measurements: [P, F],
      finished: false,
      failureLimit: 0,
      status: "fail",
      reason: /in 1 of 2 measurements \(failureLimit 0\)$/,
    },
    {
      name: "a negative failureLimit counts as 0",
      measurements: [F],
      finished: false,
      failureLimit: -1,
      status: "fail",
      reason: /errorRate 0\.30 > max 0\.01.*\(failureLimit 0\)$/,
    },
    {
      name: "a custom failureLimit tolerates more",
      measurements: [F, F, F, F],
      finished: false,
      failureLimit: 4,
      status: "running",
      reason: /4 failed/,
    },
    {
      name: "inconclusive once measurements without data exceed the default inconclusiveLimit of 2",
      measurements: [P, I, P, I, I],
      finished: false,
      status: "inconclusive",
      reason:
        /^errorRate: no data; responseTimeP95Ms: no data; successRate: no data in 3 of 5 measurements \(inconclusiveLimit 2\)$/,
    },
    {
      name: "the limit exceeded first decides",
      measurements: [I, I, I, F, F, F],
      finished: true,
      status: "inconclusive",
      reason: /in 3 of 3 measurements \(inconclusiveLimit 2\)$/,
    },
    {
      name: "inconclusiveLimit 0 ends at the first measurement without data",
      measurements: [P, I],
      finished: false,
      inconclusiveLimit: 0,
      status: "inconclusive",
      reason: /in 1 of 2 measurements \(inconclusiveLimit 0\)$/,
    },
    {
      name: "finished within both limits with a pass: passes, naming the last passing values",
      measurements: [I, F, P, F],
      finished: true,
      status: "pass",
      reason:
        /^errorRate 0\.00 <= max 0\.01, responseTimeP95Ms 48 <= max 200, successRate 1\.00 >= min 0\.99 \(4 measurements: 1 passed, 2 failed, 1 inconclusive\)$/,
    },
    {
      name: "finished without any pass but with failures: fails",
      measurements: [F, I],
      finished: true,
      status: "fail",
      reason:
        /^no measurement passed: errorRate 0\.30 > max 0\.01; successRate 0\.70 < min 0\.99 \(2 measurements: 0 passed, 1 failed, 1 inconclusive\)$/,
    },
    {
      name: "finished with only measurements without data (within the limit): inconclusive, never a pass",
      measurements: [I, I],
      finished: true,
      status: "inconclusive",
      reason:
        /^no measurement passed: errorRate: no data; .* \(2 measurements: 0 passed, 0 failed, 2 inconclusive\)$/,
    },
    {
      name: "finished without a single measurement",
      measurements: [],
      finished: true,
      status: "inconclusive",
      reason: /^no measurement was taken$/,
    },
    {
      name: "no criteria: running until the finish",
      measurements: [F, F, F],
      finished: false,
      criteria: undefined,
      status: "running",
      reason: /no canary criteria/,
    },
    {
      name: "no criteria: pass at the finish",
      measurements: [],
      finished: true,
      criteria: {},
      status: "pass",
      reason: /^no canary criteria/,
    },
  ];

  it.each(cases)("$name", (c) => {
    const verdict = analyseCanary({
      criteria: "criteria" in c ? c.criteria : policy,
      measurements: c.measurements,
      failureLimit: c.failureLimit,
      inconclusiveLimit: c.inconclusiveLimit,
      finished: c.finished,
    });
    expect(verdict.status).toBe(c.status);
    expect(verdict.reason).toMatch(c.reason);
  });

  it("keeps what a measurement recorded when it was judged against other criteria", () => {
    const recorded: HealthMeasurement = {
      at,
      values: {},
      verdict: "fail",
      problems: ["metrics source failed: boom"],
    };
    const verdict = analyseCanary({
      criteria: policy,
      measurements: [recorded],
      failureLimit: 0,
      finished: false,
    });
    expect(verdict).toEqual({
      status: "fail",
      reason: "metrics source failed: boom in 1 of 1 measurement (failureLimit 0)",
    });
  });
});

describe("analysisSchedule", () => {
  it("takes interval and count as given: the analysis lasts count × interval", () => {
    expect(analysisSchedule({ periodMs: 300_000, intervalMs: 10_000, count: 6 })).toEqual({
      intervalMs: 10_000,
      count: 6,
      totalMs: 60_000,
    });
  });

  it("without count, takes as many intervals as fit in the period", () => {
    expect(analysisSchedule({ periodMs: 60_000, intervalMs: 7_000 })).toMatchObject({
      count: 8,
      totalMs: 56_000,
    });
  });

  it("without interval, measures every tenth of the period, between 1s and 30s", () => {
    expect(analysisSchedule({ periodMs: 300_000 })).toMatchObject({
      intervalMs: 30_000,
      count: 10,
    });
    expect(analysisSchedule({ periodMs: 3_000 })).toMatchObject({ intervalMs: 1_000, count: 3 });
    expect(analysisSchedule({ periodMs: 120_000 })).toMatchObject({ intervalMs: 12_000 });
  });

  it("measures at least once, even when the interval is longer than the period", () => {
    expect(analysisSchedule({ periodMs: 500, intervalMs: 1_000 })).toEqual({
      intervalMs: 1_000,
      count: 1,
      totalMs: 1_000,
    });
  });
});
