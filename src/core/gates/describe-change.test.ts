import { describe, expect, it } from "vitest";
import {
  buildGateInput,
  period,
  productionPolicy,
} from "../../../test/harness/gate-input-fixture.js";
import { DEFAULT_KEEP_VERSIONS, describeChange } from "./describe-change.js";
import type { GateInput, PinPeriod } from "./gate-input.js";
import type { ChangeKind } from "./gate-rule.js";

/** production-canary's history through the given versions, a week each, the last still pinned. */
function canaryRan(...versions: string[]): Record<string, PinPeriod[]> {
  const start = new Date("2023-06-12T03:00:00Z").getTime();
  const week = 7 * 24 * 60 * 60 * 1000;
  return {
    "production-canary": versions.map((version, index) => {
      const next = versions[index + 1];
      const since = new Date(start + index * week);
      return next === undefined
        ? period(version, since)
        : period(version, since, new Date(start + (index + 1) * week), next);
    }),
  };
}

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  kind: ChangeKind;
  keepVersions?: number;
  /** For a revert: the version and start of the period it returns to. */
  ranBefore?: { version: string; since: string };
}

const CASES: Case[] = [
  { scenario: "sees 2.4.0 → 2.4.1 as an upgrade", input: {}, kind: "upgrade", keepVersions: 3 },
  {
    scenario: 'sees "2.4.1-stable" → "2.4.1" as unchanged',
    input: { from: "2.4.1-stable", to: "2.4.1" },
    kind: "unchanged",
  },
  {
    scenario: "sees going back to the version the environment ran before as a revert",
    input: { from: "2.4.1", to: "2.4.0", history: canaryRan("2.3.0", "2.4.0", "2.4.1") },
    kind: "revert",
    ranBefore: { version: "2.4.0", since: "2023-06-19T03:00:00Z" },
  },
  {
    scenario: "sees going back 3 versions as a revert under keepVersions 3",
    input: { from: "2.4.1", to: "2.3.0", history: canaryRan("2.3.0", "2.3.1", "2.4.0", "2.4.1") },
    kind: "revert",
    ranBefore: { version: "2.3.0", since: "2023-06-12T03:00:00Z" },
  },
  {
    scenario: "sees going back 4 versions as a downgrade under keepVersions 3",
    input: {
      from: "2.4.1",
      to: "2.0.0",
      history: canaryRan("2.0.0", "2.3.0", "2.3.1", "2.4.0", "2.4.1"),
    },
    kind: "downgrade",
  },
  {
    scenario: "does not let the current version, run before, take one of the keepVersions places",
    input: {
      from: "2.4.0",
      to: "2.2.0",
      history: canaryRan("2.2.0", "2.3.0", "2.4.0", "2.4.1", "2.4.0"),
    },
    kind: "revert",
    ranBefore: { version: "2.2.0", since: "2023-06-12T03:00:00Z" },
  },
  {
    scenario: "counts a version the environment ran twice once",
    input: {
      from: "2.4.1",
      to: "2.3.0",
      history: canaryRan("2.3.0", "2.4.0", "2.3.1", "2.4.0", "2.4.1"),
    },
    kind: "revert",
    ranBefore: { version: "2.3.0", since: "2023-06-12T03:00:00Z" },
  },
  {
    scenario: "sees going back to a version the environment never ran as a downgrade",
    input: { from: "2.4.0", to: "2.0.0" },
    kind: "downgrade",
  },
  {
    scenario: "sees a downgrade when the environment's history was not read",
    input: { from: "2.4.1", to: "2.4.0", history: {} },
    kind: "downgrade",
  },
  {
    scenario: "takes the strictest keepVersions of the applying policies",
    input: {
      from: "2.4.1",
      to: "2.3.0",
      history: canaryRan("2.3.0", "2.4.0", "2.4.1"),
      policies: [
        productionPolicy({ rollback: { keepVersions: 5 } }),
        {
          file: "policies/strict.yaml",
          policy: { appliesTo: ["production-*"], rollback: { keepVersions: 1 } },
        },
      ],
    },
    kind: "downgrade",
    keepVersions: 1,
  },
  {
    scenario: "reaches back 3 versions when no policy sets keepVersions",
    input: { policies: [] },
    kind: "upgrade",
    keepVersions: DEFAULT_KEEP_VERSIONS,
  },
  {
    scenario: "sees a new environment as an upgrade",
    input: { newEnvironment: true, from: "2.4.1", to: "2.4.1", history: {} },
    kind: "upgrade",
  },
];

describe("describeChange", () => {
  it.each(CASES)("$scenario", ({ input, kind, keepVersions, ranBefore }) => {
    const change = describeChange(buildGateInput(input));
    expect(change.kind).toBe(kind);
    if (keepVersions !== undefined) expect(change.keepVersions).toBe(keepVersions);
    if (ranBefore === undefined) {
      expect(change.ranBefore).toBeUndefined();
    } else {
      expect(change.ranBefore?.version).toBe(ranBefore.version);
      expect(change.ranBefore?.since.toISOString()).toBe(new Date(ranBefore.since).toISOString());
    }
  });
});
