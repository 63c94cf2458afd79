import { formatInstant } from "../core/gates/format-instant.js";
import type { PinEvaluation } from "../notify/gate-summary.js";
import { table } from "./io.js";

const MARK = { pass: "✓ pass", waiting: "… waiting", fail: "✗ fail" } as const;

/** Every rule of one evaluation as a terminal table. */
export function printVerdicts(evaluation: Pick<PinEvaluation, "verdicts">): string {
  return table([
    ["rule", "verdict", "until", "reason"],
    ...evaluation.verdicts.map((v) => [
      v.rule,
      MARK[v.status],
      v.until ? formatInstant(v.until) : "",
      v.reason,
    ]),
  ]);
}

export function verdictLine(evaluation: PinEvaluation): string {
  const until = evaluation.until ? ` until ${formatInstant(evaluation.until)}` : "";
  const blocking = evaluation.verdicts.filter(
    (v) => v.status === evaluation.status && v.status !== "pass",
  );
  const which = blocking.length > 0 ? ` (${blocking.map((v) => v.rule).join(", ")})` : "";
  return `${evaluation.status}${evaluation.status === "waiting" ? until : ""}${which}`;
}
