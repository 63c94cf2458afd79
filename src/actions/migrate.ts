import * as core from "@actions/core";
import { UsageError } from "../core/errors.js";
import { EMPTY_DATABASE, migrate } from "../db/run-migration.js";
import { describeFailure } from "../github/describe-github-error.js";
import { renderMigrationSummary } from "../notify/migration-summary.js";
import { resolveDatabaseUrl } from "../repo/database-url.js";
import { actionRoot } from "./shared/workspace.js";

/**
 * actions/migrate: applies (or rolls back) the migrations up to a release on an environment's
 * database. The URL comes from the variable the environment's pin names — never from an input,
 * which could be logged — and is masked before anything runs.
 */
async function run(): Promise<void> {
  const root = actionRoot();
  const environment = core.getInput("environment", { required: true });
  const database = resolveDatabaseUrl({ root, environment, env: process.env });
  core.setSecret(database.url);
  const password = safePassword(database.url);
  if (password) core.setSecret(password);

  const release = core.getInput("release", { required: true });
  const target = release.replace(/\/+$/, "").split("/").pop() ?? release;
  const dryRun = core.getBooleanInput("dry-run");
  if (target === EMPTY_DATABASE && !dryRun && !core.getBooleanInput("yes")) {
    throw new UsageError(
      "release: none rolls back every migration of the database, dropping what they created",
      { hint: "set the input yes: true to confirm it" },
    );
  }
  const lockWait = Number(core.getInput("lock-wait") || "0");
  const historySchema = core.getInput("history-schema");
  const result = await migrate({
    root,
    target,
    databaseUrl: database.url,
    dryRun,
    lockWaitMs: lockWait,
    ...(historySchema ? { history: { schema: historySchema } } : {}),
    appliedBy: `${process.env.GITHUB_ACTOR ?? "github-actions"} (${process.env.GITHUB_WORKFLOW ?? "workflow"} #${process.env.GITHUB_RUN_NUMBER ?? "?"})`,
    onProgress: (event) => core.info(event.message),
    // A workflow never runs a file that was not signed; OpenPGP loads only when a release has
    // files to run (DESIGN §7: cold start).
    verifyRelease: async (folder) =>
      (await import("../trust/verify-release.js")).releaseVerifier(root)(folder),
  });
  core.setOutput("from", result.from ?? "none");
  core.setOutput("to", result.to);
  core.setOutput("applied", result.steps.filter((s) => s.status === "applied").length);
  await core.summary.addRaw(renderMigrationSummary(result, environment), true).write();
}

function safePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
