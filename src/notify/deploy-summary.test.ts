import { describe, expect, it } from "vitest";
import {
  buildDeployReport,
  DEPLOY_START,
  RUN_URL,
} from "../../test/harness/deploy-report-fixture.js";
import {
  deployTitle,
  formatElapsed,
  ganttText,
  HEALTH_ROW_LIMIT,
  renderDeploySummary,
  renderDeployTimeline,
} from "./deploy-summary.js";

/** The mermaid block of a summary, read the way mermaid's gantt grammar reads it. */
function readGantt(summary: string) {
  const match = /```mermaid\ngantt\n([\s\S]*?)\n```/.exec(summary);
  if (!match?.[1]) throw new Error("no gantt block");
  const sections: {
    name: string;
    tasks: { name: string; tags: string[]; start: number; ms: number }[];
  }[] = [];
  const settings: Record<string, string> = {};
  for (const line of match[1].split("\n")) {
    const section = /^ {2}section (.+)$/.exec(line);
    const task = /^ {2}([^:\n]+?) :((?:(?:done|crit|active|milestone), )*)(\d+), (\d+)ms$/.exec(
      line,
    );
    const setting = /^ {2}(title|dateFormat|axisFormat|todayMarker) (.+)$/.exec(line);
    if (section?.[1]) sections.push({ name: section[1], tasks: [] });
    else if (task?.[1] && task[3] && task[4]) {
      const current = sections.at(-1);
      if (!current) throw new Error(`task outside a section: ${line}`);
      current.tasks.push({
        name: task[1],
        tags: (task[2] ?? "").split(", ").filter(Boolean),
        start: Number(task[3]),
        ms: Number(task[4]),
      });
    } else if (setting?.[1] && setting[2]) settings[setting[1]] = setting[2];
    else throw new Error(`not a gantt line: ${JSON.stringify(line)}`);
  }
  return { settings, sections };
}

describe("renderDeploySummary", () => {
  it("heads a successful deploy with ✅, the move and the environment, and tables every step", () => {
    const summary = renderDeploySummary(buildDeployReport("success"));
    expect(summary.split("\n")[0]).toBe("## ✅ production-canary: 2.4.0 → 2.4.1 deployed");
    expect(summary).toContain(`[workflow run](${RUN_URL})`);
    expect(summary).toContain(
      "Channel **stable** · mandatory release · started Sat 2024-03-16 03:00 UTC",
    );
    expect(summary).toContain("| Step | Status | Duration | Detail |");
    expect(summary).toContain("| backup | ✅ ok | 41.5s | pg_dump of cm_diagnostics: 412 MB |");
    expect(summary).toContain("| health | ✅ ok | 5m | 10 of 10 rounds pass |");
    expect(summary).not.toContain("### Rollback");
    expect(summary).not.toContain("[!");
  });

  it("tables the health rounds: time, each criterion's value, the verdict and its problems", () => {
    const summary = renderDeploySummary(buildDeployReport("rolled-back"));
    expect(summary).toContain("### Health: 7 measurements (2 pass, 4 fail, 1 inconclusive)");
    expect(summary).toContain(
      "| Time (UTC) | errorRate | responseTimeP95Ms | successRate | Verdict |",
    );
    expect(summary).toContain("| 03:01:38 | 0.002 | 212 | 0.998 | ✅ pass |");
    expect(summary).toContain("| 03:02:38 | — | 251 | — | ❔ inconclusive: errorRate: no data |");
    expect(summary).toContain(
      "| 03:04:38 | 0.041 | 522 | 0.959 | ❌ fail: errorRate 0.041 &gt; max 0.01; responseTimeP95Ms 522 &gt; max 500 |",
    );
  });

  it("shows only the last 30 health rounds, and says so", () => {
    const report = buildDeployReport("success");
    const round = report.measurements[0];
    if (!round) throw new Error("fixture has no measurement");
    report.measurements = Array.from({ length: 45 }, (_, i) => ({
      ...round,
      at: new Date(DEPLOY_START.getTime() + (i + 1) * 10_000),
    }));
    const summary = renderDeploySummary(report);
    expect(summary).toContain(`_Showing the last ${HEALTH_ROW_LIMIT} of 45 measurements._`);
    const rows = summary.split("\n").filter((line) => /^\| \d\d:\d\d:\d\d \|/.test(line));
    expect(rows).toHaveLength(HEALTH_ROW_LIMIT);
    expect(rows[0]).toContain("03:02:40"); // round 16 of 45
    expect(rows.at(-1)).toContain("03:07:30");
  });

  it("says when no health round was taken", () => {
    const summary = renderDeploySummary(buildDeployReport("failed"));
    expect(summary).toContain("### Health: 0 measurements\n\nNo health measurements were taken.");
  });

  it("heads a rollback with ↩️, warns with the reason and lists the rollback and its revert", () => {
    const summary = renderDeploySummary(buildDeployReport("rolled-back"));
    expect(summary.split("\n")[0]).toBe("## ↩️ production-canary: 2.4.0 → 2.4.1 rolled back");
    expect(summary).toContain(
      "> [!WARNING]\n> health check failed: errorRate 0.041 &gt; max 0.01 for 3 rounds in a row",
    );
    const rollback = summary.slice(summary.indexOf("### Rollback"));
    expect(rollback).toContain(
      "| apply | ✅ ok | 15.4s | image ghcr.io/acme/cm-diagnostics-backend:2.4.0 restored |",
    );
    expect(rollback).toContain(
      "Revert: [pull request #42](https://github.com/acme/cm-diagnostics-releases/pull/42) commit `3f2a9c1d8e7b` (not merged yet)",
    );
  });

  it("heads a failure that could not be undone with ❌ and a caution", () => {
    const summary = renderDeploySummary(buildDeployReport("failed"));
    expect(summary.split("\n")[0]).toBe("## ❌ production-canary: 2.4.0 → 2.4.1 failed");
    expect(summary).toContain("> [!CAUTION]\n> apply failed");
    expect(summary).toContain("| health | ➖ skipped |  | not reached |");
    expect(summary).toContain(
      '| migrate | ❌ failed | 3s | rollback/2.4.1-2.4.0_2_drop_ml_score.sql: column "ml_score" is in use |',
    );
  });

  it("escapes user text for the tables: pipes, line breaks and HTML", () => {
    const report = buildDeployReport("success");
    const step = report.steps[0];
    if (!step) throw new Error("fixture has no step");
    step.detail = "a | b\nc <img src=x onerror=alert(1)>";
    report.error = "first line\n<script>alert(1)</script>";
    const summary = renderDeploySummary(report);
    expect(summary).toContain(
      "| verify | ✅ ok | 1.8s | a \\| b c &lt;img src=x onerror=alert(1)&gt; |",
    );
    expect(summary).toContain("> first line &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(summary).not.toContain("<script>");
    expect(summary).not.toContain("<img");
  });
});

describe("renderDeployTimeline", () => {
  it("draws one gantt task per step on the steps' real clock, failed steps crit", () => {
    const report = buildDeployReport("rolled-back");
    const summary = renderDeploySummary(report);
    expect(summary).toContain("### Timeline\n\n```mermaid\ngantt\n");
    const gantt = readGantt(summary);
    expect(gantt.settings).toEqual({
      title: "production-canary 2.4.0 → 2.4.1",
      dateFormat: "x",
      axisFormat: "%H:%M:%S",
      todayMarker: "off",
    });
    expect(gantt.sections.map((s) => s.name)).toEqual(["Deploy", "Rollback"]);
    const [deploy, rollback] = gantt.sections;
    expect(deploy?.tasks).toHaveLength(report.steps.length);
    expect(rollback?.tasks).toHaveLength(report.rollback?.steps.length ?? -1);
    report.steps.forEach((step, i) => {
      expect(deploy?.tasks[i]?.start).toBe(step.startedAt.getTime());
      expect(deploy?.tasks[i]?.ms).toBe(step.durationMs);
    });
    expect(deploy?.tasks.map((t) => [t.name, t.tags])).toEqual([
      ["verify", ["done"]],
      ["backup", ["done"]],
      ["migrate", ["done"]],
      ["apply", ["done"]],
      ["health", ["crit"]],
      ["finish (skipped)", []],
    ]);
    expect(deploy?.tasks[0]?.start).toBe(DEPLOY_START.getTime());
    // The rollback starts where the deploy's last step ended.
    expect(rollback?.tasks[0]?.start).toBe(DEPLOY_START.getTime() + 68_690 + 210_000);
  });

  it("has no Rollback section when nothing was rolled back", () => {
    const gantt = readGantt(renderDeploySummary(buildDeployReport("success")));
    expect(gantt.sections.map((s) => s.name)).toEqual(["Deploy"]);
    expect(gantt.sections[0]?.tasks).toHaveLength(6);
  });

  it("escapes what mermaid's gantt grammar would read: colons, semicolons, hashes, quotes", () => {
    expect(ganttText('a:b;c#d "e"\nf')).toBe("a#58;b#59;c#35;d #quot;e#quot; f");
    const report = buildDeployReport("success");
    report.environment = 'qa: #1; "x"';
    const [, , title] = renderDeployTimeline(report);
    expect(title).toBe("  title qa#58; #35;1#59; #quot;x#quot; 2.4.0 → 2.4.1");
  });

  it("draws nothing without steps", () => {
    const report = buildDeployReport("success");
    report.steps = [];
    expect(renderDeployTimeline(report)).toEqual([]);
    expect(renderDeploySummary(report)).not.toContain("```mermaid");
  });
});

describe("formatElapsed and deployTitle", () => {
  it("formats durations for people", () => {
    expect(formatElapsed(0)).toBe("0ms");
    expect(formatElapsed(340)).toBe("340ms");
    expect(formatElapsed(1_840)).toBe("1.8s");
    expect(formatElapsed(41_000)).toBe("41s");
    expect(formatElapsed(59_990)).toBe("1m");
    expect(formatElapsed(252_400)).toBe("4m12s");
    expect(formatElapsed(3_725_000)).toBe("1h2m5s");
    expect(formatElapsed(-1)).toBe("?");
  });

  it("titles each outcome the way the e-mail subject reads", () => {
    expect(deployTitle(buildDeployReport("success"))).toBe(
      "CM Diagnostics 2.4.1 deployed to production-canary",
    );
    expect(deployTitle(buildDeployReport("rolled-back"))).toBe(
      "CM Diagnostics 2.4.1 rolled back on production-canary",
    );
    expect(deployTitle(buildDeployReport("failed"), "Acme")).toBe(
      "Acme 2.4.1 failed on production-canary",
    );
  });
});
