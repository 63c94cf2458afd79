import { describe, expect, it } from "vitest";
import { buildRuleInput, productionPolicy } from "../../../test/harness/gate-input-fixture.js";
import { evaluateChannel } from "./channel.js";
import type { GateInput, GateStatus, NamedPolicy } from "./gate-input.js";

/** A second policy for production that says nothing about channels. */
const SECURITY_POLICY: NamedPolicy = {
  file: "policies/security.yaml",
  policy: { appliesTo: ["production-*"], approval: { required: 1, approvers: ["alice"] } },
};

interface Case {
  scenario: string;
  input: Partial<GateInput>;
  /** Which applying policy the rule judges (default the first). */
  policyIndex?: number;
  status: GateStatus;
  reason: string[];
}

const CASES: Case[] = [
  {
    scenario: "lets a stable release into an environment following stable",
    input: {},
    status: "pass",
    reason: [
      "production-canary follows stable, which receives 2.4.1",
      "policies/production.yaml allows stable, custom:acme",
    ],
  },
  {
    scenario: "refuses a nightly on an environment following stable",
    input: { to: "2.5.0-nightly.20240315" },
    status: "fail",
    reason: [
      "2.5.0-nightly.20240315 is a nightly build; production-canary follows stable (stable builds)",
    ],
  },
  {
    scenario: "treats an environment without a channel as following stable",
    input: { to: "2.5.0-beta.3", channel: undefined },
    status: "fail",
    reason: ["2.5.0-beta.3 is a beta build; production-canary follows stable"],
  },
  {
    scenario: "refuses a beta on the beta channel when the policy allows only stable",
    input: {
      to: "2.5.0-beta.3",
      channel: "beta",
      policies: [productionPolicy({ allowedChannels: ["stable"] })],
    },
    status: "fail",
    reason: [
      "policies/production.yaml allows only stable, which do not receive 2.5.0-beta.3 (a beta build)",
    ],
  },
  {
    scenario: "lets a beta in on the beta channel when the policy allows beta",
    input: {
      to: "2.5.0-beta.3",
      channel: "beta",
      policies: [productionPolicy({ allowedChannels: ["beta"] })],
    },
    status: "pass",
    reason: ["production-canary follows beta, which receives 2.5.0-beta.3"],
  },
  {
    scenario: "lets a custom:acme environment receive a version its channel lists",
    input: { channel: "custom:acme" },
    status: "pass",
    reason: ["production-canary follows custom:acme, which receives 2.4.1"],
  },
  {
    scenario: "refuses a version that custom:acme does not list, and says what it lists",
    input: { channel: "custom:acme", from: "2.3.0", to: "2.4.0" },
    status: "fail",
    reason: [
      "2.4.0 is a stable build; production-canary follows custom:acme, which receives only 2.4.1",
    ],
  },
  {
    scenario:
      "lets custom:acme receive a listed version under a second policy that does not define the channel",
    input: { channel: "custom:acme", policies: [productionPolicy(), SECURITY_POLICY] },
    policyIndex: 1,
    status: "pass",
    reason: ["production-canary follows custom:acme, which receives 2.4.1"],
  },
  {
    scenario: "refuses a custom channel that no applying policy defines",
    input: { channel: "custom:globex" },
    status: "fail",
    reason: [
      "2.4.1 is a stable build; production-canary follows custom:globex, which no applying policy defines in customChannels",
    ],
  },
  {
    scenario: "refuses a version that is not a version",
    input: { to: "latest" },
    status: "fail",
    reason: ['"latest" is not a version'],
  },
];

describe("channel", () => {
  it.each(CASES)("$scenario", ({ input, policyIndex, status, reason }) => {
    const result = evaluateChannel(buildRuleInput(input, policyIndex));
    expect(result.status).toBe(status);
    for (const words of reason) expect(result.reason).toContain(words);
  });
});
