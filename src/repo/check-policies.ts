import picomatch from "picomatch";
import { formatDuration, parseDuration } from "../core/duration.js";
import { PinlineError } from "../core/errors.js";
import { analysisSchedule } from "../core/evaluate-canary.js";
import { checkMaintenanceWindow } from "../core/maintenance-window.js";
import type { Policy } from "../core/schema-types.js";
import { parseVersionRange } from "../core/version.js";
import type { Catalog } from "./catalog.js";
import { error, type Finding, warning } from "./findings.js";
import type { NamedDocument } from "./load-tree.js";
import type { PathSegment } from "./parse-yaml.js";

/**
 * Checks each policy: its version ranges parse, its custom channels are defined, its window
 * is a real window, its testing environments exist, it can be satisfied at all, its canary
 * analysis (count × interval) fits in rollback.healthCheckTimeout, and it governs at least one
 * environment.
 */
export function checkPolicies(
  policies: readonly NamedDocument<Policy>[],
  catalog: Catalog,
): Finding[] {
  const findings: Finding[] = [];
  for (const policy of policies) {
    const { yaml, data } = policy;
    if (!yaml || !data) continue;
    const report = (path: PathSegment[], message: string, hint?: string) =>
      findings.push(error("policy", yaml.at(path), message, hint));
    const attempt = (path: PathSegment[], check: () => void) => {
      try {
        check();
      } catch (e) {
        if (!(e instanceof PinlineError)) throw e;
        report(path, e.message, e.hint);
      }
    };

    data.blockedVersions?.forEach((range, i) => {
      attempt(["blockedVersions", i], () => parseVersionRange(range));
    });
    for (const [name, channel] of Object.entries(data.customChannels ?? {})) {
      channel?.versions.forEach((range, i) => {
        attempt(["customChannels", name, "versions", i], () => parseVersionRange(range));
      });
    }
    data.allowedChannels?.forEach((channel, i) => {
      const custom = channel.startsWith("custom:") ? channel.slice("custom:".length) : undefined;
      if (custom !== undefined && !data.customChannels?.[custom]) {
        report(
          ["allowedChannels", i],
          `${channel} is allowed, but customChannels does not say which versions it receives`,
          `add customChannels: { ${custom}: { versions: [...] } }`,
        );
      }
    });

    const window = data.maintenanceWindow;
    if (window) {
      // Point at the field the problem is in, when the message names one.
      const field = ["timezone", "start", "end"].find((f) => {
        try {
          checkMaintenanceWindow(window);
          return false;
        } catch (e) {
          return e instanceof PinlineError && e.message.includes(f);
        }
      });
      attempt(["maintenanceWindow", ...(field ? [field] : [])], () =>
        checkMaintenanceWindow(window),
      );
    }

    data.testing?.environments?.forEach((name, i) => {
      if (!catalog.environments.has(name)) {
        report(
          ["testing", "environments", i],
          `testing environment ${name} does not exist (no environments/${name}.yaml)`,
          "name an existing environment, or add its pin",
        );
      }
    });

    const approval = data.approval;
    if (approval?.approvers !== undefined) {
      const teams = approval.approvers.some((a) => a.startsWith("@"));
      const people = new Set(approval.approvers).size;
      if (!teams && approval.required > people) {
        report(
          ["approval", "required"],
          `${approval.required} approvals are required, but only ${people} ${people === 1 ? "person is" : "people are"} listed as approvers`,
          "no promotion could ever pass: add approvers (or a team) or lower `required`",
        );
      }
    } else if (approval && approval.required > 0) {
      report(
        ["approval"],
        `${approval.required} approvals are required, but no approvers are listed`,
        "list the users or @org/teams whose approvals count",
      );
    }

    for (const [metric, threshold] of Object.entries(data.canary ?? {})) {
      if (!threshold) continue;
      if (
        threshold.min !== undefined &&
        threshold.max !== undefined &&
        threshold.min > threshold.max
      ) {
        report(
          ["canary", metric],
          `canary.${metric} has min ${threshold.min} above max ${threshold.max}`,
        );
      }
      if (metric !== "responseTimeP95Ms") {
        for (const bound of ["min", "max"] as const) {
          const value = threshold[bound];
          if (value !== undefined && (value < 0 || value > 1)) {
            report(
              ["canary", metric, bound],
              `canary.${metric}.${bound} is ${value}, but ${metric} is a ratio between 0 and 1`,
              value > 1 ? `write ${value}% as ${value / 100}` : undefined,
            );
          }
        }
      }
    }

    const analysis = data.analysis;
    if (analysis?.count !== undefined || analysis?.interval !== undefined) {
      try {
        const period = data.rollback?.healthCheckTimeout ?? "5m";
        const periodMs = parseDuration(period);
        const schedule = analysisSchedule({
          periodMs,
          intervalMs: analysis.interval ? parseDuration(analysis.interval) : undefined,
          count: analysis.count,
        });
        if (schedule.totalMs > periodMs) {
          report(
            ["analysis"],
            `the analysis takes ${schedule.count} × ${formatDuration(schedule.intervalMs)} = ${formatDuration(schedule.totalMs)}, longer than rollback.healthCheckTimeout (${period}${data.rollback?.healthCheckTimeout ? "" : ", the default"})`,
            "lower analysis.count or analysis.interval, or raise rollback.healthCheckTimeout",
          );
        }
      } catch (e) {
        if (!(e instanceof PinlineError)) throw e;
        // A duration that does not parse is reported by the schema.
      }
    }

    data.appliesTo.forEach((glob, i) => {
      const matches = picomatch(glob, { dot: true });
      if (![...catalog.environments.keys()].some((name) => matches(name))) {
        findings.push(
          warning(
            "policy",
            yaml.at(["appliesTo", i]),
            `appliesTo ${glob} matches no environment`,
            `environments are: ${[...catalog.environments.keys()].join(", ") || "none"}`,
          ),
        );
      }
    });
  }
  return findings;
}
