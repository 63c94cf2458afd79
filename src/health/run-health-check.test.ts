import { describe, expect, it } from "vitest";
import type { CanaryCriteria } from "../core/evaluate-canary.js";
import type { MetricsSource, MetricValues } from "./metrics-source.js";
import { runHealthCheck } from "./run-health-check.js";

/**
 * The schedule and the early endings of runHealthCheck, on a fake clock. Probes and real
 * metrics sources are exercised against the sample service in test/health.test.ts.
 */
const criteria: CanaryCriteria = {
  errorRate: { max: 0.01 },
  responseTimeP95Ms: { max: 200 },
  successRate: { min: 0.99 },
};
const healthy: MetricValues = { errorRate: 0, responseTimeP95Ms: 47.5, successRate: 1 };
const bad: MetricValues = { errorRate: 0.3, responseTimeP95Ms: 485, successRate: 0.7 };
const probe = { timeoutMs: 100, retries: 0, intervalMs: 10 };
const T0 = Date.parse("2024-03-16T02:00:00Z");

function fakeClock() {
  let elapsed = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    elapsed: () => elapsed,
    now: () => new Date(T0 + elapsed),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      elapsed += ms;
    },
  };
}

function scripted(rounds: (MetricValues | Error)[], log: string[] = []): MetricsSource {
  let i = 0;
  return {
    describe: "scripted source",
    async start() {
      log.push("start");
    },
    async measure() {
      const next = rounds[Math.min(i++, rounds.length - 1)] as MetricValues | Error;
      log.push("measure");
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

describe("runHealthCheck", () => {
  it("measures on a fixed schedule over the period and passes", async () => {
    const clock = fakeClock();
    const log: string[] = [];
    const seen: number[] = [];
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scripted([healthy], log),
      periodMs: 1500,
      intervalMs: 300,
      sleep: clock.sleep,
      now: clock.now,
      onMeasurement: (m) => seen.push(m.at.getTime() - T0),
    });
    expect(result.status).toBe("pass");
    expect(result.reason).toMatch(/^canary passed: errorRate 0\.00 <= max 0\.01/);
    expect(result.reason).toMatch(/5 measurements: 5 passed/);
    expect(seen).toEqual([300, 600, 900, 1200, 1500]);
    expect(log).toEqual(["start", "measure", "measure", "measure", "measure", "measure"]);
    expect(result.probes).toEqual([]);
  });

  it("fails fast once failures exceed the failure limit (2 by default), counting them in total", async () => {
    const clock = fakeClock();
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scripted([healthy, bad, healthy, bad, bad]),
      periodMs: 60_000,
      intervalMs: 1000,
      sleep: clock.sleep,
      now: clock.now,
    });
    expect(result.status).toBe("fail");
    expect(result.reason).toBe(
      "canary failed: errorRate 0.30 > max 0.01; responseTimeP95Ms 485 > max 200; successRate 0.70 < min 0.99 in 3 of 5 measurements (failureLimit 2)",
    );
    expect(result.measurements.map((m) => m.verdict)).toEqual([
      "pass",
      "fail",
      "pass",
      "fail",
      "fail",
    ]);
    expect(clock.elapsed()).toBe(5000);
  });

  it("honours a custom failure limit: 0 fails on the first failed measurement", async () => {
    const clock = fakeClock();
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scripted([bad]),
      periodMs: 60_000,
      intervalMs: 1000,
      failureLimit: 0,
      sleep: clock.sleep,
      now: clock.now,
    });
    expect(result.status).toBe("fail");
    expect(result.measurements).toHaveLength(1);
  });

  it("takes count measurements, one every interval, whatever the period", async () => {
    const clock = fakeClock();
    const seen: number[] = [];
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scripted([healthy]),
      periodMs: 1000,
      intervalMs: 400,
      count: 4,
      sleep: clock.sleep,
      now: clock.now,
      onMeasurement: (m) => seen.push(m.at.getTime() - T0),
    });
    expect(result.status).toBe("pass");
    expect(seen).toEqual([400, 800, 1200, 1600]);
  });

  it("passes at the end within the limits, when at least one measurement passed", async () => {
    const clock = fakeClock();
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scripted([bad, healthy, bad]),
      intervalMs: 1000,
      count: 3,
      sleep: clock.sleep,
      now: clock.now,
    });
    expect(result.status).toBe("pass");
    expect(result.reason).toMatch(/3 measurements: 1 passed, 2 failed, 0 inconclusive/);
  });

  it("never passes on no data: measurements without data within the limit end inconclusive", async () => {
    const clock = fakeClock();
    const noData = { errorRate: undefined, responseTimeP95Ms: undefined, successRate: undefined };
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scripted([noData]),
      intervalMs: 1000,
      count: 2,
      sleep: clock.sleep,
      now: clock.now,
    });
    expect(result.status).toBe("inconclusive");
    expect(result.reason).toMatch(
      /^canary inconclusive: no measurement passed: errorRate: no data/,
    );
  });

  it("a source that keeps failing makes it inconclusive, with the error", async () => {
    const clock = fakeClock();
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scripted([new Error("cannot reach http://prometheus: connection refused")]),
      periodMs: 60_000,
      intervalMs: 1000,
      sleep: clock.sleep,
      now: clock.now,
    });
    expect(result.status).toBe("inconclusive");
    expect(result.reason).toBe(
      "canary inconclusive: scripted source failed: cannot reach http://prometheus: connection refused in 3 of 3 measurements (inconclusiveLimit 2)",
    );
  });

  it("a period shorter than one interval measures once, at its end", async () => {
    const clock = fakeClock();
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scripted([healthy]),
      periodMs: 200,
      intervalMs: 1000,
      sleep: clock.sleep,
      now: clock.now,
    });
    expect(result.status).toBe("pass");
    expect(clock.sleeps).toEqual([200]);
  });

  it("does not sleep past a measurement that took longer than the interval", async () => {
    const clock = fakeClock();
    const slow: MetricsSource = {
      describe: "slow",
      async measure() {
        await clock.sleep(700);
        return healthy;
      },
    };
    const result = await runHealthCheck({
      probe,
      criteria,
      source: slow,
      periodMs: 1500,
      intervalMs: 500,
      sleep: clock.sleep,
      now: clock.now,
    });
    expect(result.status).toBe("pass");
    expect(result.measurements.map((m) => m.at.getTime() - T0)).toEqual([1200, 1900, 2600]);
  });

  it("without criteria it measures over the period and passes", async () => {
    const clock = fakeClock();
    const result = await runHealthCheck({
      probe,
      source: scripted([bad]),
      periodMs: 3000,
      intervalMs: 1000,
      sleep: clock.sleep,
      now: clock.now,
    });
    expect(result).toMatchObject({
      status: "pass",
      reason: "canary passed: no canary criteria: nothing to judge",
    });
    expect(result.measurements).toHaveLength(3);
  });

  it("criteria without a metrics source cannot be judged", async () => {
    const result = await runHealthCheck({ probe, criteria, periodMs: 1000, intervalMs: 100 });
    expect(result.status).toBe("inconclusive");
    expect(result.reason).toMatch(/errorRate, responseTimeP95Ms, successRate\) cannot be judged/);
  });

  it("no probes, no source, no criteria: nothing to check", async () => {
    const result = await runHealthCheck({ probe, periodMs: 1000, intervalMs: 100 });
    expect(result).toEqual({
      status: "pass",
      reason: "nothing to check: no probes, no metrics",
      probes: [],
      measurements: [],
    });
  });
});
