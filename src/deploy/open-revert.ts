/**
 * The rollback manager's last word (specification section 5): the pull request that restores
 * the previous pin, `pinline:revert`, on the branch `pinline/revert/<env>` — found and updated,
 * never opened twice for one failure — and merged at once when the policy's
 * `rollback.automatic` allows. Without GitHub (the demo) the revert is a local commit instead.
 * `pinline revert <env>` opens the same PR by hand (the specification's manual rollback).
 */
import type { Forge, PullRequestInfo } from "../github/forge.js";
import { CRITICAL_MARK } from "../notify/deploy-summary.js";
import { cell } from "../notify/markdown.js";
import { commitPinChange } from "../promote/commit-pin-change.js";
import { proposePinChange } from "../promote/propose-pin-change.js";
import type { HealthMeasurement } from "./deploy-report.js";

export const REVERT_LABEL = "pinline:revert";

export function revertBranch(environment: string): string {
  return `pinline/revert/${environment}`;
}

export interface RevertRequest {
  environment: string;
  /** environments/<name>.yaml */
  file: string;
  /** The version that failed. */
  from: string;
  /** The version to go back to. */
  to: string;
  /** Why, in one sentence: the failing step or check. */
  reason: string;
  measurements?: readonly HealthMeasurement[] | undefined;
  runUrl?: string | undefined;
  /** The rollback left no healthy version (DeployReport's rollback.critical): said first. */
  critical?: string | undefined;
}

export function renderRevertTitle(request: RevertRequest): string {
  return `Revert ${request.environment} to ${request.to}`;
}

export function renderRevertBody(request: RevertRequest): string {
  const lines = [
    `<!-- pinline:revert environment=${request.environment} from=${request.from} to=${request.to} -->`,
    `**${request.from}** failed on **${request.environment}**; this restores \`version: "${request.to}"\` in \`${request.file}\`.`,
    "",
    ...(request.critical
      ? ["> [!CAUTION]", `> **${CRITICAL_MARK}:** ${cell(request.critical)}`, ""]
      : []),
    `**Why:** ${request.reason}`,
    "",
  ];
  const failed = (request.measurements ?? []).filter((m) => m.verdict !== "pass").slice(-10);
  if (failed.length > 0) {
    lines.push("| Time | Verdict | Problems |", "|---|---|---|");
    for (const m of failed) {
      lines.push(`| ${m.at.toISOString()} | ${m.verdict} | ${cell(m.problems.join("; "))} |`);
    }
    lines.push("");
  }
  if (request.runUrl) lines.push(`The failed deploy: ${request.runUrl}`, "");
  lines.push(
    `A revert to a version ${request.environment} ran before is not held to soak, stage order or the maintenance window; approvals, signatures and blocked versions still apply.`,
  );
  return lines.join("\n");
}

export interface RevertResult {
  pullRequest: PullRequestInfo;
  action: "created" | "updated" | "unchanged";
  merged: boolean;
  /** Why an automatic merge did not happen (GitHub refused it). */
  mergeError?: string | undefined;
}

export async function openRevert(input: {
  forge: Forge;
  request: RevertRequest;
  base?: string | undefined;
  /** Merge right away (the policy's rollback.automatic). */
  merge: boolean;
}): Promise<RevertResult> {
  const { request } = input;
  const proposal = await proposePinChange({
    forge: input.forge,
    file: request.file,
    version: request.to,
    branch: revertBranch(request.environment),
    base: input.base ?? "main",
    title: renderRevertTitle(request),
    message: `${request.from} → ${request.to}: ${request.reason}`,
    body: renderRevertBody(request),
    label: REVERT_LABEL,
  });
  if (!input.merge) return { ...proposal, merged: false };
  try {
    await input.forge.mergePullRequest(proposal.pullRequest.number, "squash");
    return { ...proposal, merged: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...proposal, merged: false, mergeError: message };
  }
}

/** Without GitHub: the revert as a commit in the local checkout. */
export function commitRevert(input: { root: string; request: RevertRequest }): Promise<{
  commit: string;
}> {
  const { request } = input;
  return commitPinChange({
    root: input.root,
    file: request.file,
    version: request.to,
    message: `${renderRevertTitle(request)}\n\n${request.from} → ${request.to}: ${request.reason}`,
  });
}
