/**
 * `pinline demo`, the README's first command, from the CLI bundle on its embedded defaults:
 * a throwaway PostgreSQL, the sample service and a git copy of the example; 2.4.1 goes live,
 * 2.4.2 fails its canary and is rolled back, and its pre-update backup restores. It runs as a
 * new account would: an ordinary user (not root, when the tests are root) with an empty home
 * and no git identity anywhere — the demo's repository carries its own. docs/cli/demo.md shows
 * the final state it prints, held to it here (commit hashes aside).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { normaliseOutput, shownOutput } from "./harness/docs-pages.js";
import { repoRoot } from "./harness/example-repo.js";
import { ordinaryUser } from "./harness/ordinary-user.js";

const cli = join(repoRoot, "dist/cli.js");
const user = ordinaryUser(cli);
afterAll(() => user.remove());

function runAsOrdinaryUser(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { DATABASE_URL: _ignored, ...env } = user.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: user.home, env, encoding: "utf8", ...(user.unavailable ? {} : (user.spawnAs ?? {})) },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === "number" ? error.code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

describe("pinline demo", () => {
  if (user.unavailable) {
    console.warn(`demo test: runs as the current user, not ${user.env.USER}: ${user.unavailable}`);
  }

  it("deploys a good release and rolls back a bad one, then shows the final state, as a user with no git identity", async () => {
    const run = await runAsOrdinaryUser(["demo", "--no-color"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain("✅ 2.4.1 is live on production-canary");
    expect(out).toContain("✗ health");
    expect(out).toContain("errorRate 0.30 > max 0.01");
    expect(out).toContain("rollback: ✓ migrate");
    expect(out).toContain("↩️  2.4.2 was rolled back: production-canary is on 2.4.1 again");
    // The failed deploy's pre-update backup, restored into a scratch database, matches.
    expect(out).toContain("━━ Restore 2.4.2's pre-update backup into a scratch database");
    expect(out).toMatch(
      /restored production-canary's backup of .* \(schema 2\.4\.1, before 2\.4\.1 → 2\.4\.2\)/,
    );
    expect(out).toMatch(/diagnostics +6 +6 +✓/);
    expect(out).toContain("✓ every table holds the same rows as the live database");
    expect(out).toMatch(/pin \(git\) +2\.4\.1/);
    expect(out).toMatch(/service +2\.4\.1/);
    expect(out).toMatch(/database schema +2\.4\.1/);
    expect(out).toMatch(/Revert production-canary to 2\.4\.1/);
    expect(out).toMatch(/Demo finished in \d+\.\d s\./);
    expect(out).not.toContain("\u001b["); // --no-color: plain text
    // The final state, as docs/cli/demo.md shows it: from its heading to the blank line after it.
    const lines = out.split("\n");
    const start = lines.indexOf("━━ Final state");
    const end = lines.indexOf("", start);
    const finalState = lines.slice(start, end < 0 ? undefined : end).join("\n");
    const shown = shownOutput("demo-final-state");
    expect(normaliseOutput(shown.text), `${shown.page}:${shown.line}`).toBe(
      normaliseOutput(finalState),
    );
  }, 120_000);
});
