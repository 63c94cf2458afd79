import * as core from "@actions/core";
import { worstStatus } from "../core/gates/registry.js";
import { type GateRun, gatePullRequest } from "../gate/evaluate-pull-request.js";
import { selectPullRequests } from "../gate/select-pull-requests.js";
import { describeFailure } from "../github/describe-github-error.js";
import { renderGateSummary } from "../notify/gate-summary.js";
import { actionForge, actionRoot, readEvent, runUrl } from "./shared/github-context.js";

function list(name: string): string[] {
  return core
    .getInput(name)
    .split(/[\s,]+/)
    .filter(Boolean);
}

/**
 * actions/gate: judges the PRs the event names (pull_request_target: that PR; workflow_run:
 * the open PRs with the relayed head; schedule, push, dispatch without `pr`: every open PR)
 * into one `pinline/gate` check run per head commit. The step fails when a PR is blocked;
 * waiting is not a failure.
 */
async function run(): Promise<void> {
  const root = actionRoot();
  const forge = actionForge(root);
  const given = core.getInput("pr");
  const selection = await selectPullRequests(forge, {
    name: process.env.GITHUB_EVENT_NAME ?? "",
    payload: readEvent(),
    pr: given ? Number(given) : undefined,
  });
  core.info(`judging ${selection.why}`);
  const runs: GateRun[] = [];
  const judged = new Set<number>();
  for (const number of selection.numbers) {
    if (judged.has(number)) continue;
    const result = await gatePullRequest({
      root,
      forge,
      number,
      detailsUrl: runUrl(),
      protectedBranches: list("protected-branches"),
      configurationPaths: list("configuration-paths"),
      appSlug: core.getInput("app-slug") || undefined,
      openPullRequests: selection.open,
    });
    for (const n of [number, ...result.pullRequests]) judged.add(n);
    core.info(
      `#${number}: ${result.report.status} (check run ${result.checkRun?.action ?? "not written"})`,
    );
    runs.push(result);
    core.summary.addRaw(
      `## pinline gate: PR #${result.pullRequest.number}\n\n${renderGateSummary(result.report)}\n\n`,
    );
  }
  await core.summary.write();
  core.setOutput("status", worstStatus(runs.map((r) => r.report.status)));
  core.setOutput("pull-requests", [...judged].sort((a, b) => a - b).join(","));
  const blocked = runs
    .filter((r) => r.report.status === "fail")
    .map((r) => `#${r.pullRequest.number}`);
  if (blocked.length > 0) {
    core.setFailed(`pinline gate: blocked: ${blocked.join(", ")} (see the pinline/gate check)`);
  }
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
