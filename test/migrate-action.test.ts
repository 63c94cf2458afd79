import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { copyExample, removeCopies, repoRoot } from "./harness/example-repo.js";
import { freshDatabase, withClient } from "./harness/postgres.js";
import { runAction } from "./harness/runner.js";

/** actions/migrate, run as the runner runs it, on the first PostgreSQL target. */
const [target] = inject("postgresTargets");
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
  removeCopies();
});

describe("actions/migrate", () => {
  it("declares node24, its bundle, and no input that could carry the database URL", () => {
    const action = parse(readFileSync(join(repoRoot, "actions/migrate/action.yml"), "utf8"));
    expect(action.runs).toEqual({ using: "node24", main: "../../dist/migrate.js" });
    expect(Object.keys(action.inputs)).toEqual([
      "release",
      "environment",
      "dry-run",
      "yes",
      "lock-wait",
      "history-schema",
      "root",
    ]);
  });

  it("migrates the environment's database, taking the URL from the variable its pin names, masked", async () => {
    if (!target) throw new Error("no PostgreSQL target");
    const db = await freshDatabase(target);
    drops.push(db.drop);
    const run = runAction("migrate", {
      workspace: copyExample(),
      inputs: { release: "releases/2.4.1", environment: "production-canary" },
      env: { CM_DB_URL_PRODUCTION_CANARY: db.url },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.commands).toContainEqual({ command: "add-mask", properties: {}, message: db.url });
    // Only the mask commands carry the URL; the runner hides it everywhere else.
    const unmasked = run.stdout.split("\n").filter((l) => !l.startsWith("::add-mask::"));
    expect(unmasked.join("\n")).not.toContain(new URL(db.url).host);
    expect(run.outputs).toEqual({ from: "none", to: "2.4.1", applied: "5" });
    expect(run.summary).toContain(
      "## pinline migrate production-canary: migrated empty database → 2.4.1",
    );
    expect(run.summary).toContain("```mermaid");
    expect(run.summary).toContain(
      "| ✅ | 2.4.1 | `releases/2.4.1/migrations/2.4.0-2.4.1_ml_score_index.sql` | migrate | no (pinline:no-transaction) |",
    );
    const columns = await withClient(db.url, (c) =>
      c.query(
        "select column_name from information_schema.columns where table_name = 'diagnostics' and column_name = 'ml_score'",
      ),
    );
    expect(columns.rowCount).toBe(1);
  });

  it("refuses release none unless the input yes confirms it, and then rolls every migration back", async () => {
    if (!target) throw new Error("no PostgreSQL target");
    const db = await freshDatabase(target);
    drops.push(db.drop);
    const workspace = copyExample();
    const env = { CM_DB_URL_PRODUCTION_CANARY: db.url };
    const up = runAction("migrate", {
      workspace,
      inputs: { release: "releases/2.4.1", environment: "production-canary" },
      env,
    });
    expect(up.code).toBe(0);
    const refused = runAction("migrate", {
      workspace,
      inputs: { release: "none", environment: "production-canary" },
      env,
    });
    expect(refused.code).toBe(1);
    expect(refused.commands).toContainEqual(
      expect.objectContaining({
        command: "error",
        message:
          "release: none rolls back every migration of the database, dropping what they created (set the input yes: true to confirm it)",
      }),
    );
    const history = () =>
      withClient(
        db.url,
        async (c) =>
          (await c.query("SELECT count(*)::int AS n FROM pinline_schema_migrations")).rows[0]?.n,
      );
    expect(await history()).toBe(5);
    const confirmed = runAction("migrate", {
      workspace,
      inputs: { release: "none", environment: "production-canary", yes: "true" },
      env,
    });
    expect(confirmed.code).toBe(0);
    expect(confirmed.outputs).toMatchObject({ from: "2.4.1", to: "none" });
  });

  it("fails, naming the variable, when the secret is not mapped into the step", () => {
    const run = runAction("migrate", {
      workspace: copyExample(),
      inputs: { release: "releases/2.4.1", environment: "production-canary" },
    });
    expect(run.code).toBe(1);
    expect(run.commands).toContainEqual(
      expect.objectContaining({
        command: "error",
        message: expect.stringContaining(
          "production-canary's database URL comes from CM_DB_URL_PRODUCTION_CANARY, which is not set",
        ),
      }),
    );
  });
});
