import { describe, expect, it } from "vitest";
import { RefusedError } from "../core/errors.js";
import {
  type DatabaseState,
  type Direction,
  deriveDatabaseState,
  describeState,
  type HistoryRow,
} from "./derive-schema-version.js";
import { planMigration } from "./plan-migration.js";
import type { ChainRelease, ReleaseChains } from "./read-release-chain.js";

/**
 * 2.0.0 → 2.3.0 → 2.4.0 → 2.4.1 ─┬→ 2.5.0-beta.3 → 2.5.0   (the main line)
 *                               └→ 2.4.2                  (a hotfix branch)
 * 2.4.3 has no migrations (a code-only release on the hotfix line: from 2.4.2).
 */
function release(
  version: string,
  from: string | null,
  migrations: string[],
  rollback: string[],
): ChainRelease {
  return {
    version,
    from,
    folder: version,
    migrations,
    rollback,
    sha256: new Map(),
    contents: new Set([...migrations, ...rollback]),
  };
}

const chains: ReleaseChains = new Map(
  [
    release("2.0.0", null, ["migrations/0.0.0-2.0.0.sql"], ["rollback/2.0.0-0.0.0.sql"]),
    release("2.3.0", "2.0.0", ["migrations/2.0.0-2.3.0.sql"], ["rollback/2.3.0-2.0.0.sql"]),
    release("2.4.0", "2.3.0", ["migrations/2.3.0-2.4.0.sql"], ["rollback/2.4.0-2.3.0.sql"]),
    release(
      "2.4.1",
      "2.4.0",
      ["migrations/1_column.sql", "migrations/2_index.sql"],
      ["rollback/1_index.sql", "rollback/2_column.sql"],
    ),
    release("2.4.2", "2.4.1", ["migrations/hotfix.sql"], ["rollback/hotfix.sql"]),
    release("2.4.3", "2.4.2", [], []),
    release("2.5.0-beta.3", "2.4.1", ["migrations/beta.sql"], ["rollback/beta.sql"]),
    release("2.5.0", "2.5.0-beta.3", ["migrations/final.sql"], []),
  ].map((r) => [r.version, r]),
);

type Entry = [version: string, file: string, direction?: Direction, success?: boolean];

function history(...entries: Entry[]): HistoryRow[] {
  return entries.map(([version, file, direction = "migrate", success = true], i) => ({
    id: i + 1,
    version,
    file,
    direction,
    checksum: "0".repeat(64),
    appliedAt: new Date(Date.UTC(2024, 2, 15, 0, i)),
    durationMs: 1,
    appliedBy: "postgres",
    success,
    error: success ? null : "boom",
  }));
}

/** Every migration of the releases, in order: the history of a database migrated up to them. */
function migrated(...versions: string[]): Entry[] {
  return versions.flatMap((v) => (chains.get(v)?.migrations ?? []).map((f): Entry => [v, f]));
}

function rolledBack(...versions: string[]): Entry[] {
  return versions.flatMap((v) =>
    (chains.get(v)?.rollback ?? []).map((f): Entry => [v, f, "rollback"]),
  );
}

const UP_TO_241 = migrated("2.0.0", "2.3.0", "2.4.0", "2.4.1");

describe("the database's version, derived from its history", () => {
  it.each<[string, Entry[], string]>([
    ["an empty history is an empty database", [], "none"],
    ["migrations of the first release", migrated("2.0.0"), "2.0.0"],
    ["every release up to 2.4.1", UP_TO_241, "2.4.1"],
    ["a release whose rollback ran is gone", [...UP_TO_241, ...rolledBack("2.4.1")], "2.4.0"],
    [
      "rolled back to none",
      [...migrated("2.0.0", "2.3.0"), ...rolledBack("2.3.0", "2.0.0")],
      "none",
    ],
    [
      "rolled back and applied again",
      [...UP_TO_241, ...rolledBack("2.4.1"), ...migrated("2.4.1")],
      "2.4.1",
    ],
    [
      "migration 1 of 2 committed, 2 failed: partly applied",
      [...migrated("2.0.0", "2.3.0", "2.4.0"), ["2.4.1", "migrations/1_column.sql"]],
      "2.4.0 (2.4.1 partly applied: 1 of 2 migrations)",
    ],
    [
      "rollback 1 of 2 ran: partly rolled back",
      [...UP_TO_241, ["2.4.1", "rollback/1_index.sql", "rollback"]],
      "2.4.0 (2.4.1 partly rolled back: 1 of 2 rollback scripts)",
    ],
    ["a hotfix branch", [...UP_TO_241, ...migrated("2.4.2")], "2.4.2"],
    [
      "dirty rows do not count",
      [...migrated("2.0.0"), ["2.3.0", "migrations/2.0.0-2.3.0.sql", "migrate", false]],
      "2.0.0",
    ],
  ])("%s → %s", (_name, entries, expected) => {
    expect(describeState(deriveDatabaseState(chains, history(...entries)))).toBe(expected);
  });

  it("keeps only the rows in effect for the checksum check", () => {
    const rows = history(...UP_TO_241, ...rolledBack("2.4.1"), [
      "2.4.1",
      "migrations/1_column.sql",
    ]);
    const state = deriveDatabaseState(chains, rows);
    expect(state.inEffect.map((r) => `${r.version} ${r.file}`)).toEqual([
      "2.0.0 migrations/0.0.0-2.0.0.sql",
      "2.3.0 migrations/2.0.0-2.3.0.sql",
      "2.4.0 migrations/2.3.0-2.4.0.sql",
      "2.4.1 migrations/1_column.sql",
    ]);
    expect(state.inEffect.at(-1)?.id).toBe(rows.length);
  });

  it.each<[string, Entry[], RegExp]>([
    [
      "a release that is not in releases/",
      [["9.9.9", "migrations/x.sql"]],
      /names release 9\.9\.9, which is not a release with a database section/,
    ],
    [
      "a file the release no longer lists",
      [["2.0.0", "migrations/renamed.sql"]],
      /releases\/2\.0\.0\/migrations\/renamed\.sql no longer exists/,
    ],
    [
      "a release applied without the one below it",
      [...migrated("2.0.0", "2.4.0")],
      /inconsistent: release 2\.4\.0 is applied, but release 2\.3\.0 below it is not/,
    ],
    [
      "a rollback of a release never applied",
      [...migrated("2.0.0"), ...rolledBack("2.3.0")],
      /inconsistent: it rolls back releases\/2\.3\.0\/rollback\/2\.3\.0-2\.0\.0\.sql/,
    ],
    [
      "releases of two branches",
      [...UP_TO_241, ...migrated("2.4.2", "2.5.0-beta.3")],
      /inconsistent: release 2\.(4\.2|5\.0-beta\.3) is applied, but it is not on the chain of/,
    ],
  ])("refuses a history with %s", (_name, entries, message) => {
    expect(() => deriveDatabaseState(chains, history(...entries))).toThrow(message);
  });
});

describe("planning a migration", () => {
  const at = (...entries: Entry[]): DatabaseState =>
    deriveDatabaseState(chains, history(...entries));
  const steps = (state: DatabaseState, target: string | null) =>
    planMigration(chains, state, target).steps.map(
      (s) => `${s.status === "skipped" ? "skip " : ""}${s.release} ${s.file}`,
    );

  it.each<[string, Entry[], string | null, string[]]>([
    [
      "an empty database up to 2.4.1: every release's migrations, in chain and list order",
      [],
      "2.4.1",
      [
        "2.0.0 migrations/0.0.0-2.0.0.sql",
        "2.3.0 migrations/2.0.0-2.3.0.sql",
        "2.4.0 migrations/2.3.0-2.4.0.sql",
        "2.4.1 migrations/1_column.sql",
        "2.4.1 migrations/2_index.sql",
      ],
    ],
    ["the first release on an empty database", [], "2.0.0", ["2.0.0 migrations/0.0.0-2.0.0.sql"]],
    [
      "one release up",
      migrated("2.0.0", "2.3.0", "2.4.0"),
      "2.4.1",
      ["2.4.1 migrations/1_column.sql", "2.4.1 migrations/2_index.sql"],
    ],
    [
      "up a branch",
      UP_TO_241,
      "2.5.0",
      ["2.5.0-beta.3 migrations/beta.sql", "2.5.0 migrations/final.sql"],
    ],
    ["the same version: nothing to do", UP_TO_241, "2.4.1", []],
    ["the same version, empty database", [], null, []],
    [
      "down to 2.3.0: newest release first, each rollback list in order",
      UP_TO_241,
      "2.3.0",
      [
        "2.4.1 rollback/1_index.sql",
        "2.4.1 rollback/2_column.sql",
        "2.4.0 rollback/2.4.0-2.3.0.sql",
      ],
    ],
    [
      "down to none",
      migrated("2.0.0", "2.3.0"),
      null,
      ["2.3.0 rollback/2.3.0-2.0.0.sql", "2.0.0 rollback/2.0.0-0.0.0.sql"],
    ],
    [
      "down past a release without migrations",
      [...UP_TO_241, ...migrated("2.4.2")],
      "2.4.1",
      ["2.4.2 rollback/hotfix.sql"],
    ],
    ["up to a release without migrations", [...UP_TO_241, ...migrated("2.4.2")], "2.4.3", []],
    [
      "partly applied, same target: resume with the remaining files",
      [...migrated("2.0.0", "2.3.0", "2.4.0"), ["2.4.1", "migrations/1_column.sql"]],
      "2.4.1",
      ["skip 2.4.1 migrations/1_column.sql", "2.4.1 migrations/2_index.sql"],
    ],
    [
      "partly applied, a later target: resume, then go on",
      [...migrated("2.0.0", "2.3.0", "2.4.0"), ["2.4.1", "migrations/1_column.sql"]],
      "2.5.0-beta.3",
      [
        "skip 2.4.1 migrations/1_column.sql",
        "2.4.1 migrations/2_index.sql",
        "2.5.0-beta.3 migrations/beta.sql",
      ],
    ],
    [
      "partly applied, back to its from: roll the release back",
      [...migrated("2.0.0", "2.3.0", "2.4.0"), ["2.4.1", "migrations/1_column.sql"]],
      "2.4.0",
      ["2.4.1 rollback/1_index.sql", "2.4.1 rollback/2_column.sql"],
    ],
    [
      "partly applied, further back",
      [...migrated("2.0.0", "2.3.0", "2.4.0"), ["2.4.1", "migrations/1_column.sql"]],
      "2.3.0",
      [
        "2.4.1 rollback/1_index.sql",
        "2.4.1 rollback/2_column.sql",
        "2.4.0 rollback/2.4.0-2.3.0.sql",
      ],
    ],
    [
      "partly rolled back: finish the rollback",
      [...UP_TO_241, ["2.4.1", "rollback/1_index.sql", "rollback"]],
      "2.4.0",
      ["skip 2.4.1 rollback/1_index.sql", "2.4.1 rollback/2_column.sql"],
    ],
  ])("%s", (_name, entries, target, expected) => {
    expect(steps(at(...entries), target)).toEqual(expected);
  });

  it("reports from and to, and every step's direction", () => {
    const plan = planMigration(chains, at(...UP_TO_241), "2.4.0");
    expect(plan).toMatchObject({ from: "2.4.1", to: "2.4.0" });
    expect(plan.steps.map((s) => s.direction)).toEqual(["rollback", "rollback"]);
  });

  it.each<[string, Entry[], string | null, RegExp]>([
    [
      "going back through a release without rollback scripts",
      [...UP_TO_241, ...migrated("2.5.0-beta.3", "2.5.0")],
      "2.4.1",
      /release 2\.5\.0 has no rollback scripts/,
    ],
    [
      "going up through a partly rolled back release",
      [...UP_TO_241, ["2.4.1", "rollback/1_index.sql", "rollback"]],
      "2.5.0-beta.3",
      /release 2\.4\.1 is partly rolled back \(1 of 2 rollback scripts ran\): finish the rollback/,
    ],
  ])("refuses %s", (_name, entries, target, message) => {
    expect(() => planMigration(chains, at(...entries), target)).toThrow(RefusedError);
    expect(() => planMigration(chains, at(...entries), target)).toThrow(message);
  });

  describe("the chain rule for maintenance releases: across lines through the release they share", () => {
    // 2.4.2 (from 2.4.1) is a maintenance release of the 2.4 line; 2.5.0-beta.3 (from 2.4.1)
    // opens the next minor. 3.0.0 (from 2.4.1) is a third line, which is no maintenance line.
    const withThird: ReleaseChains = new Map([
      ...chains,
      ["3.0.0", release("3.0.0", "2.4.1", ["migrations/three.sql"], ["rollback/three.sql"])],
    ]);

    it("from the maintenance release to the next minor: its migration rolled back, then the next minor's applied", () => {
      const plan = planMigration(chains, at(...UP_TO_241, ...migrated("2.4.2")), "2.5.0-beta.3");
      expect(plan.steps.map((s) => `${s.direction} ${s.release} ${s.file}`)).toEqual([
        "rollback 2.4.2 rollback/hotfix.sql",
        "migrate 2.5.0-beta.3 migrations/beta.sql",
      ]);
      expect(plan.via).toEqual({
        ancestor: "2.4.1",
        undone: ["2.4.2"],
        applied: ["2.5.0-beta.3"],
        maintenanceLine: "2.4",
      });
    });

    it("through a code-only maintenance release (2.4.3, no migrations) on top of it", () => {
      const state = at(...UP_TO_241, ...migrated("2.4.2"));
      expect(steps(state, "2.5.0")).toEqual([
        "2.4.2 rollback/hotfix.sql",
        "2.5.0-beta.3 migrations/beta.sql",
        "2.5.0 migrations/final.sql",
      ]);
    });

    it("and back: from the next minor to the maintenance release", () => {
      const state = at(...UP_TO_241, ...migrated("2.5.0-beta.3"));
      expect(steps(state, "2.4.2")).toEqual([
        "2.5.0-beta.3 rollback/beta.sql",
        "2.4.2 migrations/hotfix.sql",
      ]);
    });

    it("the ordinary chains are unchanged: no crossing where the target's chain holds the database's version", () => {
      expect(planMigration(chains, at(...UP_TO_241), "2.4.2").via).toBeUndefined();
    });

    it("refuses two lines that both moved on (no maintenance line): Invalid version for migration", () => {
      const state = deriveDatabaseState(
        withThird,
        history(...UP_TO_241, ...migrated("2.5.0-beta.3")),
      );
      expect(() => planMigration(withThird, state, "3.0.0")).toThrow(
        /^Invalid version for migration\. Expected 2\.4\.1, got 2\.5\.0-beta\.3/,
      );
    });

    it("refuses a maintenance release whose migration cannot be undone", () => {
      const noRollback: ReleaseChains = new Map([
        ...chains,
        ["2.4.2", release("2.4.2", "2.4.1", ["migrations/hotfix.sql"], [])],
      ]);
      const state = deriveDatabaseState(noRollback, history(...UP_TO_241, ...migrated("2.4.2")));
      expect(() => planMigration(noRollback, state, "2.5.0-beta.3")).toThrow(
        /release 2\.4\.2 has no rollback scripts: its migrations cannot be undone, so the database cannot go back to 2\.4\.1/,
      );
    });
  });

  describe("with a first release of two migrations, and a beta of two", () => {
    const twoStep: ReleaseChains = new Map([
      ...chains,
      [
        "2.0.0",
        release(
          "2.0.0",
          null,
          ["migrations/1_tables.sql", "migrations/2_indexes.sql"],
          ["rollback/drop.sql"],
        ),
      ],
      [
        "2.5.0-beta.3",
        release(
          "2.5.0-beta.3",
          "2.4.1",
          ["migrations/beta_1.sql", "migrations/beta_2.sql"],
          ["rollback/beta.sql"],
        ),
      ],
    ]);
    const stateOf = (...entries: Entry[]) => deriveDatabaseState(twoStep, history(...entries));
    const firstHalf: Entry[] = [["2.0.0", "migrations/1_tables.sql"]];

    it("the first release partly applied is version none, and resumes", () => {
      expect(describeState(stateOf(...firstHalf))).toBe(
        "none (2.0.0 partly applied: 1 of 2 migrations)",
      );
      expect(planMigration(twoStep, stateOf(...firstHalf), "2.0.0").steps).toMatchObject([
        { file: "migrations/1_tables.sql", status: "skipped" },
        { file: "migrations/2_indexes.sql", status: "planned" },
      ]);
    });

    it("the first release partly applied, down to none: its rollback runs", () => {
      expect(planMigration(twoStep, stateOf(...firstHalf), null).steps).toMatchObject([
        { release: "2.0.0", file: "rollback/drop.sql", direction: "rollback" },
      ]);
    });

    it("refuses a history with two partly applied releases", () => {
      const rows = history(
        ["2.0.0", "migrations/1_tables.sql"],
        ["2.0.0", "migrations/2_indexes.sql"],
        ...migrated("2.3.0", "2.4.0"),
        ["2.4.1", "migrations/1_column.sql"],
        ["2.5.0-beta.3", "migrations/beta_1.sql"],
      );
      expect(() => deriveDatabaseState(twoStep, rows)).toThrow(
        /inconsistent: releases 2\.4\.1 and 2\.5\.0-beta\.3 are each partly applied or partly rolled back; at most one can be/,
      );
    });

    it("refuses to go up another branch while a release is partly applied", () => {
      const state = stateOf(
        ["2.0.0", "migrations/1_tables.sql"],
        ["2.0.0", "migrations/2_indexes.sql"],
        ...migrated("2.3.0", "2.4.0", "2.4.1"),
        ["2.5.0-beta.3", "migrations/beta_1.sql"],
      );
      expect(() => planMigration(twoStep, state, "2.4.2")).toThrow(
        /release 2\.5\.0-beta\.3 is partly applied \(1 of 2 migrations\), and the chain of 2\.4\.2 does not go through it/,
      );
    });
  });
});

describe("long histories", () => {
  /** n releases 1.0.0 → 2.0.0 → …, each with `files` migrations and rollback scripts. */
  function longChain(n: number, files: number): ReleaseChains {
    const names = (kind: string, i: number) =>
      Array.from({ length: files }, (_, f) => `${kind}/${i}_${String(f).padStart(4, "0")}.sql`);
    return new Map(
      Array.from({ length: n }, (_, k) => {
        const i = k + 1;
        const r = release(
          `${i}.0.0`,
          i === 1 ? null : `${i - 1}.0.0`,
          names("migrations", i),
          names("rollback", i),
        );
        return [r.version, r];
      }),
    );
  }

  it("derives the version of 3,000 applied releases without building each one's chain", () => {
    const long = longChain(3000, 1);
    const rows = history(
      ...[...long.values()].map((r): Entry => [r.version, r.migrations[0] ?? ""]),
    );
    const started = performance.now();
    const state = deriveDatabaseState(long, rows);
    expect(state.version).toBe("3000.0.0");
    expect(state.inEffect).toHaveLength(3000);
    // Quadratic (a chain per applied release) took seconds here; linear takes milliseconds.
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("replays a release of 10,000 migrations and its 10,000 rollback scripts in linear time", () => {
    const big = longChain(1, 10_000);
    const only = big.get("1.0.0") as ChainRelease;
    const rows = history(
      ...only.migrations.map((file): Entry => ["1.0.0", file]),
      ...only.rollback.map((file): Entry => ["1.0.0", file, "rollback"]),
    );
    const started = performance.now();
    expect(deriveDatabaseState(big, rows.slice(0, 10_000)).version).toBe("1.0.0");
    expect(deriveDatabaseState(big, rows.slice(0, 15_000)).partial).toMatchObject({
      direction: "rollback",
    });
    expect(deriveDatabaseState(big, rows).version).toBeNull();
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
