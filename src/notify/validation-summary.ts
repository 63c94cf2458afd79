import type { Finding } from "../repo/findings.js";
import type { ValidationReport } from "../repo/validate-tree.js";
import { cell, mermaidText, plural } from "./markdown.js";

/**
 * The job summary of `validate`: the verdict, every finding in a table, and a picture of what
 * runs where along the rollout — the question a reviewer of a release or promotion PR asks.
 */
export function renderValidationSummary(
  report: ValidationReport,
  link?: (f: Finding) => string,
): string {
  const { files, releases, policies, environments } = report.counts;
  const verdict =
    report.errors > 0
      ? `❌ ${plural(report.errors, "error")}, ${plural(report.warnings, "warning")}`
      : report.warnings > 0
        ? `⚠️ no errors, ${plural(report.warnings, "warning")}`
        : "✅ no errors, no warnings";
  const lines = [
    `## pinline validate: ${verdict}`,
    "",
    `Checked ${plural(files, "file")}: ${plural(releases, "release")}, ${plural(policies, "policy file")}, ${plural(environments, "environment")}.`,
    "",
  ];
  if (report.findings.length > 0) {
    lines.push("| | Where | Problem | What to do |", "|---|---|---|---|");
    for (const f of report.findings) {
      const where = `${f.file}:${f.line}:${f.column}`;
      lines.push(
        `| ${f.severity === "error" ? "❌" : "⚠️"} | ${link ? `[${cell(where)}](${link(f)})` : `\`${cell(where)}\``} | ${cell(f.message)} | ${cell(f.hint ?? "")} |`,
      );
    }
    lines.push("");
  }
  const picture = renderRollout(report);
  if (picture) lines.push("### What runs where", "", picture, "");
  return lines.join("\n");
}

/** The rollout stages in order, each with its environments and the versions they pin. */
export function renderRollout(report: ValidationReport): string | undefined {
  const stages = report.tree.rollout?.data?.stages;
  if (!stages || stages.length === 0) return undefined;
  const out = ["```mermaid", "flowchart LR"];
  stages.forEach((stage, i) => {
    const pins = report.tree.environments
      .filter((e) => e.data?.stage === stage.name)
      .map((e) => `${e.name}: ${e.data?.version}`);
    const soak = stage.soak ? `, soak ${stage.soak}` : "";
    const body = [`<b>${stage.name}</b>`, `${stage.traffic}% traffic${soak}`, ...pins].join(
      "<br/>",
    );
    out.push(`  s${i}["${mermaidText(body)}"]`);
    if (i > 0) out.push(`  s${i - 1} --> s${i}`);
  });
  out.push("```");
  return out.join("\n");
}
