/**
 * Fresh databases per test, and the failure of a run, for the migration tests.
 */
import { afterEach } from "vitest";
import { freshDatabase, type PostgresTarget } from "./postgres.js";

/** The error a run fails with; an Error saying so when it succeeds instead. */
export function failureOf(run: Promise<unknown>): Promise<Error> {
  return run.then(
    () => new Error("expected the run to fail"),
    (error: Error) => error,
  );
}

/**
 * Fresh databases for the tests of one file: `database(target)` makes one, and it is dropped
 * after the test, with whatever `afterDrop` was given (roles hold grants in it: they go after).
 */
export function databasesPerTest(): {
  database: (target: PostgresTarget) => Promise<string>;
  afterDrop: (cleanup: () => Promise<void>) => void;
} {
  const cleanups: (() => Promise<void>)[] = [];
  const later: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of [...cleanups.splice(0).reverse(), ...later.splice(0)]) await cleanup();
  });
  return {
    database: async (target) => {
      const db = await freshDatabase(target);
      cleanups.push(db.drop);
      return db.url;
    },
    afterDrop: (cleanup) => later.push(cleanup),
  };
}
