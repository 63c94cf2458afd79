import { beforeAll, describe, expect, it } from "vitest";
import {
  concurrentIndexOf,
  loadSqlParser,
  nonTransactionalReason,
  parseSql,
  positionOf,
  type SqlStatement,
  transactionControl,
} from "./parse-sql.js";
import { hasNoTransactionMarker, misplacedMarkerLine } from "./read-migration-file.js";

/** PostgreSQL's own parser (libpg_query) reads every migration; these pin down how. */
beforeAll(loadSqlParser);

const texts = (sql: string) => parseSql(sql).statements.map((s) => s.text);
const only = (sql: string): SqlStatement => {
  const [statement, ...rest] = parseSql(sql).statements;
  if (!statement || rest.length > 0) throw new Error(`expected one statement in ${sql}`);
  return statement;
};

describe("splitting a migration into statements", () => {
  it.each([
    ["plain statements", "SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]],
    ["no final semicolon", "SELECT 1;\nSELECT 2", ["SELECT 1", "SELECT 2"]],
    ["empty statements", " ; ;;\n", []],
    ["a semicolon in a string", "SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", "SELECT 2"]],
    ["a doubled quote", "SELECT 'it''s; fine'; SELECT 2", ["SELECT 'it''s; fine'", "SELECT 2"]],
    ["an escape string", "SELECT E'\\';'; SELECT 2", ["SELECT E'\\';'", "SELECT 2"]],
    ["a backslash in a standard string", "SELECT 'C:\\'; SELECT 2", ["SELECT 'C:\\'", "SELECT 2"]],
    ["a line comment", "-- first; not a statement\nSELECT 1; -- trailing;\n", ["SELECT 1"]],
    [
      "nested block comments",
      "/* a; /* nested; */ still comment; */ SELECT 1; SELECT 2",
      ["SELECT 1", "SELECT 2"],
    ],
    ["a quoted identifier", 'SELECT "a;b" FROM t; SELECT 2', ['SELECT "a;b" FROM t', "SELECT 2"]],
    [
      "a dollar-quoted body",
      "DO $$ BEGIN PERFORM 1; END $$; SELECT 2",
      ["DO $$ BEGIN PERFORM 1; END $$", "SELECT 2"],
    ],
    [
      "a tagged body holding $$",
      "CREATE FUNCTION f() RETURNS text AS $fn$ SELECT '$$;' $fn$ LANGUAGE sql; SELECT 2",
      ["CREATE FUNCTION f() RETURNS text AS $fn$ SELECT '$$;' $fn$ LANGUAGE sql", "SELECT 2"],
    ],
    [
      "a parameter is not a dollar quote",
      "PREPARE p AS SELECT $1; SELECT 2",
      ["PREPARE p AS SELECT $1", "SELECT 2"],
    ],
    [
      "a $ inside an identifier",
      "SELECT a$b$ FROM t; SELECT 2",
      ["SELECT a$b$ FROM t", "SELECT 2"],
    ],
    [
      "semicolons inside parentheses (CREATE RULE)",
      "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)); SELECT 1",
      [
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))",
        "SELECT 1",
      ],
    ],
    [
      "a BEGIN ATOMIC body",
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; SELECT 2",
      [
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END",
        "SELECT 2",
      ],
    ],
  ])("%s", (_name, sql, expected) => {
    expect(texts(sql)).toEqual(expected);
  });

  it("knows the line each statement starts on and where an error position falls", () => {
    const sql = "-- header\n\nCREATE TABLE a (id int);\n  SELECT\n  nope FROM a;";
    const scan = parseSql(sql);
    expect(scan.statements.map((s) => s.line)).toEqual([3, 4]);
    expect(positionOf(sql, sql.indexOf("nope"))).toEqual({ line: 5, column: 3 });
    expect(positionOf("é\nab", 3)).toEqual({ line: 2, column: 2 });
  });

  it.each([
    ["a string", "SELECT 'abc;\nSELECT 2", "unterminated quoted string", 1],
    ["a block comment", "SELECT 1;\n/* no end", "unterminated /* comment", 2],
    ["a quoted identifier", 'SELECT "abc', "unterminated quoted identifier", 1],
    ["a dollar body", "DO $x$ BEGIN", "unterminated dollar-quoted string", 1],
  ])("reports %s that never ends, where it starts", (_name, sql, what, line) => {
    expect(parseSql(sql).error).toMatchObject({ message: expect.stringContaining(what), line });
  });

  it("counts positions in characters though the parser counts bytes", () => {
    const sql = "SELECT 'é→😀';\nSELECT 2;";
    expect(parseSql(sql).statements.map((s) => [s.text, s.start, s.line])).toEqual([
      ["SELECT 'é→😀'", 0, 1],
      ["SELECT 2", sql.indexOf("SELECT 2"), 2],
    ]);
  });
});

describe("whether a file ends between statements (so SQL can follow it in the same query)", () => {
  it.each([
    ["", true],
    ["-- only a comment", true],
    ["SELECT 1;", true],
    ["SELECT 1;\n", true],
    ["SELECT 1; -- done, no newline", true],
    ["SELECT 1;\n/* the end */", true],
    ["SELECT 1", false],
    ["SELECT 1; SELECT 2 -- no semicolon", false],
    ["SELECT (1;", false],
    ["CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;", false],
    ["CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;", true],
    ["SELECT 'abc;", false],
    ["SELECT 1;\n/* no end", false],
    ["DO $x$ BEGIN NULL; END $x$;", true],
  ])("%j: %s", (sql, closed) => {
    expect(parseSql(sql).closed).toBe(closed);
  });
});

describe("statements that cannot run in a transaction", () => {
  it.each([
    ["CREATE INDEX CONCURRENTLY idx ON t (a)", "CREATE INDEX CONCURRENTLY"],
    ["create index concurrently if not exists idx on t (a)", "CREATE INDEX CONCURRENTLY"],
    ["CREATE UNIQUE INDEX CONCURRENTLY idx ON t (a)", "CREATE UNIQUE INDEX CONCURRENTLY"],
    ["DROP INDEX CONCURRENTLY IF EXISTS idx", "DROP INDEX CONCURRENTLY"],
    ["REINDEX TABLE CONCURRENTLY t", "REINDEX ... CONCURRENTLY"],
    ["REINDEX (VERBOSE, CONCURRENTLY) INDEX i", "REINDEX ... CONCURRENTLY"],
    ["REINDEX DATABASE app", "REINDEX DATABASE"],
    ["REINDEX SYSTEM", "REINDEX SYSTEM"],
    ["VACUUM", "VACUUM"],
    ["vacuum (analyze) diagnostics", "VACUUM"],
    ["ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"],
    ["CREATE DATABASE other", "CREATE DATABASE"],
    ["DROP DATABASE other", "DROP DATABASE"],
    ["CREATE TABLESPACE fast LOCATION '/ssd'", "CREATE TABLESPACE"],
    [
      "ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY",
      "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY",
    ],
    ["/* note */ CREATE INDEX /* why */ CONCURRENTLY idx ON t (a)", "CREATE INDEX CONCURRENTLY"],
  ])("%s → %s", (sql, reason) => {
    expect(nonTransactionalReason(only(sql))).toBe(reason);
  });

  it.each([
    ["a plain index", "CREATE INDEX idx ON t (a)"],
    [
      "CONCURRENTLY in a line comment",
      "-- CREATE INDEX CONCURRENTLY later\nCREATE INDEX i ON t (a)",
    ],
    ["CONCURRENTLY in a block comment", "CREATE INDEX /* CONCURRENTLY */ i ON t (a)"],
    ["CONCURRENTLY in a string", "SELECT 'CREATE INDEX CONCURRENTLY x ON t (a)'"],
    ["VACUUM in a comment on a table", "COMMENT ON TABLE t IS 'VACUUM nightly'"],
    [
      "CONCURRENTLY in a function body",
      "CREATE FUNCTION f() RETURNS void AS $$ BEGIN EXECUTE 'CREATE INDEX CONCURRENTLY i ON t (a)'; END $$ LANGUAGE plpgsql",
    ],
    ["a DO block that vacuums", "DO $body$ BEGIN VACUUM; END $body$"],
    ["an index named concurrently (quoted)", 'CREATE INDEX "concurrently" ON t (a)'],
    ["a column named concurrently", 'CREATE INDEX ON t ("concurrently")'],
    ["a column named vacuum", "ALTER TABLE t ADD COLUMN vacuum int"],
    ["ALTER DATABASE ... SET", "ALTER DATABASE app SET work_mem = '64MB'"],
    ["REINDEX of one table", "REINDEX TABLE t"],
  ])("%s does not count", (_name, sql) => {
    expect(nonTransactionalReason(only(sql))).toBeUndefined();
  });
});

describe("the no-transaction marker", () => {
  it.each([
    ["-- pinline:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);", true],
    ["-- pinline:no-transaction   \nSELECT 1", true],
    ["--pinline:no-transaction\nSELECT 1", true],
    ["\uFEFF-- pinline:no-transaction\nSELECT 1", true],
    ["-- pinline:no-transaction\r\nSELECT 1", true],
    ["-- pinline:no-transactions\nSELECT 1", false],
    ["-- pinline:no-transaction because of the index\nSELECT 1", false],
    ["-- header\n-- pinline:no-transaction\nSELECT 1", false],
    ["SELECT 1 -- pinline:no-transaction", false],
  ])("%j → %s", (sql, marked) => {
    expect(hasNoTransactionMarker(sql)).toBe(marked);
  });

  it("finds a marker that is not on the first line", () => {
    expect(misplacedMarkerLine("-- header\n-- pinline:no-transaction\nSELECT 1")).toBe(2);
    expect(misplacedMarkerLine("-- pinline:no-transaction\nSELECT 1")).toBeUndefined();
  });
});

describe("transaction control in a transactional migration", () => {
  it.each([
    ["BEGIN", "BEGIN"],
    ["begin transaction isolation level serializable", "BEGIN"],
    ["START TRANSACTION", "START TRANSACTION"],
    ["COMMIT", "COMMIT"],
    ["END", "COMMIT"],
    ["ROLLBACK", "ROLLBACK"],
    ["ABORT", "ROLLBACK"],
    ["PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION"],
    ["COMMIT PREPARED 'x'", "COMMIT PREPARED"],
    ["ROLLBACK TO SAVEPOINT s", "ROLLBACK TO SAVEPOINT"],
    ["SAVEPOINT s", "SAVEPOINT"],
    ["RELEASE SAVEPOINT s", "RELEASE SAVEPOINT"],
    ["DO $$ BEGIN PERFORM 1; END $$", undefined],
    ["SELECT CASE WHEN true THEN 1 END", undefined],
  ])("%s → %s", (sql, control) => {
    expect(transactionControl(only(sql))).toBe(control);
  });

  it.each([
    ["after a comment a lone CR ends", "SELECT 1; -- the end?\rCOMMIT;"],
    [
      "after a function with a parameter named begin",
      "CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS 'SELECT begin'; COMMIT;",
    ],
    ["after an E-string holding an escaped quote", "SELECT E'it\\'s; done'; COMMIT;"],
    ["after dollar quotes holding another tag", "SELECT $a$ $b$ ; $a$; COMMIT;"],
    [
      "after a BEGIN ATOMIC body",
      "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; COMMIT;",
    ],
    [
      "after switching standard_conforming_strings off (read as the server will: on)",
      "SET standard_conforming_strings = off; SELECT 'a\\'; COMMIT; --';",
    ],
  ])("sees the COMMIT %s", (_name, sql) => {
    const controls = parseSql(sql)
      .statements.map((s) => transactionControl(s))
      .filter(Boolean);
    expect(controls).toEqual(["COMMIT"]);
  });

  it.each([
    ["inside a dollar-quoted body", "DO $$ BEGIN COMMIT; END $$;"],
    ["inside an E-string", "SELECT E'\\'; COMMIT; --';"],
    ["inside a comment", "/* COMMIT; */ SELECT 1; -- COMMIT;"],
    ["as an identifier", 'CREATE TABLE "commit" (begin int);'],
  ])("sees no COMMIT %s", (_name, sql) => {
    expect(
      parseSql(sql)
        .statements.map((s) => transactionControl(s))
        .filter(Boolean),
    ).toEqual([]);
  });
});

describe("what a CREATE INDEX CONCURRENTLY builds", () => {
  it.each([
    [
      "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_diagnostics_ml_score ON diagnostics(ml_score)",
      { table: '"diagnostics"', index: "idx_diagnostics_ml_score" },
    ],
    ["CREATE UNIQUE INDEX CONCURRENTLY ON public.t (a)", { table: '"public"."t"' }],
    [
      'CREATE INDEX CONCURRENTLY "My Idx" ON ONLY "Sch"."T" (a)',
      { table: '"Sch"."T"', index: "My Idx" },
    ],
    [
      "CREATE INDEX CONCURRENTLY Idx_Upper ON t USING btree (a)",
      { table: '"t"', index: "idx_upper" },
    ],
    ["CREATE INDEX i ON t (a)", undefined],
  ])("%s", (sql, built) => {
    expect(concurrentIndexOf(only(sql))).toEqual(built);
  });
});
