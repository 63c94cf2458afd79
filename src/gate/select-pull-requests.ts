/**
 * Which pull requests a gate run judges, by the event that started it (DESIGN §2, §6). Only
 * events whose workflow comes from the default branch may start the gate: on `pull_request` or
 * `pull_request_review` the PR's own copy of the workflow runs, so the gate refuses them.
 * Nothing an event carries is trusted beyond naming what to look at: every fact is read again
 * from GitHub's API.
 */
import { UsageError } from "../core/errors.js";
import type { Forge, PullRequestInfo } from "../github/forge.js";

/** Events the gate runs on: each runs the default branch's workflow file. */
export const TRUSTED_EVENTS = [
  "pull_request_target",
  "workflow_run",
  "schedule",
  "workflow_dispatch",
  "push",
] as const;

export interface GateEvent {
  name: string;
  payload: {
    pull_request?: { number?: unknown };
    workflow_run?: { head_sha?: unknown };
  };
  /** A PR named by hand (the `pr` input). */
  pr?: number | undefined;
}

export interface Selection {
  numbers: number[];
  /** How they were chosen, for the log. */
  why: string;
  /** The open pull requests, when choosing needed the list (so judging need not read it again). */
  open?: PullRequestInfo[] | undefined;
}

export async function selectPullRequests(forge: Forge, event: GateEvent): Promise<Selection> {
  if (!(TRUSTED_EVENTS as readonly string[]).includes(event.name)) {
    throw new UsageError(
      `the gate does not run on ${event.name || "an unknown event"}: on pull_request and pull_request_review GitHub runs the pull request's own copy of the workflow, which a writer can change`,
      {
        hint: "trigger it with pull_request_target, workflow_run (after the review relay), schedule or workflow_dispatch, as .github/workflows/gate.yml does",
      },
    );
  }
  if (event.pr !== undefined) return { numbers: [event.pr], why: `#${event.pr} (given)` };
  const number = event.payload.pull_request?.number;
  if (event.name === "pull_request_target") {
    if (typeof number !== "number")
      throw new UsageError("the pull_request_target event names no pull request");
    return { numbers: [number], why: `#${number} (${event.name})` };
  }
  const open = await forge.listOpenPullRequests();
  if (event.name === "workflow_run") {
    // The relayed run names a head commit; which PRs have it comes from the API, so a forged
    // relay can at most make the gate judge a PR once more.
    const sha = event.payload.workflow_run?.head_sha;
    const numbers = open.filter((pull) => pull.headSha === sha).map((pull) => pull.number);
    return {
      numbers,
      open,
      why: `open PRs whose head is ${typeof sha === "string" ? sha.slice(0, 7) : "(none)"}: ${numbers.map((n) => `#${n}`).join(", ") || "none"}`,
    };
  }
  const numbers = open.map((pull) => pull.number).sort((a, b) => a - b);
  return {
    numbers,
    open,
    why: `every open PR: ${numbers.map((n) => `#${n}`).join(", ") || "none"}`,
  };
}
