import * as core from "@actions/core";
import { describeFailure } from "../github/describe-github-error.js";
import { runUpdateCheck } from "../promote/update-check.js";
import { actionForge, actionRoot } from "./shared/github-context.js";

/** actions/update-check: one promotion PR per environment that has a newer eligible release. */
async function run(): Promise<void> {
  const root = actionRoot();
  const only = core
    .getInput("environments")
    .split(/[\s,]+/)
    .filter(Boolean);
  const outcomes = await runUpdateCheck({
    root,
    forge: actionForge(root),
    now: new Date(),
    base: core.getInput("base") || "main",
    environments: only.length > 0 ? only : undefined,
  });
  for (const o of outcomes) core.info(`${o.environment}: ${o.action} — ${o.reason}`);
  core.setOutput("outcomes", JSON.stringify(outcomes));
  core.setOutput(
    "pull-requests",
    outcomes
      .flatMap((o) => (o.pullRequest && o.action !== "closed" ? [o.pullRequest] : []))
      .join(","),
  );
  await core.summary
    .addHeading("pinline update-check", 2)
    .addTable([
      ["Environment", "Runs", "Action", "Version", "PR", "Auto-merge", "Why"].map((data) => ({
        data,
        header: true,
      })),
      ...outcomes.map((o) => [
        o.environment,
        o.current,
        o.action,
        o.version ?? "",
        o.pullRequest ? `#${o.pullRequest}` : "",
        o.autoMerge ? "on" : "",
        o.reason,
      ]),
    ])
    .write();
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
