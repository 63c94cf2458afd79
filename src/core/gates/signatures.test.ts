import { describe, expect, it } from "vitest";
import {
  buildGateInput,
  buildRuleInput,
  productionPolicy,
} from "../../../test/harness/gate-input-fixture.js";
import type { GateInput, GateStatus } from "./gate-input.js";
import { evaluateSignatures } from "./signatures.js";

const [ALICE, BOB] = buildGateInput().signatures?.validSigners ?? [];
const UNTRUSTED =
  "signature by 3AA5C34371567BD2 does not count: the key is not in keys/ (untrusted)";

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  status: GateStatus;
  reason: string[];
}

const CASES: Case[] = [
  {
    scenario: "passes with valid signatures from 2 of 2 required keys",
    input: {},
    status: "pass",
    reason: [
      "2 valid signatures of 2 required (Alice Release <alice@acme.example>, Bob Release <bob@acme.example>)",
    ],
  },
  {
    scenario: "refuses 1 valid signature of 2 required and says why the other did not count",
    input: { signatures: { validSigners: ALICE ? [ALICE] : [], problems: [UNTRUSTED] } },
    status: "fail",
    reason: ["1 valid signature of 2 required (Alice Release <alice@acme.example>)", UNTRUSTED],
  },
  {
    scenario: "names a signer without a user id by the end of its fingerprint",
    input: {
      signatures: {
        validSigners: [{ fingerprint: "1B2C3D4E5F60718293A4B5C6D7E8F90123456789" }],
        problems: [],
      },
    },
    status: "fail",
    reason: ["1 valid signature of 2 required (D7E8F90123456789)"],
  },
  {
    scenario: "refuses a release whose signatures were not verified",
    input: { signatures: undefined },
    status: "fail",
    reason: ["the signatures of releases/2.4.1/release.yaml were not verified"],
  },
  {
    scenario: "refuses a release that does not exist",
    input: { to: "2.4.9", release: undefined },
    status: "fail",
    reason: ["releases/2.4.9 does not exist on the base branch"],
  },
  {
    scenario: "asks for 1 signature when the policy sets no threshold",
    input: {
      policies: [productionPolicy({ signatures: undefined })],
      signatures: { validSigners: BOB ? [BOB] : [], problems: [] },
    },
    status: "pass",
    reason: ["1 valid signature of 1 required (Bob Release <bob@acme.example>)"],
  },
  {
    scenario: "refuses a release without any valid signature when the policy sets no threshold",
    input: {
      policies: [productionPolicy({ signatures: undefined })],
      signatures: { validSigners: [], problems: [UNTRUSTED] },
    },
    status: "fail",
    reason: ["0 valid signatures of 1 required", UNTRUSTED],
  },
];

describe("signatures", () => {
  it.each(CASES)("$scenario", ({ input, status, reason }) => {
    const result = evaluateSignatures(buildRuleInput(input));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
  });
});
