/**
 * `pinline plan`'s header ("plan env: A → B", "upgrade path: …") and the gate's "upgrade path"
 * row tell one story: the same versions from the same starting point, or the same reason there
 * is no path. Run in process (runCli) on git clones of the example repository.
 */
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { edit, gitExample, removeCopies, replaceOnce } from "./harness/example-repo.js";
import { runPinlineInProcess } from "./harness/in-process.js";

afterAll(removeCopies);

function git(root: string, ...args: string[]): void {
  const result = spawnSync(
    "git",
    ["-C", root, "-c", "user.name=Test", "-c", "user.email=test@example.com", ...args],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
}

/** Pins `environment` to each version in turn, one commit each (its pin history). */
function pinInTurn(root: string, environment: string, ...versions: string[]): void {
  for (const version of versions) {
    edit(root, `environments/${environment}.yaml`, (text) =>
      text.replace(/^version: ".*"$/m, `version: "${version}"`),
    );
    git(root, "commit", "-qam", `Pin ${environment} to ${version}`);
  }
}

/** Sets a release's minimumVersion (its signatures then no longer match: not this test's concern). */
function requireMinimum(root: string, version: string, minimum: string): void {
  edit(
    root,
    `releases/${version}/release.yaml`,
    replaceOnce(/^minimumVersion: ".*"$/m, `minimumVersion: "${minimum}"`),
  );
  git(root, "commit", "-qam", `${version} needs ${minimum}`);
}

interface PlanOutput {
  from: string;
  to: string;
  path: string;
  row: { status: string; reason: string };
}

async function plan(root: string, ...args: string[]): Promise<PlanOutput> {
  const run = await runPinlineInProcess(["plan", ...args, "--root", root]);
  expect(run.stderr).toBe("");
  const header = run.stdout.match(/^plan \S+: (\S+) → (\S+) \(stage \S+\)$/m);
  const path = run.stdout.match(/^upgrade path: (.*)$/m);
  const row = run.stdout.match(/^upgrade path +(✓ pass|✗ fail|… waiting) +(.*)$/m);
  if (!header || !path || !row) throw new Error(`not a plan:\n${run.stdout}`);
  return {
    from: header[1] as string,
    to: header[2] as string,
    path: path[1] as string,
    row: { status: row[1] as string, reason: row[2] as string },
  };
}

/** The header and the row agree: the same start, the same end, the same steps or reason. */
function expectAgreement({ from, to, path, row }: PlanOutput): void {
  if (path.startsWith("none needed: ")) {
    expect(from).toBe(to);
    expect(row).toEqual({ status: "✓ pass", reason: `the version stays ${to}` });
    return;
  }
  if (path.startsWith("none: ")) {
    expect(row).toEqual({ status: "✗ fail", reason: path.slice("none: ".length) });
    return;
  }
  const chain = (path.split(/,| \(/)[0] as string).split(" → ");
  expect(chain[0]).toBe(from);
  expect(chain.at(-1)).toBe(to);
  if (chain.length === 2) {
    expect(row.status).toBe("✓ pass");
    expect(row.reason).toMatch(
      new RegExp(`^(${from} → ${to} in one step|a revert: \\S+ ran ${to.replaceAll(".", "\\.")})`),
    );
  } else {
    expect(row.status).toBe("✗ fail");
    expect(row.reason).toContain(`promote ${chain[1]} first (path ${chain.join(" → ")})`);
  }
}

describe("pinline plan: the header and the upgrade-path row agree", () => {
  it("when the version stays (production-partial --to 2.4.1)", async () => {
    const output = await plan(gitExample(), "production-partial", "--to", "2.4.1");
    expect(output.path).toBe("none needed: production-partial already runs 2.4.1");
    expectAgreement(output);
  });

  it("for the newest release, reached in one step (production-full, no --to)", async () => {
    const output = await plan(gitExample(), "production-full");
    expect(output).toMatchObject({ from: "2.4.0", to: "2.4.1", path: "2.4.0 → 2.4.1" });
    expectAgreement(output);
  });

  it("for a release its channel does not receive: the path exists, the channel rule refuses it", async () => {
    const output = await plan(gitExample(), "production-full", "--to", "2.5.0-beta.3");
    expect(output.path).toBe("2.4.0 → 2.5.0-beta.3");
    expectAgreement(output);
  });

  it("for a version that was never released", async () => {
    const output = await plan(gitExample(), "production-full", "--to", "9.9.9");
    expect(output.path).toBe("none: releases/9.9.9 does not exist on the base branch");
    expectAgreement(output);
  });

  it("for a downgrade that is not a revert", async () => {
    const output = await plan(gitExample(), "production-canary", "--to", "2.4.0");
    expect(output.path).toBe(
      "none: 2.4.1 → 2.4.0 is a downgrade, and production-canary did not run 2.4.0 among its last 3 versions: only a revert may go back",
    );
    expectAgreement(output);
  });

  it("for a revert to a version the environment ran", async () => {
    const root = gitExample();
    pinInTurn(root, "production-full", "2.3.0", "2.4.0");
    const output = await plan(root, "production-full", "--to", "2.3.0");
    expect(output.path).toBe(
      "2.4.0 → 2.3.0, a revert to a version production-full ran within its last 3 versions",
    );
    expectAgreement(output);
  });

  it("for a multi-hop path: 2.0.0 → 2.3.0 → 2.4.1 when 2.4.1 needs 2.3.0", async () => {
    const root = gitExample();
    requireMinimum(root, "2.4.1", "2.3.0");
    pinInTurn(root, "production-full", "2.0.0");
    const output = await plan(root, "production-full", "--to", "2.4.1");
    expect(output).toMatchObject({
      from: "2.0.0",
      to: "2.4.1",
      path: "2.0.0 → 2.3.0 → 2.4.1 (promote 2.3.0 first)",
    });
    expect(output.row.reason).toBe(
      "2.0.0 is older than 2.4.1's minimumVersion 2.3.0: promote 2.3.0 first (path 2.0.0 → 2.3.0 → 2.4.1)",
    );
    expectAgreement(output);
  });

  it("without --to on a multi-hop path, plans the first step and names where it leads", async () => {
    const root = gitExample();
    requireMinimum(root, "2.4.1", "2.3.0");
    pinInTurn(root, "production-full", "2.0.0");
    const output = await plan(root, "production-full");
    expect(output).toMatchObject({
      from: "2.0.0",
      to: "2.3.0",
      path: "2.0.0 → 2.3.0, the first step towards 2.4.1 (2.0.0 → 2.3.0 → 2.4.1)",
    });
    expect(output.row).toEqual({
      status: "✓ pass",
      reason: "2.0.0 → 2.3.0 in one step (2.3.0 needs 2.0.0 or newer)",
    });
    expectAgreement(output);
  });

  it("for a --to that no eligible release can step towards", async () => {
    const root = gitExample();
    requireMinimum(root, "2.4.1", "2.4.1");
    const output = await plan(root, "production-full", "--to", "2.4.1");
    expect(output.path).toMatch(
      /^none: 2\.4\.0 is older than 2\.4\.1's minimumVersion 2\.4\.1: no upgrade path from 2\.4\.0 to 2\.4\.1/,
    );
    expectAgreement(output);
  });

  it("without --to, says a newer release is unreachable rather than that none is eligible", async () => {
    const root = gitExample();
    requireMinimum(root, "2.4.1", "2.4.1");
    const run = await runPinlineInProcess(["plan", "production-full", "--root", root]);
    expect(run.stdout).toBe(
      "production-full runs 2.4.0: no newer release is reachable: no upgrade path from 2.4.0 to 2.4.1: 2.4.1 requires minimumVersion 2.4.1, which 2.4.0 does not meet, and no eligible release at or above 2.4.1 and below 2.4.1 exists to step through\n",
    );
    expect(run.code).toBe(0);
  });

  it("gives the same path and problem in --json", async () => {
    const root = gitExample();
    const json = JSON.parse(
      (
        await runPinlineInProcess([
          "plan",
          "production-full",
          "--to",
          "9.9.9",
          "--json",
          "--root",
          root,
        ])
      ).stdout,
    );
    const row = json.evaluation.verdicts.find((v: { rule: string }) => v.rule === "upgrade path");
    expect(json.path).toBeUndefined();
    expect(json.pathProblem).toBe(row.reason);
    expect(json.pathSummary).toBe(`none: ${row.reason}`);
  });
});
