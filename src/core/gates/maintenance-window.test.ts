import { describe, expect, it } from "vitest";
import {
  buildRuleInput,
  hoursBefore,
  period,
  productionPolicy,
} from "../../../test/harness/gate-input-fixture.js";
import type { GateInput, GateStatus } from "./gate-input.js";
import { evaluateWindow } from "./maintenance-window.js";

/** Wednesday 2024-03-13 12:00 UTC: outside any weekend window. */
const WEDNESDAY = new Date("2024-03-13T12:00:00Z");

const BERLIN_WEEKEND = productionPolicy({
  maintenanceWindow: {
    days: ["saturday", "sunday"],
    start: "02:00",
    end: "06:00",
    timezone: "Europe/Berlin",
  },
});

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  status: GateStatus;
  reason: string[];
  until?: string;
}

const CASES: Case[] = [
  {
    scenario: "passes inside the window and says when it closes",
    input: {},
    status: "pass",
    reason: [
      "the window (saturday, sunday 02:00–06:00 UTC) is open until Sat 2024-03-16 06:00 UTC",
    ],
  },
  {
    scenario: "waits on a Wednesday until the window opens on Saturday at 02:00 UTC",
    input: { now: WEDNESDAY },
    status: "waiting",
    reason: [
      "outside the window (saturday, sunday 02:00–06:00 UTC); it opens Sat 2024-03-16 02:00 UTC",
    ],
    until: "2024-03-16T02:00:00Z",
  },
  {
    scenario: "waits until Sunday when the Saturday window has just closed",
    input: { now: new Date("2024-03-16T06:00:00Z") },
    status: "waiting",
    reason: ["it opens Sun 2024-03-17 02:00 UTC"],
    until: "2024-03-17T02:00:00Z",
  },
  {
    scenario:
      "waits until 02:00 Berlin time (01:00 UTC in winter) for a Berlin window and shows the local time",
    input: { now: WEDNESDAY, policies: [BERLIN_WEEKEND] },
    status: "waiting",
    reason: ["02:00–06:00 Europe/Berlin", "it opens Sat 2024-03-16 02:00 GMT+1"],
    until: "2024-03-16T01:00:00Z",
  },
  {
    scenario: "lets a revert through outside the window",
    input: {
      now: WEDNESDAY,
      from: "2.4.1",
      to: "2.4.0",
      history: {
        "production-canary": [
          period("2.4.0", new Date("2024-02-10T03:00:00Z"), hoursBefore(10, WEDNESDAY), "2.4.1"),
          period("2.4.1", hoursBefore(10, WEDNESDAY)),
        ],
      },
    },
    status: "pass",
    reason: ["a revert is not held to the maintenance window"],
  },
  {
    scenario: "holds a downgrade that is not a revert to the window",
    input: { now: WEDNESDAY, from: "2.4.1", to: "2.0.0" },
    status: "waiting",
    reason: ["outside the window"],
    until: "2024-03-16T02:00:00Z",
  },
  {
    scenario: "passes at any time when the policy sets no window",
    input: { now: WEDNESDAY, policies: [productionPolicy({ maintenanceWindow: undefined })] },
    status: "pass",
    reason: ["policies/production.yaml sets no maintenance window"],
  },
  {
    scenario: "passes at any time when the window is disabled",
    input: {
      now: WEDNESDAY,
      policies: [
        productionPolicy({
          maintenanceWindow: {
            enabled: false,
            days: ["saturday"],
            start: "02:00",
            end: "06:00",
            timezone: "UTC",
          },
        }),
      ],
    },
    status: "pass",
    reason: ["sets no maintenance window"],
  },
];

describe("maintenance window", () => {
  it.each(CASES)("$scenario", ({ input, status, reason, until }) => {
    const result = evaluateWindow(buildRuleInput(input));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
    expect(result.until?.toISOString()).toBe(
      until === undefined ? undefined : new Date(until).toISOString(),
    );
  });
});
