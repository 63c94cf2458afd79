/**
 * The local verbs obey the policy (issue item 5): without GitHub there is no gate, so
 * `promote --local` and `revert --local` judge the change with the gate's own rules first —
 * those a checkout can answer — and `revert` and `deploy --previous` accept only versions the
 * environment ran. Each refusal names the rule and what to do, exits 1, and changes nothing:
 * the same HEAD, a clean work tree, an untouched database.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GATE_RULES } from "../src/core/gates/registry.js";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { NOT_JUDGED_LOCALLY } from "../src/promote/local-rules.js";
import { CANARY_DB_VAR, type DeployRepo, startDeployRepo } from "./harness/deploy-repo.js";
import {
  edit,
  gitExample,
  removeCopies,
  replaceOnce,
  runPinline,
  runPinlineAsync,
} from "./harness/example-repo.js";
import { catalogSnapshot, freshDatabase, withClient } from "./harness/postgres.js";

afterAll(removeCopies);

const JUDGED = [
  "policy",
  "signatures",
  "blocked versions",
  "revert hold",
  "channel",
  "upgrade path",
  "compatibility",
];
const NOT_JUDGED = ["approvals", "stage order", "soak", "compliance checks", "maintenance window"];

function git(root: string, ...args: string[]): string {
  return execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
}

/** Edits a file of the repository and commits it, as a merged change would. */
function commitEdit(root: string, file: string, change: (text: string) => string): void {
  edit(root, file, change);
  git(root, "commit", "-q", "-am", `Edit ${file}`);
}

/** Moves a pin by hand (history the tests reason about), one commit each. */
function pinVersions(root: string, environment: string, versions: readonly string[]): void {
  for (const version of versions) {
    commitEdit(root, `environments/${environment}.yaml`, (text) =>
      text.replace(/^version: ".*"$/m, `version: "${version}"`),
    );
  }
}

/** What a refusal must leave as it was: the commit and the work tree. */
function gitState(root: string): { head: string; status: string } {
  return { head: git(root, "rev-parse", "HEAD"), status: git(root, "status", "--porcelain") };
}

/** The rules a refusal lists as failing ("  ✗ rule: reason"). */
function refusedBy(stderr: string): string[] {
  return [...stderr.matchAll(/^ {2}✗ ([^:]+):/gm)].map((match) => match[1] as string);
}

function pinVersion(root: string, environment: string): string | undefined {
  return /^version: "(.*)"$/m.exec(git(root, "show", `HEAD:environments/${environment}.yaml`))?.[1];
}

describe("which rules a local verb judges", () => {
  it("leaves out only rules the registry has, so a renamed rule is judged rather than skipped", () => {
    const names = GATE_RULES.map((rule) => rule.name);
    expect(Object.keys(NOT_JUDGED_LOCALLY).sort()).toEqual([...NOT_JUDGED].sort());
    for (const name of Object.keys(NOT_JUDGED_LOCALLY)) expect(names).toContain(name);
    expect(names.filter((name) => !NOT_JUDGED.includes(name))).toEqual(JUDGED);
  });

  it("says in --help which rules it cannot judge", () => {
    for (const verb of ["promote", "revert"]) {
      const help = runPinline([verb, "--help"]);
      expect(help.code).toBe(0);
      const text = help.stdout.replace(/\s+/g, " ");
      expect(text).toContain("Not judged, because a checkout cannot answer them");
      expect(text).toContain(
        ": approvals, compliance checks, soak, stage order and maintenance window",
      );
    }
  });
});

describe("pinline promote --local", () => {
  it("commits a promotion every local rule passes, and says which rules it did not judge", () => {
    const root = gitExample();
    // The gate would fail it on a rule left out (production-majority has not run 2.4.1)...
    const plan = runPinline(["plan", "production-full", "--to", "2.4.1", "--root", root]);
    expect(plan.stdout).toMatch(/^stage order +✗ fail/m);
    // ...which a local promotion does not judge, and says so.
    const run = runPinline(["promote", "production-full", "2.4.1", "--local", "--root", root]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `judged locally: ${JUDGED.join(", ")} passed; not judged locally: ${NOT_JUDGED.join(", ")}`,
    );
    expect(pinVersion(root, "production-full")).toBe("2.4.1");
  });

  it("reports the rules it judged in --json", () => {
    const root = gitExample();
    const run = runPinline([
      "promote",
      "production-full",
      "2.4.1",
      "--local",
      "--json",
      "--root",
      root,
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.judged.map((v: { rule: string }) => v.rule)).toEqual(JUDGED);
    expect(result.judged.every((v: { status: string }) => v.status === "pass")).toBe(true);
    expect(result.notJudged).toEqual(NOT_JUDGED);
  });

  const refusals: {
    name: string;
    prepare?: (root: string) => void;
    args: [environment: string, version: string];
    rule: string;
    says: string[];
  }[] = [
    {
      name: "a version a policy blocks",
      prepare: (root) =>
        commitEdit(
          root,
          "policies/production.yaml",
          replaceOnce('blockedVersions: ["2.4.2"', 'blockedVersions: ["2.4.1", "2.4.2"'),
        ),
      args: ["production-full", "2.4.1"],
      rule: "blocked versions",
      says: [
        "✗ blocked versions: 2.4.1 is blocked by policies/production.yaml → promote a version no applying policy blocks",
      ],
    },
    {
      name: "a version the pin's channel does not receive",
      args: ["production-full", "2.5.0-beta.3"],
      rule: "channel",
      says: [
        "✗ channel: 2.5.0-beta.3 is a beta build; production-full follows stable (stable builds) → promote a version production-full's channel receives",
      ],
    },
    {
      name: "a downgrade that is not a revert",
      args: ["production-full", "2.3.0"],
      rule: "upgrade path",
      says: [
        "✗ upgrade path: 2.4.0 → 2.3.0 is a downgrade, and production-full did not run 2.3.0 among its last 3 versions: only a revert may go back",
      ],
    },
    {
      name: "an upgrade that skips a release its minimumVersion needs",
      // qa went back from 2.4.1 to 2.0.0 (the version it is promoted to was never reverted).
      prepare: (root) => pinVersions(root, "qa", ["2.0.0"]),
      args: ["qa", "2.5.0-beta.3"],
      rule: "upgrade path",
      says: [
        "✗ upgrade path: 2.0.0 is older than 2.5.0-beta.3's minimumVersion 2.3.0: promote 2.3.0 first (path 2.0.0 → 2.3.0 → 2.5.0-beta.3)",
      ],
    },
    {
      name: "a release the environment's platform is not compatible with",
      prepare: (root) =>
        commitEdit(
          root,
          "environments/production-full.yaml",
          replaceOnce('kubernetes: "1.28"', 'kubernetes: "1.20"'),
        ),
      args: ["production-full", "2.4.1"],
      rule: "compatibility",
      says: [
        "✗ compatibility: ",
        "kubernetes 1.20",
        "→ promote a release whose compatibility covers the platform, or correct platform in environments/production-full.yaml first",
      ],
    },
    {
      name: "a manifest changed after it was signed",
      prepare: (root) =>
        commitEdit(
          root,
          "releases/2.4.1/release.yaml",
          (text) => `${text}# edited after signing\n`,
        ),
      args: ["production-full", "2.4.1"],
      rule: "signatures",
      says: [
        "✗ signatures: 0 valid signatures of 2 required",
        "→ sign releases/2.4.1 with trusted keys (pinline sign releases/2.4.1 --key FILE)",
      ],
    },
    {
      name: "an environment no policy governs",
      prepare: (root) =>
        commitEdit(
          root,
          "policies/production.yaml",
          replaceOnce(
            'appliesTo: ["production-*"]',
            'appliesTo: ["production-canary", "production-partial", "production-majority"]',
          ),
        ),
      args: ["production-full", "2.4.1"],
      rule: "policy",
      says: [
        '✗ policy: no policy governs environments/production-full.yaml: add a policy whose appliesTo matches "production-full"',
      ],
    },
  ];

  it.each(refusals)("refuses $name, naming the rule and what to do, and commits nothing", (c) => {
    const root = gitExample();
    c.prepare?.(root);
    const before = gitState(root);
    const [environment, version] = c.args;
    const run = runPinline(["promote", environment, version, "--local", "--root", root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      `pinline: error: promote --local refuses ${environment} ${pinVersion(root, environment)} → ${version}: the policy does not allow it`,
    );
    expect(refusedBy(run.stderr)).toEqual([c.rule]);
    for (const text of c.says) expect(run.stderr).toContain(text);
    expect(run.stderr).toContain(
      `(pinline plan ${environment} --to ${version} shows every rule; approvals, compliance checks, soak, stage order and maintenance window are not judged locally)`,
    );
    expect(gitState(root)).toEqual(before);
  });

  it("holds a version reverted there until --retry tries it again on purpose", () => {
    const root = gitExample();
    const promote = (...extra: string[]) =>
      runPinline(["promote", "production-full", "2.4.1", "--local", "--root", root, ...extra]);
    expect(promote().code).toBe(0);
    const revert = runPinline(["revert", "production-full", "--local", "--root", root]);
    expect(revert.code).toBe(0);
    const before = gitState(root);
    const held = promote();
    expect(held.code).toBe(1);
    expect(refusedBy(held.stderr)).toEqual(["revert hold"]);
    expect(held.stderr).toContain(
      "(pinline promote production-full 2.4.1 --retry)", // the reason says what to do
    );
    expect(gitState(root)).toEqual(before);
    const retried = promote("--retry");
    expect(retried.stderr).toBe("");
    expect(retried.code).toBe(0);
    expect(git(root, "log", "-1", "--format=%B")).toContain("Pinline-Retry: 2.4.1");
    expect(pinVersion(root, "production-full")).toBe("2.4.1");
  });
});

describe("pinline revert", () => {
  it("refuses a version the environment never ran, naming the versions it may go back to", () => {
    const root = gitExample();
    expect(
      runPinline(["promote", "production-full", "2.4.1", "--local", "--root", root]).code,
    ).toBe(0);
    const before = gitState(root);
    const run = runPinline([
      "revert",
      "production-full",
      "--to",
      "2.3.0",
      "--local",
      "--root",
      root,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "pinline: error: production-full did not run 2.3.0 among its last 3 versions (rollback.keepVersions: 3 in policies/production.yaml): it may go back to 2.4.0 (newest first) (pass --to 2.4.0, or promote a release newer than 2.4.1 instead)",
    );
    expect(gitState(root)).toEqual(before);
  });

  it("reaches back only the policy's keepVersions versions", () => {
    const root = gitExample();
    commitEdit(root, "policies/production.yaml", replaceOnce("keepVersions: 3", "keepVersions: 2"));
    pinVersions(root, "production-full", ["2.0.0", "2.3.0", "2.4.0", "2.4.1"]);
    const before = gitState(root);
    const tooFar = runPinline([
      "revert",
      "production-full",
      "--to",
      "2.0.0",
      "--local",
      "--root",
      root,
    ]);
    expect(tooFar.code).toBe(1);
    expect(tooFar.stderr).toContain(
      "production-full did not run 2.0.0 among its last 2 versions (rollback.keepVersions: 2 in policies/production.yaml): it may go back to 2.4.0, 2.3.0 (newest first)",
    );
    expect(gitState(root)).toEqual(before);
    const within = runPinline([
      "revert",
      "production-full",
      "--to",
      "2.3.0",
      "--local",
      "--root",
      root,
    ]);
    expect(within.stderr).toBe("");
    expect(within.code).toBe(0);
    expect(within.stdout).toMatch(/^environments\/production-full\.yaml: 2\.4\.1 → 2\.3\.0/);
    expect(within.stdout).toContain(`judged locally: ${JUDGED.join(", ")} passed`);
    expect(pinVersion(root, "production-full")).toBe("2.3.0");
  });

  it("refuses to go forward: that is a promotion", () => {
    const root = gitExample();
    runPinline(["promote", "production-full", "2.4.1", "--local", "--root", root]);
    runPinline(["revert", "production-full", "--local", "--root", root]);
    const before = gitState(root);
    const run = runPinline([
      "revert",
      "production-full",
      "--to",
      "2.4.1",
      "--local",
      "--root",
      root,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "2.4.1 is newer than 2.4.0, which production-full runs: a revert only goes back, it has no earlier version to go back to (going forward is a promotion: pinline promote production-full 2.4.1)",
    );
    expect(gitState(root)).toEqual(before);
  });

  it("refuses before it asks GitHub for anything, so no token is needed to hear no", () => {
    const root = gitExample();
    runPinline(["promote", "production-full", "2.4.1", "--local", "--root", root]);
    const run = runPinline(["revert", "production-full", "--to", "2.3.0", "--root", root], {
      env: { GITHUB_TOKEN: "", GH_TOKEN: "", GITHUB_API_URL: "http://127.0.0.1:9" },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("production-full did not run 2.3.0 among its last 3 versions");
    expect(run.stderr).not.toContain("token");
  });

  it("with --local, obeys the rest of the policy too: a blocked version is not restored", () => {
    const root = gitExample();
    runPinline(["promote", "production-full", "2.4.1", "--local", "--root", root]);
    commitEdit(
      root,
      "policies/production.yaml",
      replaceOnce('blockedVersions: ["2.4.2"', 'blockedVersions: ["2.4.0", "2.4.2"'),
    );
    const before = gitState(root);
    const run = runPinline(["revert", "production-full", "--local", "--root", root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "revert --local refuses production-full 2.4.1 → 2.4.0: the policy does not allow it",
    );
    expect(refusedBy(run.stderr)).toEqual(["blocked versions"]);
    expect(gitState(root)).toEqual(before);
  });
});

describe("pinline deploy --previous", () => {
  const [target] = inject("postgresTargets");
  let repo: DeployRepo;
  let drop: (() => Promise<void>) | undefined;
  const temp = mkdtempSync(join(tmpdir(), "pinline-previous-"));

  beforeAll(async () => {
    if (!target) throw new Error("no PostgreSQL target");
    const db = await freshDatabase(target);
    drop = db.drop;
    repo = await startDeployRepo(db.url);
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
  }, 60_000);

  afterAll(async () => {
    repo?.close();
    await drop?.();
    rmSync(temp, { recursive: true, force: true });
  });

  const deploy = (previous: string) =>
    runPinlineAsync(["deploy", "production-canary", "--previous", previous, "--root", repo.root], {
      // Backups, the deploy lock and the metrics file go to this test's own folder.
      env: { [CANARY_DB_VAR]: repo.databaseUrl, TMPDIR: temp, RUNNER_TEMP: temp },
    });

  /** Everything a deploy could have changed in the database: schema and migration history. */
  const database = async () => ({
    schema: await catalogSnapshot(repo.databaseUrl),
    history: await withClient(repo.databaseUrl, async (client) => {
      const { rows } = await client.query("SELECT * FROM pinline_schema_migrations ORDER BY 1");
      return rows;
    }),
  });

  it("refuses a version the environment never ran, before anything runs", async () => {
    const before = { git: gitState(repo.root), database: await database() };
    const run = await deploy("2.3.0");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "pinline: error: --previous 2.3.0: production-canary never ran 2.3.0, so a failed deploy must not roll back to it; production-canary ran 2.4.0 before 2.4.1 (newest first) (pass --previous 2.4.0, or leave it out to roll back to the version before the pin)",
    );
    expect(run.stdout).not.toContain("▶");
    expect(await repo.service.version()).toBe("2.4.0");
    expect(await repo.schemaVersion()).toBe("2.4.0");
    expect({ git: gitState(repo.root), database: await database() }).toEqual(before);
  });

  it("refuses the version being deployed as the one to roll back to", async () => {
    const before = { git: gitState(repo.root), database: await database() };
    const run = await deploy("2.4.1");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "--previous 2.4.1 is the version being deployed, not one to roll back to",
    );
    expect({ git: gitState(repo.root), database: await database() }).toEqual(before);
  });

  it("accepts a version the environment ran, and deploys", async () => {
    const run = await deploy("2.4.0");
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("pinline deploy production-canary: 2.4.0 → 2.4.1");
    expect(run.stdout).toContain("✓ production-canary runs 2.4.1");
    expect(run.code).toBe(0);
    expect(await repo.schemaVersion()).toBe("2.4.1");
  }, 60_000);
});
