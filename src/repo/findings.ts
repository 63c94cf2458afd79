import { formatLocation } from "../core/errors.js";

export type Severity = "error" | "warning";

/** One problem found in the repository, at the place a reader must look. */
export interface Finding {
  severity: Severity;
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  line: number;
  column: number;
  /** What is wrong, in one sentence. */
  message: string;
  /** Which check found it: "schema", "yaml", "version-channel", ... */
  rule: string;
  /** What to do about it, when that is not obvious from the message. */
  hint?: string;
}

export function error(
  rule: string,
  where: { file: string; line: number; column: number },
  message: string,
  hint?: string,
): Finding {
  return {
    severity: "error",
    rule,
    file: where.file,
    line: where.line,
    column: where.column,
    message,
    ...(hint ? { hint } : {}),
  };
}

export function warning(
  rule: string,
  where: { file: string; line: number; column: number },
  message: string,
  hint?: string,
): Finding {
  return { ...error(rule, where, message, hint), severity: "warning" };
}

/** Files in path order, then by position: the order a reader goes through them. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column,
  );
}

/** `file:line:col: error: message (hint)` — the form compilers use, so editors can jump to it. */
export function formatFinding(f: Finding): string {
  const hint = f.hint ? ` (${f.hint})` : "";
  return `${formatLocation(f)}: ${f.severity}: ${f.message}${hint}`;
}

export function countFindings(findings: readonly Finding[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const f of findings) if (f.severity === "error") errors++;
  return { errors, warnings: findings.length - errors };
}
