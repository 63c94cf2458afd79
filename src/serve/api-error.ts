/**
 * What the update server answers when a request cannot be served: an HTTP status and a JSON body
 * `{error, message, hint?}` — a stable code for programs, a sentence saying what is wrong, and
 * what to do about it.
 */
import { PinlineError } from "../core/errors.js";

/** The JSON body of every 4xx and 5xx answer. */
export interface ErrorBody {
  /** A stable, machine-readable code: "invalid_version", "unknown_channel", … */
  error: string;
  message: string;
  hint?: string;
}

export class ApiError extends PinlineError {
  override name = "ApiError";

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    details: { hint?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, details);
  }

  body(): ErrorBody {
    return { error: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}
