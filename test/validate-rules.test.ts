import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatFinding } from "../src/repo/findings.js";
import { validateTree } from "../src/repo/validate-tree.js";
import { copyExample, edit, removeCopies, replaceOnce, repoRoot } from "./harness/example-repo.js";

afterAll(removeCopies);

const R241 = "releases/2.4.1/release.yaml";
const PROD = "policies/production.yaml";
const CANARY = "environments/production-canary.yaml";

interface Case {
  name: string;
  prepare: (root: string) => void;
  /** Every finding, in order: `file:line:col: severity: message` starts with each. */
  expected: string[];
}

const cases: Case[] = [
  // --- releases -------------------------------------------------------------------------------
  {
    name: "refuses a version whose suffix disagrees with the channel",
    prepare: (r) => edit(r, R241, replaceOnce("channel: stable", "channel: beta")),
    expected: [`${R241}:5:10: error: channel is beta, but 2.4.1 is a stable version`],
  },
  {
    name: "refuses a minimumVersion newer than the release",
    prepare: (r) =>
      edit(r, R241, replaceOnce('minimumVersion: "2.0.0"', 'minimumVersion: "2.5.0"')),
    expected: [
      `${R241}:7:17: error: minimumVersion 2.5.0 is newer than the release itself (2.4.1)`,
    ],
  },
  {
    name: "refuses a version that is not one of the channel forms",
    prepare: (r) => {
      renameSync(join(r, "releases/2.4.1"), join(r, "releases/2.4.1-alpha.1"));
      edit(
        r,
        "releases/2.4.1-alpha.1/release.yaml",
        replaceOnce(/^version: "2.4.1"/m, 'version: "2.4.1-alpha.1"'),
      );
      edit(r, "releases/2.5.0-beta.3/release.yaml", replaceOnce('from: "2.4.1"', 'from: "2.4.0"'));
      for (const pin of ["qa", "production-canary", "production-partial"]) {
        edit(r, `environments/${pin}.yaml`, replaceOnce('version: "2.4.1"', 'version: "2.4.0"'));
      }
    },
    expected: [
      'releases/2.4.1-alpha.1/release.yaml:4:10: error: "2.4.1-alpha.1" is not a version: "-alpha.1" is not a channel suffix',
    ],
  },
  {
    name: "refuses a compatibility range it cannot read, at the range",
    prepare: (r) =>
      edit(r, R241, replaceOnce('kubernetes: ["1.26+", "1.27"', 'kubernetes: [">=1.26", "1.27"')),
    expected: [
      `${R241}:53:16: error: ">=1.26" is not a compatibility range: comparison operators are not read here (write "1.26+" for >=1.26)`,
    ],
  },
  {
    name: "refuses a folder that is not named after its version",
    prepare: (r) =>
      edit(r, "releases/2.3.0/release.yaml", replaceOnce(/^version: "2.3.0"/m, 'version: "2.3.1"')),
    expected: [
      "releases/2.3.0/release.yaml:3:10: error: version is 2.3.1, but the folder is releases/2.3.0/",
    ],
  },
  {
    name: "refuses a listed migration that does not exist",
    prepare: (r) => rmSync(join(r, "releases/2.4.1/migrations/2.4.0-2.4.1.sql")),
    expected: [
      `${R241}:34:15: error: migrations/2.4.0-2.4.1.sql does not exist in releases/2.4.1/`,
    ],
  },
  {
    name: "refuses an SQL file that the manifest does not list",
    prepare: (r) =>
      writeFileSync(join(r, "releases/2.4.1/migrations/2.4.0-2.4.1_extra.sql"), "SELECT 1;\n"),
    expected: [
      "releases/2.4.1/migrations/2.4.0-2.4.1_extra.sql:1:1: error: is not listed in release.yaml's database.migrations, so it would never run",
    ],
  },
  {
    name: "refuses a migration without its rollback",
    prepare: (r) => {
      rmSync(join(r, "releases/2.4.1/rollback/2.4.1-2.4.0_2_drop_ml_score.sql"));
      edit(
        r,
        R241,
        replaceOnce(/^ {4}- \{ file: rollback\/2\.4\.1-2\.4\.0_2_drop_ml_score\.sql.*\n/m, ""),
      );
    },
    expected: [`${R241}:37:5: error: 2.4.1 has 2 migrations but 1 rollback script`],
  },
  {
    name: "refuses rollbacks listed in an order that would undo the wrong migration first",
    prepare: (r) =>
      edit(r, "releases/2.5.0-beta.3/release.yaml", (t) => {
        // Swap the two entries, each with its own sha256: only the order is wrong.
        const first = /^ {4}- \{ file: rollback\/2\.5\.0-beta\.3-2\.4\.1_1_.*$/m.exec(t)?.[0] ?? "";
        const second =
          /^ {4}- \{ file: rollback\/2\.5\.0-beta\.3-2\.4\.1_2_.*$/m.exec(t)?.[0] ?? "";
        return t.replace(first, "SWAP").replace(second, first).replace("SWAP", second);
      }),
    expected: [
      "releases/2.5.0-beta.3/release.yaml:38:15: error: rollback/2.5.0-beta.3-2.4.1_1_drop_diagnostics_rule_version.sql is listed after rollback/2.5.0-beta.3-2.4.1_2_drop_rule_versions.sql, but rollback scripts run in name order",
    ],
  },
  {
    name: "refuses a rollback whose name says it undoes a different step",
    prepare: (r) => {
      const dir = join(r, "releases/2.4.0/rollback");
      renameSync(
        join(dir, "2.4.0-2.3.0_drop_diagnostic_category.sql"),
        join(dir, "2.4.0-2.0.0_drop_diagnostic_category.sql"),
      );
      edit(
        r,
        "releases/2.4.0/release.yaml",
        replaceOnce("rollback/2.4.0-2.3.0_drop", "rollback/2.4.0-2.0.0_drop"),
      );
    },
    expected: [
      "releases/2.4.0/release.yaml:35:15: error: rollback/2.4.0-2.0.0_drop_diagnostic_category.sql should undo migrations/2.3.0-2.4.0_diagnostic_category.sql (rollbacks run newest first), but it goes 2.4.0 → 2.0.0 instead of 2.4.0 → 2.3.0",
    ],
  },
  {
    name: "refuses database.from that is not older than the release",
    prepare: (r) => edit(r, R241, replaceOnce('from: "2.4.0"', 'from: "2.4.1"')),
    expected: [`${R241}:32:9: error: database.from 2.4.1 is not older than the release (2.4.1)`],
  },
  {
    name: "refuses database.from that names no release",
    prepare: (r) => edit(r, R241, replaceOnce('from: "2.4.0"', 'from: "2.3.5"')),
    expected: [`${R241}:32:9: error: database.from 2.3.5 names no release in releases/`],
  },
  {
    name: "refuses a sha256 that is not 64 hex characters",
    prepare: (r) =>
      edit(
        r,
        R241,
        replaceOnce(
          "d2affcaabd7d9c9dff101a78907d6dc7ef0d543a51f766c603d3313648e8998a",
          "d2affcaabd7d9c9d",
        ),
      ),
    expected: [
      `${R241}:15:13: error: \`components.backend.sha256\` must be a sha256 digest: exactly 64 hexadecimal characters, found "d2affcaabd7d9c9d"`,
    ],
  },
  {
    name: "refuses a size in a unit it does not know",
    prepare: (r) => edit(r, R241, replaceOnce("size: 131072000", 'size: "125 megs"')),
    expected: [
      `${R241}:16:11: error: \`components.backend.size\` must be a number of bytes (131072000) or a size such as "125MB", found "125 megs"`,
    ],
  },
  {
    name: "suggests the field that an unknown field was probably meant to be",
    prepare: (r) => edit(r, R241, replaceOnce("mandatory: true", "mandtory: true")),
    expected: [`${R241}:8:1: error: unknown field \`mandtory\` (did you mean \`mandatory\`?)`],
  },
  {
    name: "refuses two folders that spell one version two ways",
    prepare: (r) => {
      mkdirSync(join(r, "releases/2.4.1-stable"));
      writeFileSync(
        join(r, "releases/2.4.1-stable/release.yaml"),
        [
          "# yaml-language-server: $schema=../../schemas/release.schema.json",
          'version: "2.4.1-stable"',
          "channel: stable",
          'releaseDate: "2024-03-15T00:00:00Z"',
          "components:",
          `  backend: { version: "2.4.1", artifact: "ghcr.io/acme/x:2.4.1", sha256: "${"a".repeat(64)}", size: 1 }`,
          "",
        ].join("\n"),
      );
      writeFileSync(
        join(r, "releases/2.4.1-stable/release.yaml.asc"),
        "(presence is all validate checks)",
      );
    },
    expected: [
      "releases/2.4.1-stable/release.yaml:2:10: error: 2.4.1-stable is the same version as releases/2.4.1/",
    ],
  },
  {
    name: "refuses an unsigned release on a channel production allows",
    prepare: (r) => rmSync(join(r, "releases/2.4.0/release.yaml.asc")),
    expected: [
      "releases/2.4.0/release.yaml:3:10: error: 2.4.0 is not signed (releases/2.4.0/release.yaml.asc is missing), but policies/production.yaml lets stable releases into production",
    ],
  },
  {
    name: "lets a nightly that production never receives go unsigned",
    prepare: (r) => rmSync(join(r, "releases/2.5.0-nightly.20240315/release.yaml.asc")),
    expected: [],
  },
  // --- policies -------------------------------------------------------------------------------
  {
    name: "refuses a blocked version range that does not parse",
    prepare: (r) => edit(r, PROD, replaceOnce('">=2.6.0 <2.6.3"', '">=2.6.0 <<2.6.3"')),
    expected: [`${PROD}:22:28: error: ">=2.6.0 <<2.6.3" is not a version range`],
  },
  {
    name: "refuses a custom channel whose versions are nowhere defined",
    prepare: (r) =>
      edit(r, PROD, replaceOnce('customChannels:\n  acme:\n    versions: ["2.4.1"]\n', "")),
    expected: [
      `${PROD}:26:27: error: custom:acme is allowed, but customChannels does not say which versions it receives`,
    ],
  },
  {
    name: "refuses a maintenance window in a timezone that does not exist",
    prepare: (r) => edit(r, PROD, replaceOnce('timezone: "UTC"', 'timezone: "Europe/Atlantis"')),
    expected: [
      `${PROD}:43:13: error: maintenance window timezone "Europe/Atlantis" is not a known IANA timezone`,
    ],
  },
  {
    name: "refuses a testing environment that does not exist",
    prepare: (r) =>
      edit(r, PROD, replaceOnce("environments: [staging, qa]", "environments: [staging, uat]")),
    expected: [
      `${PROD}:18:27: error: testing environment uat does not exist (no environments/uat.yaml)`,
    ],
  },
  {
    name: "refuses an approval rule no promotion could ever pass",
    prepare: (r) =>
      edit(
        r,
        PROD,
        replaceOnce(
          'approvers: ["@acme/release-managers", "alice", "bob"]',
          'approvers: ["alice"]',
        ),
      ),
    expected: [
      `${PROD}:11:13: error: 2 approvals are required, but only 1 person is listed as approvers`,
    ],
  },
  {
    name: "refuses a canary rate written as a percentage",
    prepare: (r) =>
      edit(r, PROD, replaceOnce("errorRate: { max: 0.01 }", "errorRate: { max: 1.5 }")),
    expected: [
      `${PROD}:55:21: error: canary.errorRate.max is 1.5, but errorRate is a ratio between 0 and 1`,
    ],
  },
  // --- rollout and environments ---------------------------------------------------------------
  {
    name: "refuses a pin of a version that has no release",
    prepare: (r) => edit(r, CANARY, replaceOnce('version: "2.4.1"', 'version: "2.4.2"')),
    expected: [`${CANARY}:6:10: error: version 2.4.2 names no release in releases/`],
  },
  {
    name: "refuses a pin in a stage the rollout does not have",
    prepare: (r) =>
      edit(r, CANARY, replaceOnce("stage: production-canary", "stage: production-kanary")),
    expected: [
      `${CANARY}:5:8: error: stage production-kanary is not a stage of policies/rollout.yaml`,
      "policies/rollout.yaml:17:11: warning: no environment is in stage production-canary",
    ],
  },
  {
    name: "refuses a production pin of a beta its stable channel does not receive",
    prepare: (r) => edit(r, CANARY, replaceOnce('version: "2.4.1"', 'version: "2.5.0-beta.3"')),
    expected: [
      `${CANARY}:6:10: error: 2.5.0-beta.3 is a beta release, which the stable channel this environment follows does not receive`,
    ],
  },
  {
    name: "refuses a channel the environment's policy does not allow",
    prepare: (r) => edit(r, CANARY, replaceOnce("channel: stable", "channel: beta")),
    expected: [
      `${CANARY}:10:12: error: channel beta is not allowed by policies/production.yaml (allowed: stable, custom:acme)`,
    ],
  },
  {
    name: "refuses a pin whose name is not its file name",
    prepare: (r) =>
      edit(r, CANARY, replaceOnce("name: production-canary", "name: production-canary-eu")),
    expected: [
      `${CANARY}:4:7: error: name is production-canary-eu, but the file is environments/production-canary.yaml`,
    ],
  },
  {
    name: "warns about an environment no policy governs",
    prepare: (r) => {
      renameSync(join(r, "environments/qa.yaml"), join(r, "environments/uat.yaml"));
      edit(r, "environments/uat.yaml", replaceOnce("name: qa", "name: uat"));
      edit(r, PROD, replaceOnce("environments: [staging, qa]", "environments: [staging, uat]"));
    },
    expected: [
      "environments/uat.yaml:4:7: warning: no policy applies to uat: promotions to it need no approval and no testing",
      "policies/pre-production.yaml:5:27: warning: appliesTo qa matches no environment",
    ],
  },
  {
    name: "warns about a pinned version a policy has since blocked",
    prepare: (r) =>
      edit(r, PROD, replaceOnce('blockedVersions: ["2.4.2"', 'blockedVersions: ["2.4.0"')),
    expected: [
      "environments/production-full.yaml:6:10: warning: 2.4.0 is blocked by policies/production.yaml (2.4.0), yet this environment runs it",
      "environments/production-majority.yaml:6:10: warning: 2.4.0 is blocked by policies/production.yaml (2.4.0), yet this environment runs it",
    ],
  },
  {
    name: "refuses .yml files instead of skipping them",
    prepare: (r) =>
      renameSync(join(r, "policies/pre-production.yaml"), join(r, "policies/pre-production.yml")),
    expected: [
      "environments/dev.yaml:4:7: warning: no policy applies to dev",
      "environments/qa.yaml:4:7: warning: no policy applies to qa",
      "environments/staging.yaml:4:7: warning: no policy applies to staging",
      "policies/pre-production.yml:1:1: error: is not read: pinline reads *.yaml files",
    ],
  },
  {
    name: "refuses environments without a rollout to place them in",
    prepare: (r) => rmSync(join(r, "policies/rollout.yaml")),
    expected: [
      "policies/rollout.yaml:1:1: error: is missing, but environments name their rollout stages",
    ],
  },
  {
    name: "warns when the schema header points at the wrong schema",
    prepare: (r) => edit(r, CANARY, replaceOnce("environment.schema.json", "policy.schema.json")),
    expected: [
      `${CANARY}:1:33: warning: the schema header names ../schemas/policy.schema.json, but a environment document's schema is ../schemas/environment.schema.json`,
    ],
  },
];

describe("pinline validate checks the rules that span files", () => {
  it("passes the example repository without a single finding", async () => {
    const report = await validateTree(repoRoot);
    expect(report.findings.map(formatFinding)).toEqual([]);
    expect(report.counts).toEqual({ files: 16, releases: 6, policies: 3, environments: 7 });
  });

  it.each(cases)("$name", async ({ prepare, expected }) => {
    const root = copyExample();
    prepare(root);
    const findings = (await validateTree(root)).findings.map(formatFinding);
    expect(findings).toHaveLength(expected.length);
    expected.forEach((prefix, i) => {
      expect(findings[i]).toMatch(new RegExp(`^${escapeRegExp(prefix)}`));
    });
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
