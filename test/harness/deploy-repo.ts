/**
 * The demo's repository (src/demo) for the deploy tests: production-canary at 2.4.0 on a
 * running sample service and in a fresh database, with the bad release 2.4.2.
 */
import { migrate } from "../../src/db/run-migration.js";
import { DEMO_DB_VAR, prepareDemoRepo } from "../../src/demo/prepare-demo-repo.js";
import { type SampleService, startSampleService } from "../../src/demo/sample-service.js";

export const CANARY_DB_VAR = DEMO_DB_VAR;

export interface DeployRepo {
  root: string;
  service: SampleService;
  databaseUrl: string;
  git(...args: string[]): string;
  /** The database's schema version, as the migration runner reads it. */
  schemaVersion(): Promise<string | null>;
  close(): void;
}

export async function startDeployRepo(databaseUrl: string): Promise<DeployRepo> {
  const service = await startSampleService("2.4.0");
  const repo = await prepareDemoRepo({ serviceUrl: service.url, databaseUrl });
  return {
    root: repo.root,
    service,
    databaseUrl,
    git: repo.git,
    schemaVersion: async () =>
      (await migrate({ root: repo.root, target: "2.4.0", databaseUrl, dryRun: true })).from,
    close: () => {
      service.stop();
      repo.remove();
    },
  };
}
