import { resolve } from "node:path";
import * as core from "@actions/core";
import type { EnvironmentPin } from "../core/schema-types.js";
import { deployEnvironment } from "../deploy/deploy-environment.js";
import { describeFailure } from "../github/describe-github-error.js";
import { renderDeploySummary } from "../notify/deploy-summary.js";
import { buildCatalog } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { actionForge, actionRoot, runUrl } from "./shared/github-context.js";
import { actionWorkspace } from "./shared/workspace.js";

/** Every secret the pin names, masked before anything can print it. */
function maskSecrets(pin: EnvironmentPin | undefined): void {
  const names = [pin?.database?.urlEnv, pin?.notify?.slack, pin?.notify?.teams, "PINLINE_SMTP_URL"];
  for (const name of names) {
    const value = name ? process.env[name] : undefined;
    if (value) core.setSecret(value);
  }
}

/** The backup-dir input, in the workspace (default: the deploy's, RUNNER_TEMP/pinline-backups). */
function backupDir(): string | undefined {
  const input = core.getInput("backup-dir");
  return input ? resolve(actionWorkspace(), input) : undefined;
}

/**
 * actions/deploy: the deploy flow for one environment (the workflow fans out over the pins a
 * push changed, one concurrency group each). Fails the step unless the new version is healthy.
 */
async function run(): Promise<void> {
  const root = actionRoot();
  const environment = core.getInput("environment", { required: true });
  const pin = buildCatalog(await loadTree(root)).environments.get(environment)?.data;
  maskSecrets(pin);
  const report = await deployEnvironment({
    root,
    environment,
    forge: actionForge(root),
    ref: process.env.GITHUB_SHA,
    previous: core.getInput("previous") || undefined,
    runUrl: runUrl(),
    pullRequest: Number(core.getInput("pull-request")) || undefined,
    backupDir: backupDir(),
    log: (line) => core.info(line),
  });
  await core.summary.addRaw(renderDeploySummary(report), true).write();
  core.setOutput("outcome", report.outcome);
  core.setOutput("from", report.from);
  core.setOutput("to", report.to);
  if (report.backup?.file) core.setOutput("backup-file", report.backup.file);
  if (report.rollback?.revert?.pullRequest) {
    core.setOutput("revert-pull-request", report.rollback.revert.pullRequest);
  }
  if (report.outcome !== "success") {
    core.setFailed(`pinline deploy ${environment}: ${report.outcome}: ${report.error ?? ""}`);
  }
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
