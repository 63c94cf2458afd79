import { resolve } from "node:path";
import * as core from "@actions/core";
import { describeFailure } from "../github/describe-github-error.js";
import { renderVerificationSummary } from "../notify/verification-summary.js";
import { describeKeyringProblem } from "../trust/keyring.js";
import { verifyRelease } from "../trust/verify-release.js";
import { actionRoot, actionWorkspace } from "./shared/workspace.js";

/**
 * actions/verify: the release's signatures against keys/ and the policy's threshold, and with
 * `artifacts`, every component against its size and sha256. Fails the step when either fails.
 */
async function run(): Promise<void> {
  const root = actionRoot();
  const artifacts = core.getInput("artifacts");
  const result = await verifyRelease({
    root,
    releaseDir: resolve(root, core.getInput("release", { required: true })),
    ...(artifacts ? { artifactsDir: resolve(actionWorkspace(), artifacts) } : {}),
    ...(core.getBooleanInput("fetch") ? { fetch: true } : {}),
  });
  core.setOutput("ok", result.ok);
  core.setOutput("valid-signatures", result.signatures.validKeys.length);
  core.setOutput("threshold", result.signatures.threshold);
  for (const problem of result.keyProblems) {
    const annotate = problem.severity === "error" ? core.error : core.warning;
    annotate(describeKeyringProblem(problem), {
      file: problem.file,
      ...(problem.line !== undefined ? { startLine: problem.line } : {}),
    });
  }
  await core.summary.addRaw(renderVerificationSummary(result), true).write();
  if (!result.ok) {
    core.error(result.summary, { title: "pinline verify", file: result.file, startLine: 1 });
    core.setFailed(`pinline verify: ${result.file}: ${result.summary}`);
  }
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
