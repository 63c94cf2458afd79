/**
 * `pinline demo`, the README's first command, from the CLI bundle on its embedded defaults:
 * a throwaway PostgreSQL, the sample service and a git copy of the example; 2.4.1 goes live,
 * 2.4.2 fails its canary and is rolled back, and its pre-update backup restores.
 */
import { describe, expect, it } from "vitest";
import { runPinlineAsync } from "./harness/example-repo.js";

describe("pinline demo", () => {
  it("deploys a good release and rolls back a bad one, then shows the final state", async () => {
    const { DATABASE_URL: _ignored, ...env } = process.env;
    const run = await runPinlineAsync(["demo", "--no-color"], {
      env: { ...env, DATABASE_URL: "" },
    });
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
  }, 120_000);
});
