/**
 * The `pinline/gate` check run (and `pinline plan`'s Markdown): for every pin the PR changes,
 * a table of every rule — verdict, reason, and when a waiting rule clears — and a mermaid
 * picture of the rollout with the version's position in it.
 */

import { sameVersion } from "../core/gates/describe-change.js";
import { formatInstant } from "../core/gates/format-instant.js";
import type { GateStatus, GateVerdict } from "../core/gates/gate-input.js";
import type { RolloutStage } from "../core/schema-types.js";
import { cell, mermaidText } from "./markdown.js";

export interface PinEvaluation {
  environment: string;
  file: string;
  stage: string;
  from: string;
  to: string;
  verdicts: GateVerdict[];
  status: GateStatus;
  /** When a waiting evaluation clears by itself. */
  until?: Date | undefined;
}

export interface GateReport {
  status: GateStatus;
  evaluations: PinEvaluation[];
  /** Problems with the PR as a whole (files outside environments/, unreadable pins). */
  problems: string[];
  stages: RolloutStage[];
  /** Every environment of the base branch with its stage and version. */
  pins: { name: string; stage: string; version: string }[];
  until?: Date | undefined;
  /** What a reader should know that changes no verdict (a stale checkout). */
  notes?: string[] | undefined;
}

export const STATUS_ICON: Record<GateStatus, string> = { pass: "✅", waiting: "⏳", fail: "❌" };
const STATUS_WORD: Record<GateStatus, string> = { pass: "pass", waiting: "waiting", fail: "fail" };

/** GitHub refuses check run summaries over 65,535 characters. */
const SUMMARY_LIMIT = 65_000;

/** One line for the check run's title. */
export function renderGateTitle(report: GateReport): string {
  const moves = report.evaluations.map((e) => `${e.environment} → ${e.to}`).join(", ");
  if (report.evaluations.length === 0 && report.problems.length === 0) {
    return "No environment pin changed";
  }
  const subject = moves || "promotion";
  switch (report.status) {
    case "pass":
      return `${subject}: every rule passes`;
    case "fail": {
      const failed = report.evaluations.flatMap((e) =>
        e.verdicts.filter((v) => v.status === "fail").map((v) => v.rule),
      );
      const what = failed.length > 0 ? [...new Set(failed)].join(", ") : "the PR";
      return `${subject}: blocked by ${what}`;
    }
    case "waiting": {
      const waits = report.evaluations.flatMap((e) =>
        e.verdicts.filter((v) => v.status === "waiting").map((v) => v.rule),
      );
      const until = report.until ? ` until ${formatInstant(report.until)}` : "";
      return `${subject}: waiting on ${[...new Set(waits)].join(", ")}${until}`;
    }
  }
}

function renderTable(evaluation: PinEvaluation): string[] {
  const lines = ["| Rule | Verdict | Reason | Waiting until |", "|---|---|---|---|"];
  for (const verdict of evaluation.verdicts) {
    const until = verdict.until ? formatInstant(verdict.until) : "";
    lines.push(
      `| ${cell(verdict.rule)} | ${STATUS_ICON[verdict.status]} ${STATUS_WORD[verdict.status]} | ${cell(verdict.reason)} | ${until} |`,
    );
  }
  return lines;
}

const STATUS_STYLE: Record<GateStatus, string> = {
  pass: "fill:#d4edda,stroke:#28a745,stroke-width:3px",
  waiting: "fill:#fff3cd,stroke:#d39e00,stroke-width:3px",
  fail: "fill:#f8d7da,stroke:#dc3545,stroke-width:3px",
};

/** The rollout as a flowchart: each stage with its pins, the target stage coloured by verdict. */
export function renderStagePicture(
  stages: readonly RolloutStage[],
  pins: GateReport["pins"],
  evaluation: PinEvaluation,
): string[] {
  if (stages.length === 0) return [];
  const out = ["```mermaid", "flowchart LR"];
  const running: number[] = [];
  let target = -1;
  stages.forEach((stage, index) => {
    const lines = pins
      .filter((pin) => pin.stage === stage.name)
      .map((pin) =>
        pin.name === evaluation.environment
          ? `${pin.name}: ${evaluation.from} → <b>${evaluation.to}</b>`
          : `${pin.name}: ${pin.version}`,
      );
    if (stage.name === evaluation.stage) target = index;
    else if (
      pins.some((pin) => pin.stage === stage.name && sameVersion(pin.version, evaluation.to))
    ) {
      running.push(index);
    }
    const soak = stage.soak ? `, soak ${stage.soak}` : "";
    const label = [`<b>${stage.name}</b>`, `${stage.traffic}%${soak}`, ...lines].join("<br/>");
    out.push(`  s${index}["${mermaidText(label)}"]`);
    if (index > 0) out.push(`  s${index - 1} --> s${index}`);
  });
  for (const index of running) out.push(`  style s${index} fill:#e7f1ff,stroke:#0366d6`);
  if (target >= 0) out.push(`  style s${target} ${STATUS_STYLE[evaluation.status]}`);
  out.push("```");
  return out;
}

export function renderGateSummary(report: GateReport): string {
  const lines: string[] = [];
  if (report.problems.length > 0) {
    lines.push("### ❌ This pull request cannot be gated as it is", "");
    for (const problem of report.problems) lines.push(`- ${problem}`);
    lines.push("");
  }
  if (report.evaluations.length === 0 && report.problems.length === 0) {
    lines.push("This pull request changes no environment pin: nothing to gate.");
  }
  for (const evaluation of report.evaluations) {
    const until = evaluation.until ? ` until ${formatInstant(evaluation.until)}` : "";
    lines.push(
      `### ${STATUS_ICON[evaluation.status]} ${evaluation.environment}: ${evaluation.from} → ${evaluation.to} — ${STATUS_WORD[evaluation.status]}${evaluation.status === "waiting" ? until : ""}`,
      "",
      ...renderTable(evaluation),
      "",
      ...renderStagePicture(report.stages, report.pins, evaluation),
      "",
    );
  }
  for (const note of report.notes ?? []) lines.push(`> [!NOTE]\n> ${note}`, "");
  lines.push(
    "<sub>Re-evaluated on every push, review and on a schedule (soak and maintenance windows clear with time). Policies are read from the base branch.</sub>",
  );
  const text = lines.join("\n");
  return text.length <= SUMMARY_LIMIT
    ? text
    : `${text.slice(0, SUMMARY_LIMIT)}\n\n… (cut at ${SUMMARY_LIMIT} characters)`;
}
