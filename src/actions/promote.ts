import * as core from "@actions/core";
import { describeFailure } from "../github/describe-github-error.js";
import { openPromotion } from "../promote/open-promotion.js";
import { actionForge, actionRoot } from "./shared/github-context.js";

/** actions/promote: opens (or updates) the promotion PR for one environment and version. */
async function run(): Promise<void> {
  const root = actionRoot();
  const result = await openPromotion({
    root,
    forge: actionForge(root),
    environment: core.getInput("environment", { required: true }),
    version: core.getInput("version", { required: true }),
    base: core.getInput("base") || "main",
    openedBy: `pinline promote (${process.env.GITHUB_ACTOR ?? "workflow"})`,
    retry: core.getBooleanInput("retry"),
  });
  core.setOutput("pull-request", result.pullRequest.number);
  core.setOutput("action", result.action);
  core.info(`${result.action} PR #${result.pullRequest.number}: ${result.pullRequest.htmlUrl}`);
  await core.summary
    .addHeading("pinline promote", 2)
    .addTable([
      [
        { data: "Environment", header: true },
        { data: "From", header: true },
        { data: "To", header: true },
        { data: "PR", header: true },
        { data: "Action", header: true },
      ],
      [
        core.getInput("environment"),
        result.from,
        result.to,
        `<a href="${result.pullRequest.htmlUrl}">#${result.pullRequest.number}</a>`,
        result.action,
      ],
    ])
    .write();
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
