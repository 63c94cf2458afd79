import { describe, expect, it } from "vitest";
import {
  buildGateInput,
  hoursBefore,
  period,
  pinHistory,
  productionPolicy,
  review,
  reviewFacts,
} from "../../../test/harness/gate-input-fixture.js";
import type { GateInput, GateStatus, GateVerdict, NamedPolicy } from "./gate-input.js";
import { clearsAt, evaluateGate, GATE_RULES, NO_POLICY, overallStatus } from "./registry.js";

const RULE_NAMES = [
  "policy",
  "approvals",
  "signatures",
  "blocked versions",
  "revert hold",
  "channel",
  "upgrade path",
  "stage order",
  "soak",
  "compliance checks",
  "compatibility",
  "maintenance window",
];

/** A second policy for production: three approvals, and a longer soak in staging. */
function securityPolicy(extra: Partial<NamedPolicy["policy"]> = {}): NamedPolicy {
  return {
    file: "policies/security.yaml",
    policy: {
      appliesTo: ["production-*"],
      approval: { required: 3, approvers: ["@acme/release-managers", "alice", "bob"] },
      ...extra,
    },
  };
}

function verdictOf(verdicts: readonly GateVerdict[], rule: string): GateVerdict {
  const verdict = verdicts.find((v) => v.rule === rule);
  if (!verdict) throw new Error(`no verdict for ${rule}`);
  return verdict;
}

function gate(overrides: Partial<GateInput> = {}): GateVerdict[] {
  return evaluateGate(buildGateInput(overrides));
}

describe("evaluateGate", () => {
  it("passes every rule for the promotion of production-canary to 2.4.1 on Saturday at 03:00 UTC", () => {
    const verdicts = gate();
    expect(verdicts.map((v) => v.rule)).toEqual(RULE_NAMES);
    expect(GATE_RULES.map((rule) => rule.name)).toEqual(RULE_NAMES);
    for (const verdict of verdicts) {
      expect({ rule: verdict.rule, status: verdict.status }).toEqual({
        rule: verdict.rule,
        status: "pass",
      });
      expect(verdict.until).toBeUndefined();
      expect(verdict).not.toHaveProperty("until");
    }
    expect(overallStatus(verdicts)).toBe("pass");
    expect(clearsAt(verdicts)).toBeUndefined();
  });

  it("takes the worst approvals verdict when two policies apply, and names both files", () => {
    const verdicts = gate({ policies: [productionPolicy(), securityPolicy()] });
    const approvals = verdictOf(verdicts, "approvals");
    expect(approvals.status).toBe("waiting");
    expect(approvals.reason).toContain("policies/production.yaml: 2 of 2 approvals: alice, bob");
    expect(approvals.reason).toContain("policies/security.yaml: 2 of 3 approvals: alice, bob");
    expect(approvals.until).toBeUndefined();
    expect(overallStatus(verdicts)).toBe("waiting");
    expect(clearsAt(verdicts)).toBeUndefined();
  });

  it("passes approvals under two policies once the stricter one is satisfied", () => {
    const verdicts = gate({
      policies: [productionPolicy(), securityPolicy()],
      review: reviewFacts({ reviews: [review("alice"), review("bob"), review("dave")] }),
    });
    const approvals = verdictOf(verdicts, "approvals");
    expect(approvals.status).toBe("pass");
    expect(approvals.reason).toContain("policies/security.yaml: 3 of 3 approvals");
  });

  it("fails a rule that any applying policy fails, even when another passes", () => {
    const verdicts = gate({
      policies: [productionPolicy(), securityPolicy({ blockedVersions: ["2.4.1"] })],
    });
    const blocked = verdictOf(verdicts, "blocked versions");
    expect(blocked.status).toBe("fail");
    expect(blocked.reason).toContain("policies/production.yaml: 2.4.1 is not blocked");
    expect(blocked.reason).toContain("policies/security.yaml: 2.4.1 is blocked");
    expect(overallStatus(verdicts)).toBe("fail");
  });

  it("waits for the latest time when two policies' soaks wait on the clock", () => {
    const stagingSince = hoursBefore(47);
    const verdicts = gate({
      history: {
        ...pinHistory(),
        staging: [
          period("2.4.0", new Date("2024-02-06T10:00:00Z"), stagingSince, "2.4.1"),
          period("2.4.1", stagingSince),
        ],
      },
      policies: [
        productionPolicy(),
        securityPolicy({
          approval: undefined,
          testing: { environments: ["staging"], minimumSoak: "72h" },
        }),
      ],
    });
    const soak = verdictOf(verdicts, "soak");
    expect(soak.status).toBe("waiting");
    expect(soak.reason).toContain("policies/production.yaml: 2.4.1 needs 48h");
    expect(soak.reason).toContain("policies/security.yaml: 2.4.1 needs 72h");
    expect(soak.until?.toISOString()).toBe("2024-03-17T04:00:00.000Z");
  });

  it("never passes an environment no policy governs, though every rule still says why", () => {
    const input = buildGateInput({ policies: [] });
    const one = input.signatures?.validSigners.slice(0, 1) ?? [];
    const verdicts = evaluateGate({ ...input, signatures: { validSigners: one, problems: [] } });
    expect(verdicts.map((v) => v.rule)).toEqual(RULE_NAMES);
    expect(verdictOf(verdicts, "policy")).toMatchObject({
      status: "fail",
      reason: expect.stringContaining("no policy governs environments/production-canary.yaml"),
    });
    expect(verdictOf(verdicts, "signatures")).toMatchObject({
      status: "pass",
      reason: expect.stringContaining("1 valid signature of 1 required"),
    });
    expect(verdictOf(verdicts, "approvals")).toMatchObject({
      status: "fail",
      reason: expect.stringContaining(`${NO_POLICY} does not say who approves a promotion`),
    });
    expect(verdictOf(verdicts, "soak").reason).toBe(`${NO_POLICY} names no testing environments`);
    expect(overallStatus(verdicts)).toBe("fail");
  });

  it("holds a version reverted in the environment until a promotion tries it again", () => {
    const history = {
      ...pinHistory(),
      "production-canary": [
        period("2.4.0", hoursBefore(500), hoursBefore(100), "2.4.1"),
        period("2.4.1", hoursBefore(100), hoursBefore(90), "2.4.0"),
        period("2.4.0", hoursBefore(90)),
      ],
    };
    const held = verdictOf(gate({ history }), "revert hold");
    expect(held.status).toBe("fail");
    expect(held.reason).toContain("2.4.1 was reverted in production-canary on");
    expect(held.reason).toContain('"Pinline-Retry: 2.4.1"');
    const retried = verdictOf(gate({ history, retry: ["2.4.1"] }), "revert hold");
    expect(retried).toMatchObject({
      status: "pass",
      reason: expect.stringContaining("tries it again"),
    });
  });

  it("passes an environment whose policy explicitly asks for no approvals", () => {
    const open: NamedPolicy = {
      file: "policies/sandbox.yaml",
      policy: { appliesTo: ["production-*"], approval: { required: 0 } },
    };
    const verdicts = gate({ policies: [open] });
    expect(verdictOf(verdicts, "policy").status).toBe("pass");
    expect(verdictOf(verdicts, "approvals")).toMatchObject({
      status: "pass",
      reason: "policies/sandbox.yaml asks for no approvals",
    });
  });

  it("fails a release without any valid signature when no policy applies", () => {
    const verdicts = gate({ policies: [], signatures: { validSigners: [], problems: [] } });
    expect(verdictOf(verdicts, "signatures")).toMatchObject({
      status: "fail",
      reason: expect.stringContaining("0 valid signatures of 1 required"),
    });
  });

  it("reports a rule that throws as failed instead of throwing", () => {
    const policy = productionPolicy({
      testing: { environments: ["staging", "qa"], minimumSoak: "two days" },
      maintenanceWindow: {
        days: ["saturday"],
        start: "02:00",
        end: "06:00",
        timezone: "Mars/Olympus_Mons",
      },
    });
    let verdicts: GateVerdict[] = [];
    expect(() => {
      verdicts = gate({ policies: [policy] });
    }).not.toThrow();
    expect(verdictOf(verdicts, "maintenance window")).toMatchObject({
      status: "fail",
      reason: expect.stringMatching(
        /^the rule could not be evaluated: maintenance window timezone "Mars\/Olympus_Mons"/,
      ),
    });
    expect(verdictOf(verdicts, "soak")).toMatchObject({
      status: "fail",
      reason: expect.stringMatching(
        /^the rule could not be evaluated: "two days" is not a duration/,
      ),
    });
    expect(verdictOf(verdicts, "approvals").status).toBe("pass");
    expect(overallStatus(verdicts)).toBe("fail");
  });

  it("clears by itself when the soak and the window both wait on the clock", () => {
    // Friday 20:00 UTC: staging soaks until Saturday 01:00, the window opens at 02:00.
    const now = new Date("2024-03-15T20:00:00Z");
    const stagingSince = new Date("2024-03-14T01:00:00Z");
    const verdicts = gate({
      now,
      history: {
        ...pinHistory(),
        staging: [
          period("2.4.0", new Date("2024-02-06T10:00:00Z"), stagingSince, "2.4.1"),
          period("2.4.1", stagingSince),
        ],
      },
    });
    expect(verdictOf(verdicts, "soak").until?.toISOString()).toBe("2024-03-16T01:00:00.000Z");
    expect(verdictOf(verdicts, "stage order").until?.toISOString()).toBe(
      "2024-03-16T01:00:00.000Z",
    );
    expect(verdictOf(verdicts, "maintenance window").until?.toISOString()).toBe(
      "2024-03-16T02:00:00.000Z",
    );
    expect(overallStatus(verdicts)).toBe("waiting");
    expect(clearsAt(verdicts)?.toISOString()).toBe("2024-03-16T02:00:00.000Z");
  });

  it("moves a clearance that falls after the window closes to the next opening", () => {
    // Soak completes Saturday 10:00 UTC; the window (02:00–06:00) has closed by then.
    const now = new Date("2024-03-16T03:00:00Z");
    const stagingSince = new Date("2024-03-14T10:00:00Z");
    const input = buildGateInput({
      now,
      history: {
        ...pinHistory(),
        staging: [
          period("2.4.0", new Date("2024-02-06T10:00:00Z"), stagingSince, "2.4.1"),
          period("2.4.1", stagingSince),
        ],
      },
    });
    const verdicts = evaluateGate(input);
    expect(verdictOf(verdicts, "soak").until?.toISOString()).toBe("2024-03-16T10:00:00.000Z");
    expect(clearsAt(verdicts)?.toISOString()).toBe("2024-03-16T10:00:00.000Z");
    expect(clearsAt(verdicts, input)?.toISOString()).toBe("2024-03-17T02:00:00.000Z");
  });

  it("does not clear by itself while approvals are missing, whatever the clock says", () => {
    const verdicts = gate({ now: new Date("2024-03-13T12:00:00Z"), review: undefined });
    expect(verdictOf(verdicts, "maintenance window").until).toBeDefined();
    expect(overallStatus(verdicts)).toBe("waiting");
    expect(clearsAt(verdicts)).toBeUndefined();
  });
});

function verdict(status: GateStatus, until?: string): GateVerdict {
  return until === undefined
    ? { rule: `rule-${status}`, status, reason: status }
    : { rule: `rule-${status}`, status, reason: status, until: new Date(until) };
}

describe("overallStatus and clearsAt", () => {
  const CASES: {
    scenario: string;
    verdicts: GateVerdict[];
    status: GateStatus;
    clearsAt?: string;
  }[] = [
    { scenario: "passes an empty gate", verdicts: [], status: "pass" },
    {
      scenario: "passes when every rule passes",
      verdicts: [verdict("pass"), verdict("pass")],
      status: "pass",
    },
    {
      scenario: "waits when one rule waits, until its time",
      verdicts: [verdict("pass"), verdict("waiting", "2024-03-16T02:00:00Z")],
      status: "waiting",
      clearsAt: "2024-03-16T02:00:00Z",
    },
    {
      scenario: "clears at the latest time when several rules wait on the clock",
      verdicts: [
        verdict("waiting", "2024-03-16T04:00:00Z"),
        verdict("pass"),
        verdict("waiting", "2024-03-16T02:00:00Z"),
      ],
      status: "waiting",
      clearsAt: "2024-03-16T04:00:00Z",
    },
    {
      scenario: "has no time to clear by when a waiting rule waits on people",
      verdicts: [verdict("waiting", "2024-03-16T04:00:00Z"), verdict("waiting")],
      status: "waiting",
    },
    {
      scenario: "fails when any rule fails, even if others wait",
      verdicts: [verdict("waiting", "2024-03-16T04:00:00Z"), verdict("fail"), verdict("pass")],
      status: "fail",
      clearsAt: "2024-03-16T04:00:00Z",
    },
  ];

  it.each(CASES)("$scenario", ({ verdicts, status, clearsAt: expected }) => {
    expect(overallStatus(verdicts)).toBe(status);
    expect(clearsAt(verdicts)?.toISOString()).toBe(
      expected === undefined ? undefined : new Date(expected).toISOString(),
    );
  });
});
