/**
 * The `pinline/gate` check run (and `pinline plan`'s Markdown): for every pin the PR changes,
 * a table of every rule — verdict, reason, and when a waiting rule clears — and a mermaid
 * picture of the rollout with the version's position in it.
 */

import type { ConfigurationChange } from "../core/gates/configuration.js";
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

/** A configuration change and the approvals it needs. */
export interface ConfigurationEvaluation {
  changes: ConfigurationChange[];
  verdicts: GateVerdict[];
  status: GateStatus;
}

/** Another open PR whose head is the same commit: GitHub reads required checks by commit. */
export interface SharedHead {
  number: number;
  baseRef: string;
  status: GateStatus;
  title: string;
}

export interface GateReport {
  status: GateStatus;
  evaluations: PinEvaluation[];
  /** Problems with the PR as a whole (mixed changes, unreadable pins, an unprotected base). */
  problems: string[];
  /** The configuration change the PR makes, when it makes one. */
  configuration?: ConfigurationEvaluation | undefined;
  /** The other open PRs with this head commit; the check run carries the worst verdict. */
  sharedWith?: SharedHead[] | undefined;
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

/** Every verdict of the report: each pin's rules and the configuration approvals. */
function allVerdicts(report: GateReport): GateVerdict[] {
  return [
    ...report.evaluations.flatMap((e) => e.verdicts),
    ...(report.configuration?.verdicts ?? []),
  ];
}

export const NOTHING_GATED = "No environment pin or configuration changed";

/** One line for the check run's title. */
export function renderGateTitle(report: GateReport): string {
  const moves = report.evaluations.map((e) => `${e.environment} → ${e.to}`).join(", ");
  if (
    report.evaluations.length === 0 &&
    report.problems.length === 0 &&
    !report.configuration &&
    report.status === "pass"
  ) {
    return NOTHING_GATED;
  }
  const subject =
    [moves, report.configuration ? "configuration change" : ""].filter(Boolean).join(", ") ||
    "pull request";
  const rules = (status: GateStatus) => [
    ...new Set(
      allVerdicts(report)
        .filter((v) => v.status === status)
        .map((v) => v.rule),
    ),
  ];
  /** Other PRs with this head that hold the verdict back ("#12 into main"). */
  const sharing = (status: GateStatus) =>
    (report.sharedWith ?? [])
      .filter((other) => other.status === status)
      .map((other) => `#${other.number} into ${other.baseRef}`);
  switch (report.status) {
    case "pass":
      return `${subject}: every rule passes`;
    case "fail": {
      const failed = [...rules("fail"), ...sharing("fail")];
      return failed.length > 0
        ? `${subject}: blocked by ${failed.join(", ")}`
        : `${subject}: cannot pass as it is`;
    }
    case "waiting": {
      const waits = [...rules("waiting"), ...sharing("waiting")];
      const until = report.until ? ` until ${formatInstant(report.until)}` : "";
      const what = waits.length > 0 ? waits.join(", ") : "a fresh look at the base branch";
      return `${subject}: waiting on ${what}${until}`;
    }
  }
}

function renderTable(evaluation: { verdicts: readonly GateVerdict[] }): string[] {
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
  if (report.evaluations.length === 0 && report.problems.length === 0 && !report.configuration) {
    lines.push(
      "This pull request changes no environment pin and no configuration the gate trusts: nothing to gate.",
    );
  }
  const configuration = report.configuration;
  if (configuration) {
    lines.push(
      `### ${STATUS_ICON[configuration.status]} Configuration change — ${STATUS_WORD[configuration.status]}`,
      "",
      "| File | Change |",
      "|---|---|",
      ...configuration.changes.map(
        (change) => `| ${cell(change.file)} | ${cell(change.description)} |`,
      ),
      "",
      ...renderTable(configuration),
      "",
    );
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
  if (report.sharedWith && report.sharedWith.length > 0) {
    lines.push(
      "### Other pull requests with this head commit",
      "",
      "GitHub reads required checks by commit, so this check carries the worst verdict of every open pull request whose head is this commit.",
      "",
      "| Pull request | Base | Verdict | Why |",
      "|---|---|---|---|",
      ...report.sharedWith.map(
        (other) =>
          `| #${other.number} | ${cell(other.baseRef)} | ${STATUS_ICON[other.status]} ${STATUS_WORD[other.status]} | ${cell(other.title)} |`,
      ),
      "",
    );
  }
  for (const note of report.notes ?? []) lines.push(`> [!NOTE]\n> ${note}`, "");
  lines.push(
    "<sub>Re-evaluated on every push, review and on a schedule (soak and maintenance windows clear with time). Policies, releases, keys and pin history are read from the base branch; a changed verdict is a new check run.</sub>",
  );
  const text = lines.join("\n");
  return text.length <= SUMMARY_LIMIT
    ? text
    : `${text.slice(0, SUMMARY_LIMIT)}\n\n… (cut at ${SUMMARY_LIMIT} characters)`;
}
