import { availableParallelism } from "node:os";
import { relative, resolve } from "node:path";
import * as core from "@actions/core";
import { describeFailure } from "../github/describe-github-error.js";
import { renderValidationSummary } from "../notify/validation-summary.js";
import { validateTree } from "../repo/validate-tree.js";
import { actionRoot, actionWorkspace } from "./shared/workspace.js";

/**
 * actions/validate: annotations at file:line:col for every finding, a job summary with the
 * table and the rollout picture, and `errors`/`warnings` outputs. Fails the step on errors.
 */
async function run(): Promise<void> {
  const workspace = actionWorkspace();
  const root = actionRoot();
  const report = await validateTree(root, { jobs: availableParallelism() });
  const repoPath = (file: string) => relative(workspace, resolve(root, file)).split("\\").join("/");

  for (const f of report.findings) {
    const properties = {
      title: `pinline validate: ${f.rule}`,
      file: repoPath(f.file),
      startLine: f.line,
      startColumn: f.column,
    };
    const message = f.hint ? `${f.message} (${f.hint})` : f.message;
    if (f.severity === "error") core.error(message, properties);
    else core.warning(message, properties);
  }

  const server = process.env.GITHUB_SERVER_URL;
  const repository = process.env.GITHUB_REPOSITORY;
  const sha = process.env.GITHUB_SHA;
  const link =
    server && repository && sha
      ? (f: { file: string; line: number }) =>
          `${server}/${repository}/blob/${sha}/${repoPath(f.file)}#L${f.line}`
      : undefined;
  await core.summary.addRaw(renderValidationSummary(report, link), true).write();

  core.setOutput("errors", report.errors);
  core.setOutput("warnings", report.warnings);
  if (report.errors > 0) {
    core.setFailed(
      `pinline validate: ${report.errors} error${report.errors === 1 ? "" : "s"} (see the annotations and the job summary)`,
    );
  }
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
