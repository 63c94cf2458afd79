import * as core from "@actions/core";
import { changedPins } from "../deploy/changed-pins.js";
import { describeFailure } from "../github/describe-github-error.js";
import { actionRoot, readEvent } from "./shared/github-context.js";

/** actions/changed-pins: the environments a push changed, as a JSON list for a matrix. */
async function run(): Promise<void> {
  const event = readEvent() as { before?: string; after?: string };
  const after = event.after ?? process.env.GITHUB_SHA ?? "HEAD";
  const environments = await changedPins(actionRoot(), event.before ?? "", after);
  core.info(`changed pins: ${environments.join(", ") || "none"}`);
  core.setOutput("environments", JSON.stringify(environments));
  core.setOutput("any", environments.length > 0);
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
