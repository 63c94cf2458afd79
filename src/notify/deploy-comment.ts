/**
 * The sticky deploy comment on the promotion PR: what the last deploy of the environment did,
 * in a few lines, under a hidden marker naming the environment. Each deploy rewrites the same
 * comment (one per environment), so a PR never collects a pile of them.
 */

import { formatInstant } from "../core/gates/format-instant.js";
import type { DeployReport, StepRecord } from "../deploy/deploy-report.js";
import type { CommentInfo, Forge } from "../github/forge.js";
import {
  CRITICAL_MARK,
  deployElapsed,
  describeRevert,
  formatElapsed,
  inline,
  OUTCOME_ICON,
  OUTCOME_WORD,
  STEP_ICON,
  safeUrl,
  VERDICT_ICON,
} from "./deploy-summary.js";

/** Errors longer than this are cut in the comment (the job summary has them whole). */
const ERROR_LIMIT = 1000;

/** Environment names are [a-z0-9-]; anything else is dropped so the marker stays one token. */
function markerName(environment: string): string {
  return environment.replace(/[^A-Za-z0-9._-]/g, "");
}

/** The hidden line that identifies the comment: `<!-- pinline:deploy environment=qa -->`. */
export function deployMarker(environment: string): string {
  return `<!-- pinline:deploy environment=${markerName(environment)} -->`;
}

/** Whether a comment body is the deploy comment of the environment. */
export function isDeployComment(body: string, environment: string): boolean {
  return body.split(/\r?\n/).some((line) => line.trim() === deployMarker(environment));
}

function stepLine(steps: readonly StepRecord[]): string {
  return steps
    .map(
      (step) =>
        `${STEP_ICON[step.status]} ${inline(step.name)}${step.status === "skipped" ? "" : ` ${formatElapsed(step.durationMs)}`}`,
    )
    .join(" → ");
}

export function renderDeployComment(report: DeployReport): string {
  const lines = [
    deployMarker(report.environment),
    `### ${OUTCOME_ICON[report.outcome]} ${inline(report.environment)}: ${inline(report.from)} → ${inline(report.to)} ${OUTCOME_WORD[report.outcome]}`,
    "",
  ];
  const critical = report.rollback?.critical;
  if (critical) {
    const text = critical.length > ERROR_LIMIT ? `${critical.slice(0, ERROR_LIMIT)}…` : critical;
    lines.push(`> **${CRITICAL_MARK}:** ${inline(text)}`, "");
  }
  if (report.error) {
    const error =
      report.error.length > ERROR_LIMIT ? `${report.error.slice(0, ERROR_LIMIT)}…` : report.error;
    lines.push(`> ${inline(error)}`, "");
  }
  if (report.steps.length > 0) lines.push(`Steps: ${stepLine(report.steps)}`, "");
  const last = report.measurements.at(-1);
  if (last) {
    const problems = last.problems.length > 0 ? ` (${inline(last.problems.join("; "))})` : "";
    lines.push(
      `Health: ${report.measurements.filter((m) => m.verdict === "pass").length} of ${report.measurements.length} rounds pass; last ${VERDICT_ICON[last.verdict]} ${last.verdict}${problems}`,
      "",
    );
  }
  if (report.rollback) {
    const revert = describeRevert(report);
    const steps =
      report.rollback.steps.length > 0 ? stepLine(report.rollback.steps) : "no step ran";
    lines.push(`Rollback: ${steps}${revert ? ` · revert ${revert}` : ""}`, "");
  }
  const run = safeUrl(report.runUrl);
  lines.push(
    `<sub>${formatInstant(report.startedAt)} · took ${formatElapsed(deployElapsed(report))}${run ? ` · [workflow run](${run})` : ""} · this comment is updated by every deploy of ${inline(report.environment)}</sub>`,
  );
  return lines.join("\n");
}

/** What upsertDeployComment needs of the forge. */
export type CommentForge = Pick<Forge, "listComments" | "createComment" | "updateComment">;

/**
 * Writes the deploy comment on the PR: updates the environment's comment in place when there
 * is one (the oldest, should there be several), creates it otherwise. Running it twice leaves
 * one comment.
 */
export async function upsertDeployComment(
  forge: CommentForge,
  pullRequest: number,
  report: DeployReport,
): Promise<{ id: number; created: boolean }> {
  const body = renderDeployComment(report);
  const comments: CommentInfo[] = await forge.listComments(pullRequest);
  const existing = comments.find((comment) => isDeployComment(comment.body, report.environment));
  if (existing) {
    if (existing.body !== body) await forge.updateComment(existing.id, body);
    return { id: existing.id, created: false };
  }
  const created = await forge.createComment(pullRequest, body);
  return { id: created.id, created: true };
}
