import { describe, expect, inject, it } from "vitest";
import { freshDatabase, importEmbeddedPostgres, withClient } from "./harness/postgres.js";

const targets = inject("postgresTargets");

describe("the PostgreSQL targets the integration tests run on", () => {
  it("are real servers: embedded PostgreSQL, and Debian's 15 where installed", () => {
    expect(targets.length).toBeGreaterThan(0);
    if (!process.env.DATABASE_URL) expect(targets[0]?.name).toMatch(/^embedded \d+\.\d+/);
  });

  it.each(targets)("$name gives each test a fresh, empty database", async (target) => {
    const db = await freshDatabase(target);
    try {
      const tables = await withClient(db.url, (c) =>
        c.query("select count(*)::int as n from pg_tables where schemaname = 'public'"),
      );
      expect(tables.rows[0].n).toBe(0);
      // Real sessions: an advisory lock held by one is seen by another.
      await withClient(db.url, async (a) => {
        await a.query("select pg_advisory_lock(42)");
        const other = await withClient(db.url, (b) =>
          b.query("select pg_try_advisory_lock(42) as got"),
        );
        expect(other.rows[0].got).toBe(false);
      });
    } finally {
      await db.drop();
    }
  });

  it("leave no exit hook behind that could turn a failed run into exit code 0", async () => {
    const events = ["exit", "beforeExit", "SIGINT", "SIGTERM"] as const;
    const before = events.map((e) => process.listenerCount(e));
    await importEmbeddedPostgres();
    expect(events.map((e) => process.listenerCount(e))).toEqual(before);
  });
});
