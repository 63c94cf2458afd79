import { describe, expect, it } from "vitest";
import {
  buildRuleInput,
  hoursBefore,
  period,
  productionPolicy,
  releaseFacts,
} from "../../../test/harness/gate-input-fixture.js";
import type { GateInput, GateStatus, PinPeriod, ReleaseFacts } from "./gate-input.js";
import { evaluateUpgradePath } from "./upgrade-path.js";

/** 2.5.0, a stable release that needs 2.3.0 or newer. */
const RELEASE_2_5_0: ReleaseFacts = { version: "2.5.0", minimumVersion: "2.3.0" };

/** production-canary's history through the given versions, the last one still pinned. */
function canaryRan(...versions: string[]): Record<string, PinPeriod[]> {
  const start = new Date("2023-06-12T03:00:00Z").getTime();
  const week = 7 * 24 * 60 * 60 * 1000;
  const periods = versions.map((version, index) => {
    const since = new Date(start + index * week);
    const next = versions[index + 1];
    return next === undefined
      ? period(version, since)
      : period(version, since, new Date(start + (index + 1) * week), next);
  });
  return { "production-canary": periods };
}

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  status: GateStatus;
  reason: string[];
}

const CASES: Case[] = [
  {
    scenario: "lets 2.4.0 go to 2.4.1 in one step",
    input: {},
    status: "pass",
    reason: ["2.4.0 → 2.4.1 in one step (2.4.1 needs 2.0.0 or newer)"],
  },
  {
    scenario: "refuses to skip a minimumVersion and names the release to promote first",
    input: {
      from: "2.0.0",
      to: "2.5.0",
      release: RELEASE_2_5_0,
      releases: [...releaseFacts(), RELEASE_2_5_0],
      history: canaryRan("2.0.0"),
    },
    status: "fail",
    reason: [
      "2.0.0 is older than 2.5.0's minimumVersion 2.3.0: promote 2.3.0 first (path 2.0.0 → 2.3.0 → 2.5.0)",
    ],
  },
  {
    scenario: "does not step through a release the environment's channel does not receive",
    input: {
      from: "2.0.0",
      to: "2.5.0",
      release: RELEASE_2_5_0,
      releases: [
        { version: "2.0.0" },
        { version: "2.3.0-beta.1", minimumVersion: "2.0.0" },
        { version: "2.4.0", minimumVersion: "2.0.0" },
        RELEASE_2_5_0,
      ],
      history: canaryRan("2.0.0"),
    },
    status: "fail",
    reason: ["promote 2.4.0 first (path 2.0.0 → 2.4.0 → 2.5.0)"],
  },
  {
    scenario: "does not step through a release the policy blocks",
    input: {
      from: "2.0.0",
      to: "2.7.0",
      release: { version: "2.7.0", minimumVersion: "2.4.2" },
      releases: [
        ...releaseFacts(),
        { version: "2.4.2", minimumVersion: "2.0.0" },
        { version: "2.4.3", minimumVersion: "2.0.0" },
        { version: "2.7.0", minimumVersion: "2.4.2" },
      ],
      history: canaryRan("2.0.0"),
    },
    status: "fail",
    reason: ["promote 2.4.3 first (path 2.0.0 → 2.4.3 → 2.7.0)"],
  },
  {
    scenario: "refuses an upgrade when no release can bridge the minimumVersion",
    input: {
      from: "2.0.0",
      to: "2.5.0",
      release: RELEASE_2_5_0,
      releases: [{ version: "2.0.0" }, RELEASE_2_5_0],
      history: canaryRan("2.0.0"),
    },
    status: "fail",
    reason: [
      "2.0.0 is older than 2.5.0's minimumVersion 2.3.0: no upgrade path from 2.0.0 to 2.5.0",
    ],
  },
  {
    scenario: "refuses an upgrade to a release that does not exist",
    input: { to: "2.4.9", release: undefined },
    status: "fail",
    reason: ["releases/2.4.9 does not exist on the base branch"],
  },
  {
    scenario: "refuses a downgrade to a version the environment never ran",
    input: { from: "2.4.0", to: "2.0.0" },
    status: "fail",
    reason: [
      "2.4.0 → 2.0.0 is a downgrade, and production-canary did not run 2.0.0 among its last 3 versions: only a revert may go back",
    ],
  },
  {
    scenario: "lets a revert to a version among the last keepVersions through",
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
    reason: [
      "a revert: production-canary ran 2.4.0 until Fri 2024-03-15 07:00 UTC, within its last 3 versions",
    ],
  },
  {
    scenario: "refuses a revert to a version older than the last keepVersions",
    input: {
      from: "2.4.1",
      to: "2.0.0",
      history: canaryRan("2.0.0", "2.3.0", "2.3.1", "2.4.0", "2.4.1"),
    },
    status: "fail",
    reason: [
      "2.4.1 → 2.0.0 is a downgrade, and production-canary did not run 2.0.0 among its last 3 versions",
    ],
  },
  {
    scenario: "reaches back as far as the strictest policy's keepVersions",
    input: {
      from: "2.4.1",
      to: "2.3.0",
      history: canaryRan("2.3.0", "2.3.1", "2.4.0", "2.4.1"),
      policies: [
        productionPolicy({ rollback: { keepVersions: 5 } }),
        {
          file: "policies/strict.yaml",
          policy: { appliesTo: ["production-*"], rollback: { keepVersions: 2 } },
        },
      ],
    },
    status: "fail",
    reason: ["did not run 2.3.0 among its last 2 versions"],
  },
  {
    scenario: "passes when the version does not change",
    input: { from: "2.4.1", to: "2.4.1" },
    status: "pass",
    reason: ["the version stays 2.4.1"],
  },
];

describe("upgrade path", () => {
  it.each(CASES)("$scenario", ({ input, status, reason }) => {
    const result = evaluateUpgradePath(buildRuleInput(input));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
  });
});
