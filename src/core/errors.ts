/**
 * pinline's errors. Each says what is wrong, where (file:line:col when it comes from a file) and
 * what to do; `exitCode` maps it to the CLI contract (DESIGN §4) in one place.
 */

/** A place in a file: 1-based line and column, path relative to the repository root. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export function formatLocation(where: SourceLocation): string {
  if (where.line === undefined) return where.file;
  return `${where.file}:${where.line}:${where.column ?? 1}`;
}

interface ErrorDetails {
  where?: SourceLocation | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

export class PinlineError extends Error {
  override name = "PinlineError";
  readonly where: SourceLocation | undefined;
  readonly hint: string | undefined;
  /** 1: the check failed or the operation was refused. */
  readonly exitCode: 1 | 2 = 1;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.where = details.where;
    this.hint = details.hint;
  }

  /** `file:line:col: message (hint)`, the form every pinline error is printed in. */
  describe(): string {
    const prefix = this.where ? `${formatLocation(this.where)}: ` : "";
    return `${prefix}${this.message}${this.hint ? ` (${this.hint})` : ""}`;
  }
}

/** A command was called wrongly, or its configuration cannot be used (exit code 2). */
export class UsageError extends PinlineError {
  override name = "UsageError";
  override readonly exitCode = 2;
}

/** A value in a document is not what it must be: bad version, bad window, bad range. */
export class InvalidValueError extends PinlineError {
  override name = "InvalidValueError";
}

/** What was asked cannot be done: no upgrade path, a refused promotion. */
export class RefusedError extends PinlineError {
  override name = "RefusedError";
}

/** The exit code for anything thrown: 2 for usage errors, 1 for the rest. */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof PinlineError ? error.exitCode : 1;
}
