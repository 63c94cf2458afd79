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

  /** Seconds a client should wait before trying again (the Retry-After header of a 503). */
  readonly retryAfterSeconds: number | undefined;
  /** Whether the answer closes the connection (shedding load: the client's socket is freed). */
  readonly closeConnection: boolean;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    details: {
      hint?: string | undefined;
      cause?: unknown;
      retryAfterSeconds?: number | undefined;
      closeConnection?: boolean;
    } = {},
  ) {
    super(message, details);
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.closeConnection = details.closeConnection === true;
  }

  body(): ErrorBody {
    return { error: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}
