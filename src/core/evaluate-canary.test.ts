import { describe, expect, it } from "vitest";
import type { HealthMeasurement } from "./evaluate-canary.js";
import { analyseCanary, type CanaryCriteria, judgeMeasurement } from "./evaluate-canary.js";

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
      name: "fails fast on the third consecutive failure",
      measurements: [P, F, F, F],
      finished: false,
      status: "fail",
      reason:
        /^errorRate 0\.30 > max 0\.01; successRate 0\.70 < min 0\.99 in 3 consecutive measurements$/,
    },
    {
      name: "failures that are not consecutive do not fail fast",
      measurements: [F, F, P, F, F],
      finished: false,
      status: "running",
      reason: /4 failed/,
    },
    {
      name: "an inconclusive measurement breaks a run of failures",
      measurements: [F, F, I, F],
      finished: false,
      status: "running",
      reason: /1 inconclusive/,
    },
    {
      name: "failureLimit 1 fails on the first failure",
      measurements: [P, F],
      finished: false,
      failureLimit: 1,
      status: "fail",
      reason: /in 1 consecutive measurement$/,
    },
    {
      name: "failureLimit below 1 counts as 1",
      measurements: [F],
      finished: false,
      failureLimit: 0,
      status: "fail",
      reason: /errorRate 0\.30 > max 0\.01/,
    },
    {
      name: "inconclusive after three measurements without data",
      measurements: [P, I, I, I],
      finished: false,
      status: "inconclusive",
      reason:
        /^errorRate: no data; responseTimeP95Ms: no data; successRate: no data in 3 consecutive measurements$/,
    },
    {
      name: "the limit reached first decides",
      measurements: [I, I, I, F, F, F],
      finished: true,
      status: "inconclusive",
      reason: /in 3 consecutive/,
    },
    {
      name: "a custom inconclusive limit",
      measurements: [I, I, I],
      finished: false,
      inconclusiveLimit: 5,
      status: "running",
      reason: /3 inconclusive/,
    },
    {
      name: "finished, the last passed",
      measurements: [I, F, P, P],
      finished: true,
      status: "pass",
      reason:
        /^errorRate 0\.00 <= max 0\.01, responseTimeP95Ms 48 <= max 200, successRate 1\.00 >= min 0\.99 \(4 measurements: 2 passed, 1 failed, 1 inconclusive\)$/,
    },
    {
      name: "finished, the last failed",
      measurements: [P, P, F],
      finished: true,
      status: "fail",
      reason: /^errorRate 0\.30 > max 0\.01; successRate 0\.70 < min 0\.99 in the last measurement/,
    },
    {
      name: "finished, the last had no data",
      measurements: [P, I],
      finished: true,
      status: "inconclusive",
      reason: /no data in the last measurement/,
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
      failureLimit: 1,
      finished: false,
    });
    expect(verdict).toEqual({
      status: "fail",
      reason: "metrics source failed: boom in 1 consecutive measurement",
    });
  });
});
