/**
 * What the database refuses is said in words, with what to grant or change (DESIGN §4: bad
 * input gets a clear error): a missing database, a role that may not create the history table,
 * read-only transactions, TLS asked of a server without it — through the CLI as a user runs it,
 * never "internal error" and a stack trace. On every PostgreSQL target of the harness.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import { databasesPerTest } from "./harness/databases.js";
import { copyExample, removeCopies, runPinlineAsync } from "./harness/example-repo.js";
import { type PostgresTarget, withClient } from "./harness/postgres.js";

const targets = inject("postgresTargets");
const { database: freshFor, afterDrop } = databasesPerTest();
afterAll(removeCopies);

describe.each(targets)("the database's refusals on $name", (target: PostgresTarget) => {
  const database = () => freshFor(target);

  /** A login role of this test, dropped afterwards; `setup` runs as the superuser. */
  async function role(url: string, setup: (name: string) => string[]): Promise<string> {
    const name = `pinline_role_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    await withClient(url, async (c) => {
      await c.query(`CREATE ROLE ${name} LOGIN PASSWORD 'pinline-test'`);
      for (const statement of setup(name)) await c.query(statement);
    });
    // Dropped after the database: it holds grants there.
    afterDrop(() =>
      withClient(target.url, (c) => c.query(`DROP ROLE IF EXISTS ${name}`)).then(() => {}),
    );
    const as = new URL(url);
    as.username = name;
    as.password = "pinline-test";
    return as.toString();
  }

  const migrate = (url: string) => {
    const root = copyExample();
    return runPinlineAsync(["migrate", "--release", "releases/2.4.1", "--database-url", url], {
      cwd: root,
    });
  };

  const expectClear = (run: { code: number | null; stderr: string }) => {
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain("internal error");
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  };

  it("a database that does not exist", async () => {
    const url = new URL(target.url);
    url.pathname = "/pinline_no_such_database";
    const run = await migrate(url.toString());
    expectClear(run);
    expect(run.stderr).toContain(
      'pinline: error: the database does not exist: database "pinline_no_such_database" does not exist',
    );
    expect(run.stderr).toContain(
      "create it first (createdb <name>), or fix the database name in the URL",
    );
  });

  it("a role that may not create the history table in public", async () => {
    const url = await database();
    const limited = await role(url, () => []); // PostgreSQL 15+: no CREATE on public for it
    const run = await migrate(limited);
    expectClear(run);
    expect(run.stderr).toMatch(
      /pinline: error: role pinline_role_\d+_\d+ may not create or use pinline_schema_migrations in schema public: permission denied for schema public/,
    );
    expect(run.stderr).toMatch(/GRANT USAGE, CREATE ON SCHEMA public TO pinline_role_\d+_\d+/);
  });

  it("a role whose transactions are read-only", async () => {
    const url = await database();
    const reader = await role(url, (name) => [
      `GRANT CREATE ON SCHEMA public TO ${name}`,
      `ALTER ROLE ${name} SET default_transaction_read_only = on`,
    ]);
    const run = await migrate(reader);
    expectClear(run);
    expect(run.stderr).toMatch(
      /the database accepts only read-only transactions for role pinline_role_/,
    );
    expect(run.stderr).toContain("ALTER ROLE <role> SET default_transaction_read_only = off");
  });

  it("a wrong password, where the server asks for one", async () => {
    const url = new URL(await role(await database(), () => []));
    url.password = "not-the-password";
    const run = await migrate(url.toString());
    if (run.code === 0 || !/password/.test(run.stderr)) {
      // embedded PostgreSQL here trusts every local connection: no password is ever checked.
      console.warn(
        `SKIPPED on ${target.name}: its pg_hba.conf trusts local connections (no password to refuse)`,
      );
      return;
    }
    expectClear(run);
    expect(run.stderr).toMatch(
      /pinline: error: the database refused the password of role pinline_role_\d+_\d+: password authentication failed/,
    );
    expect(run.stderr).toContain("check the password in the URL");
  });

  it("TLS asked of a server that offers none", async () => {
    const url = new URL(await database());
    url.searchParams.set("sslmode", "require");
    const run = await migrate(url.toString());
    expectClear(run);
    expect(run.stderr).toContain("the database does not offer TLS, but the URL asks for it");
  });
});
