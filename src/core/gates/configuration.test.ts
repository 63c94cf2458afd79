import { describe, expect, it } from "vitest";
import { productionPolicy, review, reviewFacts } from "../../../test/harness/gate-input-fixture.js";
import { evaluateConfiguration } from "./configuration.js";
import type { NamedPolicy } from "./gate-input.js";

const preProduction: NamedPolicy = {
  file: "policies/pre-production.yaml",
  policy: { appliesTo: ["dev", "staging", "qa"], approval: { required: 1, approvers: ["erin"] } },
};
const policies = [preProduction, productionPolicy()];
const policiesFor = (environment: string) =>
  policies.filter((named) =>
    environment.startsWith("production-")
      ? named.file === "policies/production.yaml"
      : named.policy.appliesTo.includes(environment),
  );

describe("configuration changes", () => {
  it("needs the approvals of the policies governing a pin whose configuration changes", () => {
    const [verdict] = evaluateConfiguration({
      changes: [
        {
          file: "environments/dev.yaml",
          description: "changes deploy.command",
          environments: ["dev"],
        },
      ],
      policies,
      policiesFor,
      review: reviewFacts({
        reviews: [review("alice")],
        permissions: { alice: "write", erin: "write" },
      }),
    });
    expect(verdict).toMatchObject({
      rule: "configuration approvals",
      status: "waiting",
      reason: expect.stringContaining("policies/pre-production.yaml: 0 of 1 approvals"),
    });
  });

  it("needs every policy's approvals for a change to what the gate trusts", () => {
    const [verdict] = evaluateConfiguration({
      changes: [{ file: "policies/production.yaml", description: "modified" }],
      policies,
      policiesFor,
      review: reviewFacts({
        reviews: [review("alice"), review("bob"), review("erin")],
        permissions: { alice: "write", bob: "write", erin: "write" },
      }),
    });
    expect(verdict?.status).toBe("pass");
    expect(verdict?.reason).toContain("policies/pre-production.yaml: 1 of 1 approvals: erin");
    expect(verdict?.reason).toContain("policies/production.yaml: 2 of 2 approvals: alice, bob");
  });

  it("uses configurationApproval over approval where a policy sets it", () => {
    const strict = productionPolicy({
      configurationApproval: { required: 3, approvers: ["alice", "bob", "dave"] },
    });
    const [verdict] = evaluateConfiguration({
      changes: [
        {
          file: "environments/production-full.yaml",
          description: "changes health.ready",
          environments: ["production-full"],
        },
      ],
      policies: [strict],
      policiesFor: () => [strict],
      review: reviewFacts(),
    });
    expect(verdict).toMatchObject({
      status: "waiting",
      reason: expect.stringContaining("2 of 3 approvals"),
    });
  });

  it("fails a new environment no policy governs", () => {
    const [verdict] = evaluateConfiguration({
      changes: [
        {
          file: "environments/sandbox.yaml",
          description: "adds environment sandbox",
          environments: ["sandbox"],
        },
      ],
      policies,
      policiesFor: () => [],
      review: reviewFacts(),
    });
    expect(verdict).toMatchObject({
      status: "fail",
      reason: expect.stringContaining("no policy governs environments/sandbox.yaml"),
    });
  });

  it("fails a policy that says nobody approves configuration", () => {
    const silent: NamedPolicy = { file: "policies/silent.yaml", policy: { appliesTo: ["*"] } };
    const [verdict] = evaluateConfiguration({
      changes: [{ file: ".github/workflows/gate.yml", description: "modified" }],
      policies: [silent],
      policiesFor: () => [silent],
      review: reviewFacts(),
    });
    expect(verdict).toMatchObject({
      status: "fail",
      reason: expect.stringContaining(
        "policies/silent.yaml does not say who approves configuration changes",
      ),
    });
  });
});
