import type { TestProject } from "vitest/node";
import { type PostgresTarget, startTargets } from "./postgres.js";

/** Starts the PostgreSQL targets once for the whole test run (vitest globalSetup). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const targets = await startTargets();
  project.provide(
    "postgresTargets",
    targets.map(({ name, url, binDir }) => ({ name, url, ...(binDir ? { binDir } : {}) })),
  );
  return async () => {
    for (const target of targets) await target.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresTargets: PostgresTarget[];
  }
}
