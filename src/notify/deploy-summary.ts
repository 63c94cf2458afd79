/**
 * The job summary of a deploy: the outcome, every step with its timing, every health round
 * judged against the canary criteria, the rollback and its revert, and a mermaid gantt of the
 * steps on their real clock. The pieces other notifications share (titles, icons, elapsed
 * times) live here too, so a PR comment, a Slack message and an e-mail say the same thing.
 */
import { formatDuration } from "../core/duration.js";
import { formatInstant } from "../core/gates/format-instant.js";
import type { DeployReport, HealthMeasurement, StepRecord } from "../deploy/deploy-report.js";
import { cell, mermaidText, plural } from "./markdown.js";

type Outcome = DeployReport["outcome"];

export const OUTCOME_ICON: Record<Outcome, string> = {
  success: "✅",
  "rolled-back": "↩️",
  failed: "❌",
};

/** What happened to the version, as a past participle: "2.4.1 rolled back". */
export const OUTCOME_WORD: Record<Outcome, string> = {
  success: "deployed",
  "rolled-back": "rolled back",
  failed: "failed",
};

export const STEP_ICON: Record<StepRecord["status"], string> = {
  ok: "✅",
  failed: "❌",
  skipped: "➖",
};

export const VERDICT_ICON: Record<HealthMeasurement["verdict"], string> = {
  pass: "✅",
  fail: "❌",
  inconclusive: "❔",
};

/** The product the releases are of, in titles and e-mail subjects. */
export const DEFAULT_PRODUCT = "CM Diagnostics";

/** The health table shows this many rounds at most (the last ones). */
export const HEALTH_ROW_LIMIT = 30;

/** Marks what needs someone now: the environment may be running no healthy version. */
export const CRITICAL_MARK = "🚨 CRITICAL";

/**
 * One line for a title or subject: "CM Diagnostics 2.4.1 deployed to production-canary",
 * "… rolled back on …", "… failed on …"; "🚨 CRITICAL: …" first when the rollback left the
 * environment without a healthy version.
 */
export function deployTitle(report: DeployReport, product = DEFAULT_PRODUCT): string {
  const where = report.outcome === "success" ? "to" : "on";
  const critical = report.rollback?.critical ? `${CRITICAL_MARK}: ` : "";
  return `${critical}${product} ${report.to} ${OUTCOME_WORD[report.outcome]} ${where} ${report.environment}`;
}

/** How long something took, for people: "340ms", "12.3s", "4m12s", "1h2m5s". */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const whole = Math.round(ms);
  if (whole < 1000) return `${whole}ms`;
  if (whole < 59_950) return `${(whole / 1000).toFixed(1).replace(/\.0$/, "")}s`;
  return formatDuration(Math.round(whole / 1000) * 1000);
}

/** The deploy's wall-clock time, start to finish (rollback included). */
export function deployElapsed(report: DeployReport): number {
  return report.finishedAt.getTime() - report.startedAt.getTime();
}

/** Text safe in a Markdown table cell (and anywhere inline): one line, no pipes, no HTML. */
export function inline(text: string): string {
  return cell(text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"));
}

/** A link only when the URL is http(s); anything else (javascript:, garbage) is left out. */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** "[pull request #42](…) (merged)", "commit `3f2a9c1d8e7b`": where the revert is. */
export function describeRevert(report: DeployReport): string | undefined {
  const revert = report.rollback?.revert;
  if (!revert) return undefined;
  const parts: string[] = [];
  if (revert.pullRequest !== undefined) {
    const url = safeUrl(revert.url);
    const label = `pull request #${revert.pullRequest}`;
    parts.push(url ? `[${label}](${url})` : label);
  } else if (safeUrl(revert.url)) {
    parts.push(`[revert](${safeUrl(revert.url)})`);
  }
  if (revert.commit) parts.push(`commit \`${cell(revert.commit.replace(/`/g, "").slice(0, 12))}\``);
  if (revert.merged !== undefined) parts.push(revert.merged ? "(merged)" : "(not merged yet)");
  return parts.length > 0 ? parts.join(" ") : undefined;
}

/** The time of day of a measurement, UTC: "03:01:30". */
function timeOfDay(at: Date): string {
  return Number.isFinite(at.getTime()) ? at.toISOString().slice(11, 19) : "?";
}

function formatValue(value: number | undefined): string {
  if (value === undefined) return "—";
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function stepTable(steps: readonly StepRecord[]): string[] {
  return [
    "| Step | Status | Duration | Detail |",
    "|---|---|---:|---|",
    ...steps.map(
      (step) =>
        `| ${inline(step.name)} | ${STEP_ICON[step.status]} ${step.status} | ${step.status === "skipped" ? "" : formatElapsed(step.durationMs)} | ${inline(step.detail)} |`,
    ),
  ];
}

/** The criteria in the order they first appear. */
function criteriaOf(measurements: readonly HealthMeasurement[]): string[] {
  const names = new Set<string>();
  for (const m of measurements) for (const name of Object.keys(m.values)) names.add(name);
  return [...names];
}

function healthSection(measurements: readonly HealthMeasurement[]): string[] {
  const counts = (["pass", "fail", "inconclusive"] as const)
    .map((verdict) => [verdict, measurements.filter((m) => m.verdict === verdict).length] as const)
    .filter(([, n]) => n > 0)
    .map(([verdict, n]) => `${n} ${verdict}`);
  const lines = [
    `### Health: ${plural(measurements.length, "measurement")}${counts.length > 0 ? ` (${counts.join(", ")})` : ""}`,
    "",
  ];
  if (measurements.length === 0) return [...lines, "No health measurements were taken.", ""];
  const shown = measurements.slice(-HEALTH_ROW_LIMIT);
  if (shown.length < measurements.length) {
    lines.push(`_Showing the last ${shown.length} of ${measurements.length} measurements._`, "");
  }
  const criteria = criteriaOf(shown);
  lines.push(
    `| Time (UTC) | ${criteria.map(inline).join(" | ")} | Verdict |`,
    `|---|${criteria.map(() => "---:|").join("")}---|`,
  );
  for (const m of shown) {
    const values = criteria.map((name) => formatValue(m.values[name]));
    const problems = m.problems.length > 0 ? `: ${inline(m.problems.join("; "))}` : "";
    lines.push(
      `| ${timeOfDay(m.at)} | ${values.join(" | ")} | ${VERDICT_ICON[m.verdict]} ${m.verdict}${problems} |`,
    );
  }
  lines.push("");
  return lines;
}

/**
 * Text safe in a gantt title, section or task name: mermaid entity codes for the characters
 * its gantt grammar reads (`:` ends a task name, `#` and `;` start comments and end
 * statements) and, through mermaidText, for quotes; one line.
 */
export function ganttText(text: string): string {
  const codes: Record<string, string> = { "#": "#35;", ":": "#58;", ";": "#59;" };
  return mermaidText(text.replace(/\r?\n/g, " ").replace(/[#:;]/g, (c) => codes[c] ?? c));
}

function ganttTask(step: StepRecord): string | undefined {
  const start = step.startedAt.getTime();
  if (!Number.isFinite(start)) return undefined;
  const tags = step.status === "failed" ? "crit, " : step.status === "ok" ? "done, " : "";
  const name = step.status === "skipped" ? `${step.name} (skipped)` : step.name;
  const duration = Math.max(0, Math.round(step.durationMs));
  return `  ${ganttText(name)} :${tags}${start}, ${duration}ms`;
}

/** Where the pre-update backup is and how it restores; a warning when it holds no data. */
function backupSection(report: DeployReport): string[] {
  const backup = report.backup;
  if (!backup) return [];
  if (backup.method === "hook") {
    return ["Pre-update backup: the pin's database.backup.command.", ""];
  }
  const file = `\`${inline(backup.file ?? "").replace(/`/g, "")}\``;
  if (!backup.holdsData) {
    return ["> [!WARNING]", `> The data was NOT backed up: only the schema, in ${file}.`, ""];
  }
  const how = backup.method === "pg_dump" ? "pg_dump custom format" : "pinline's COPY archive";
  return [
    `Pre-update backup: ${file} (${how}, with its .json); \`pinline restore <file> --environment ${inline(report.environment)}\` puts it back.`,
    "",
  ];
}

/** The steps (and rollback steps) as a mermaid gantt on their real start times. */
export function renderDeployTimeline(report: DeployReport): string[] {
  const deploy = report.steps.map(ganttTask).filter((line) => line !== undefined);
  const rollback = (report.rollback?.steps ?? [])
    .map(ganttTask)
    .filter((line) => line !== undefined);
  if (deploy.length === 0 && rollback.length === 0) return [];
  const lines = [
    "```mermaid",
    "gantt",
    `  title ${ganttText(`${report.environment} ${report.from} → ${report.to}`)}`,
    "  dateFormat x",
    "  axisFormat %H:%M:%S",
    "  todayMarker off",
  ];
  if (deploy.length > 0) lines.push("  section Deploy", ...deploy);
  if (rollback.length > 0) lines.push("  section Rollback", ...rollback);
  lines.push("```");
  return lines;
}

export function renderDeploySummary(report: DeployReport): string {
  const run = safeUrl(report.runUrl);
  const facts = [
    `Channel **${inline(report.channel)}**`,
    ...(report.release.mandatory ? ["mandatory release"] : []),
    `started ${formatInstant(report.startedAt)}`,
    `took ${formatElapsed(deployElapsed(report))}`,
    ...(run ? [`[workflow run](${run})`] : []),
  ];
  const lines = [
    `## ${OUTCOME_ICON[report.outcome]} ${inline(report.environment)}: ${inline(report.from)} → ${inline(report.to)} ${OUTCOME_WORD[report.outcome]}`,
    "",
    facts.join(" · "),
    "",
  ];
  const critical = report.rollback?.critical;
  if (critical) lines.push("> [!CAUTION]", `> **${CRITICAL_MARK}:** ${inline(critical)}`, "");
  if (report.error) {
    const kind = report.outcome === "failed" ? "CAUTION" : "WARNING";
    lines.push(`> [!${kind}]`, `> ${inline(report.error)}`, "");
  }
  lines.push("### Steps", "", ...stepTable(report.steps), "");
  lines.push(...backupSection(report));
  lines.push(...healthSection(report.measurements));
  if (report.rollback) {
    const revert = describeRevert(report);
    lines.push(
      "### Rollback",
      "",
      ...(report.rollback.steps.length > 0
        ? stepTable(report.rollback.steps)
        : ["No rollback step ran."]),
      "",
    );
    if (revert) lines.push(`Revert: ${revert}`, "");
  }
  const timeline = renderDeployTimeline(report);
  if (timeline.length > 0) lines.push("### Timeline", "", ...timeline, "");
  return lines.join("\n");
}
