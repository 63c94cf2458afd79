import type { MigrationResult } from "../db/run-migration.js";

/** The job summary of `migrate`: the path from version to version, and every step. */
export function renderMigrationSummary(result: MigrationResult, environment: string): string {
  const from = result.from ?? "empty database";
  const verb = result.dryRun ? "would migrate" : "migrated";
  const releases = [...new Set(result.steps.map((s) => s.release))];
  const path = [
    from,
    ...releases.filter((r) => r !== from),
    ...(releases.includes(result.to) ? [] : [result.to]),
  ];
  const lines = [
    `## pinline migrate ${environment}: ${verb} ${from} → ${result.to}`,
    "",
    result.summary.split("\n")[0] ?? "",
    "",
    "```mermaid",
    "flowchart LR",
    ...path.map((version, i) => `  v${i}["${version}"]${i > 0 ? `\n  v${i - 1} --> v${i}` : ""}`),
    "```",
    "",
  ];
  if (result.steps.length > 0) {
    lines.push("| | release | file | direction | transaction | ms |", "|---|---|---|---|---|---:|");
    for (const step of result.steps) {
      const mark = step.status === "applied" ? "✅" : step.status === "skipped" ? "⏭️" : "📝";
      lines.push(
        `| ${mark} | ${step.release} | \`${step.path}\` | ${step.direction} | ${step.transactional ? "yes" : "no (pinline:no-transaction)"} | ${step.durationMs} |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}
