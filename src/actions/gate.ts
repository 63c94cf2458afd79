import * as core from "@actions/core";
import { PinlineError } from "../core/errors.js";
import { type GateRun, gatePullRequest } from "../gate/evaluate-pull-request.js";
import { renderGateSummary } from "../notify/gate-summary.js";
import { actionForge, actionRoot, readEvent, runUrl } from "./shared/github-context.js";

/**
 * actions/gate: on pull_request and pull_request_review, judges that PR; on a schedule (or a
 * manual run without `pr`), every open PR that changes a pin — so soak and maintenance windows
 * clear without anyone pushing. Each PR gets one `pinline/gate` check run. The step fails when
 * a PR is blocked; waiting is not a failure.
 */
async function run(): Promise<void> {
  const root = actionRoot();
  const forge = actionForge(root);
  const event = readEvent() as {
    action?: string;
    sender?: { login?: string };
    pull_request?: { number?: number; head?: { sha?: string } };
  };
  // A push to the PR's branch arrives as opened / synchronize / reopened, sent by the pusher.
  const pushed = ["opened", "synchronize", "reopened"].includes(event.action ?? "");
  const sha = event.pull_request?.head?.sha;
  const login = event.sender?.login;
  const pushedBy = pushed && sha && login ? { sha, login } : undefined;
  const given = core.getInput("pr");
  let numbers: number[];
  if (given) numbers = [Number(given)];
  else if (event.pull_request?.number) numbers = [event.pull_request.number];
  else {
    const open = await forge.listOpenPullRequests();
    numbers = [];
    for (const pull of open) {
      const files = await forge.listPullRequestFiles(pull.number);
      if (files.some((f) => f.path.startsWith("environments/"))) numbers.push(pull.number);
    }
    core.info(`open PRs changing pins: ${numbers.map((n) => `#${n}`).join(", ") || "none"}`);
  }
  const runs: GateRun[] = [];
  for (const number of numbers) {
    const result = await gatePullRequest({ root, forge, number, detailsUrl: runUrl(), pushedBy });
    core.info(`#${number}: ${result.report.status}`);
    runs.push(result);
    core.summary.addRaw(
      `## pinline gate: PR #${number}\n\n${renderGateSummary(result.report)}\n\n`,
    );
  }
  await core.summary.write();
  const statuses = runs.map((r) => r.report.status);
  const status = statuses.includes("fail")
    ? "fail"
    : statuses.includes("waiting")
      ? "waiting"
      : "pass";
  core.setOutput("status", status);
  core.setOutput("pull-requests", numbers.join(","));
  const blocked = runs
    .filter((r) => r.report.status === "fail")
    .map((r) => `#${r.pullRequest.number}`);
  if (blocked.length > 0)
    core.setFailed(`pinline gate: blocked: ${blocked.join(", ")} (see the pinline/gate check)`);
}

run().catch((error: unknown) => {
  core.setFailed(error instanceof PinlineError ? error.describe() : String(error));
});
