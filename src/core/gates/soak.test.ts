import { describe, expect, it } from "vitest";
import {
  buildRuleInput,
  deployment,
  hoursAfter,
  hoursBefore,
  period,
  pinHistory,
  productionPolicy,
} from "../../../test/harness/gate-input-fixture.js";
import type { GateInput, GateStatus, PinPeriod } from "./gate-input.js";
import { evaluateSoak } from "./soak.js";

const STAGING_SINCE = new Date("2024-03-13T10:00:00Z");
const QA_SINCE = new Date("2024-03-13T12:00:00Z");
const OLD_STAGING = period("2.4.0", new Date("2024-02-06T10:00:00Z"));
const OLD_QA = period("2.4.0", new Date("2024-02-07T09:00:00Z"));

/** staging's (or qa's) history: 2.4.0 until `periods` begin, then `periods`. */
function after(old: PinPeriod, ...periods: PinPeriod[]): PinPeriod[] {
  const first = periods[0];
  if (!first) return [old];
  return [{ ...old, until: first.since, next: first.version }, ...periods];
}

function histories(overrides: Record<string, PinPeriod[] | undefined>): GateInput["history"] {
  const merged: Record<string, PinPeriod[] | undefined> = { ...pinHistory(), ...overrides };
  return Object.fromEntries(
    Object.entries(merged).filter(
      (entry): entry is [string, PinPeriod[]] => entry[1] !== undefined,
    ),
  );
}

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  status: GateStatus;
  reason: string[];
  until?: string;
}

const CASES: Case[] = [
  {
    scenario: "passes when staging and qa have both run the version longer than 48h",
    input: {},
    status: "pass",
    reason: [
      "2.4.1 needs 48h uninterrupted in staging, qa",
      "staging: 65h (since Wed 2024-03-13 10:00 UTC, pin merged)",
      "qa: 63h (since Wed 2024-03-13 12:00 UTC, pin merged)",
    ],
  },
  {
    scenario: "waits until exactly 48h after the pin when staging has soaked 47h",
    input: {
      history: histories({ staging: after(OLD_STAGING, period("2.4.1", hoursBefore(47))) }),
    },
    status: "waiting",
    reason: [
      "staging: 47h of 48h (since Thu 2024-03-14 04:00 UTC, pin merged); soaked at Sat 2024-03-16 04:00 UTC",
      "qa: 63h",
    ],
    until: "2024-03-16T04:00:00Z",
  },
  {
    scenario:
      "does not reset the soak when a newer build lands in staging after the version ran 50h",
    input: {
      history: histories({
        staging: after(
          OLD_STAGING,
          period("2.4.1", hoursBefore(60), hoursBefore(10), "2.5.0-beta.3"),
          period("2.5.0-beta.3", hoursBefore(10)),
        ),
      }),
    },
    status: "pass",
    reason: [
      "staging: 50h (since Wed 2024-03-13 15:00 UTC, pin merged, until 2.5.0-beta.3 replaced it)",
    ],
  },
  {
    scenario: "fails when qa reverted the version",
    input: {
      history: histories({
        qa: after(
          OLD_QA,
          period("2.4.1", QA_SINCE, hoursBefore(5), "2.4.0"),
          period("2.4.0", hoursBefore(5)),
        ),
      }),
    },
    status: "fail",
    reason: [
      "qa reverted 2.4.1 to 2.4.0 at Fri 2024-03-15 22:00 UTC",
      "promote it there again to restart its soak",
    ],
  },
  {
    scenario: "fails when the version ran 30h before a newer one replaced it",
    input: {
      history: histories({
        staging: after(
          OLD_STAGING,
          period("2.4.1", hoursBefore(60), hoursBefore(30), "2.5.0-beta.3"),
          period("2.5.0-beta.3", hoursBefore(30)),
        ),
      }),
    },
    status: "fail",
    reason: ["staging: ran 30h of 48h before 2.5.0-beta.3 replaced it"],
  },
  {
    scenario: "fails when the version never ran in qa",
    input: { history: histories({ qa: [OLD_QA] }) },
    status: "fail",
    reason: ["qa has never run 2.4.1"],
  },
  {
    scenario: "fails when qa's pin history was not read",
    input: { history: histories({ qa: undefined }) },
    status: "fail",
    reason: ["qa: its pin history was not read"],
  },
  {
    scenario:
      "counts from the first successful deployment, not from the pin commit, when deployments were read",
    input: {
      deployments: [
        deployment("staging", "2.4.1", [
          ["queued", hoursAfter(0.05, STAGING_SINCE)],
          ["in_progress", hoursBefore(47)],
          ["success", hoursBefore(46.5)],
        ]),
        deployment("qa", "2.4.1", [
          ["in_progress", hoursAfter(0.05, QA_SINCE)],
          ["success", hoursAfter(0.25, QA_SINCE)],
        ]),
      ],
    },
    status: "waiting",
    reason: [
      "staging: 46h 30m of 48h (since Thu 2024-03-14 04:30 UTC, deployed); soaked at Sat 2024-03-16 04:30 UTC",
      "qa: 62h 45m (since Wed 2024-03-13 12:15 UTC, deployed)",
    ],
    until: "2024-03-16T04:30:00Z",
  },
  {
    scenario: "fails when a deployment failed after the version had been deployed",
    input: {
      deployments: [
        deployment("staging", "2.4.1", [["success", hoursAfter(0.25, STAGING_SINCE)]]),
        deployment("staging", "2.4.1", [
          ["in_progress", hoursBefore(10.1)],
          ["failure", hoursBefore(10)],
        ]),
        deployment("qa", "2.4.1", [["success", hoursAfter(0.25, QA_SINCE)]]),
      ],
    },
    status: "fail",
    reason: ["staging: the latest deployment of 2.4.1 failed at Fri 2024-03-15 17:00 UTC"],
  },
  {
    scenario: "restarts the soak from a successful redeploy after a failure",
    input: {
      deployments: [
        deployment("staging", "2.4.1", [["success", hoursAfter(0.25, STAGING_SINCE)]]),
        deployment("staging", "2.4.1", [["error", hoursBefore(10)]]),
        deployment("staging", "2.4.1", [["success", hoursBefore(9)]]),
        deployment("qa", "2.4.1", [["success", hoursAfter(0.25, QA_SINCE)]]),
      ],
    },
    status: "waiting",
    reason: [
      "staging: 9h of 48h (since Fri 2024-03-15 18:00 UTC, redeployed after a failure); soaked at Sun 2024-03-17 18:00 UTC",
    ],
    until: "2024-03-17T18:00:00Z",
  },
  {
    scenario: "ignores a failed deployment of the version to another environment",
    input: {
      deployments: [
        deployment("staging", "2.4.1", [["success", hoursAfter(0.25, STAGING_SINCE)]]),
        deployment("qa", "2.4.1", [["success", hoursAfter(0.25, QA_SINCE)]]),
        deployment("dev", "2.4.1", [["failure", hoursBefore(10)]]),
      ],
    },
    status: "pass",
    reason: ["staging: 64h 45m (since", "deployed", "qa: 62h 45m (since"],
  },
  {
    scenario:
      "waits, with no time to clear by, while no deployment of the pinned version has succeeded",
    input: {
      history: histories({ staging: after(OLD_STAGING, period("2.4.1", hoursBefore(2))) }),
      deployments: [
        deployment("staging", "2.4.1", [
          ["queued", hoursBefore(1.9)],
          ["in_progress", hoursBefore(1.8)],
        ]),
        deployment("qa", "2.4.1", [["success", hoursAfter(0.25, QA_SINCE)]]),
      ],
    },
    status: "waiting",
    reason: [
      "staging: pinned to 2.4.1 at Sat 2024-03-16 01:00 UTC but no deployment of it has succeeded yet",
    ],
  },
  {
    scenario: "passes a revert to a version the environment ran, without measuring any soak",
    input: {
      from: "2.4.1",
      to: "2.4.0",
      history: {
        "production-canary": [
          period("2.4.0", new Date("2024-02-10T03:00:00Z"), hoursBefore(20), "2.4.1"),
          period("2.4.1", hoursBefore(20)),
        ],
      },
    },
    status: "pass",
    reason: ["a revert to 2.4.0, which production-canary ran before, needs no soak"],
  },
  {
    scenario: "passes when the version does not change",
    input: { from: "2.4.1", history: histories({ staging: undefined, qa: undefined }) },
    status: "pass",
    reason: ["production-canary already runs 2.4.1"],
  },
  {
    scenario: "passes when the policy names no testing environments",
    input: { policies: [productionPolicy({ testing: undefined })] },
    status: "pass",
    reason: ["policies/production.yaml names no testing environments"],
  },
];

describe("soak", () => {
  it.each(CASES)("$scenario", ({ input, status, reason, until }) => {
    const result = evaluateSoak(buildRuleInput(input));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
    expect(result.until?.toISOString()).toBe(
      until === undefined ? undefined : new Date(until).toISOString(),
    );
  });
});
