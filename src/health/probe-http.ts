/**
 * HTTP readiness and liveness probes (DESIGN §2 deploy step 5): GET the URL until it answers
 * 2xx, with a timeout per attempt and a pause between attempts.
 */
import { STATUS_CODES } from "node:http";
import { setTimeout as delay } from "node:timers/promises";

export interface ProbeOptions {
  url: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first one: `retries: 2` makes at most 3 attempts. */
  retries: number;
  /** Pause between attempts. */
  intervalMs: number;
  /** Stops the probe (and any pause) at once; the result then says "aborted". */
  signal?: AbortSignal | undefined;
}

export interface ProbeResult {
  /** The last attempt answered 2xx. */
  ok: boolean;
  /** HTTP status of the last attempt, when it got an answer. */
  status?: number | undefined;
  attempts: number;
  /** Wall time of all attempts and pauses. */
  durationMs: number;
  /** "200 OK", "503 Service Unavailable after 3 attempts", "timed out after 2000 ms", "connection refused". */
  reason: string;
}

interface Attempt {
  ok: boolean;
  status?: number;
  /** What happened, without the attempt count. */
  what: string;
  /** The caller's signal fired: no more attempts. */
  aborted?: boolean;
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed",
  UND_ERR_SOCKET: "connection closed",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  CERT_HAS_EXPIRED: "TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS certificate chain is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS certificate cannot be verified",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate does not match the host",
};

/** What a failed fetch means, in a few words: "connection refused", "host not found". */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  for (const candidate of [cause, error]) {
    const code = (candidate as { code?: unknown })?.code;
    if (typeof code === "string") {
      const known = NETWORK_ERRORS[code];
      if (known) return known;
    }
  }
  const inner = cause instanceof Error ? cause : error instanceof Error ? error : undefined;
  const code = (inner as { code?: unknown } | undefined)?.code;
  const message = inner?.message ?? String(error);
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
}

function statusLine(response: Response): string {
  const text = response.statusText || STATUS_CODES[response.status] || "";
  return text ? `${response.status} ${text}` : String(response.status);
}

/** One GET with its own timeout, combined with the caller's signal. */
async function attempt(url: string, timeoutMs: number, signal?: AbortSignal): Promise<Attempt> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const controller = new AbortController();
  const abort = (source: AbortSignal) => () => controller.abort(source.reason);
  const onTimeout = abort(timeout);
  const onCaller = signal ? abort(signal) : undefined;
  timeout.addEventListener("abort", onTimeout, { once: true });
  if (signal && onCaller) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener("abort", onCaller, { once: true });
  }
  try {
    const response = await fetch(url, {
      signal: controller.signal,
      headers: { accept: "application/json, text/plain, */*" },
      redirect: "follow",
    });
    // Free the connection; the body does not matter.
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { ok, status: response.status, what: statusLine(response) };
  } catch (error) {
    if (signal?.aborted) return { ok: false, what: "aborted", aborted: true };
    if (timeout.aborted) return { ok: false, what: `timed out after ${timeoutMs} ms` };
    return { ok: false, what: describeFetchError(error) };
  } finally {
    timeout.removeEventListener("abort", onTimeout);
    if (signal && onCaller) signal.removeEventListener("abort", onCaller);
  }
}

function withAttempts(last: Attempt, attempts: number): string {
  if (attempts <= 1) return last.what;
  return last.status !== undefined
    ? `${last.what} after ${attempts} attempts`
    : `${last.what} (${attempts} attempts)`;
}

/**
 * GETs `url` until it answers 2xx or `retries + 1` attempts were made, pausing `intervalMs`
 * between attempts. Never throws: the result says what happened.
 */
export async function probeHttp(options: ProbeOptions): Promise<ProbeResult> {
  const { url, signal } = options;
  const timeoutMs = Math.max(1, Math.floor(options.timeoutMs));
  const maxAttempts = Math.max(0, Math.floor(options.retries)) + 1;
  const started = performance.now();
  let attempts = 0;
  let last: Attempt = { ok: false, what: "not attempted" };
  while (attempts < maxAttempts) {
    if (signal?.aborted) {
      last = { ok: false, what: "aborted", aborted: true };
      break;
    }
    attempts += 1;
    last = await attempt(url, timeoutMs, signal);
    if (last.ok || last.aborted || attempts >= maxAttempts) break;
    try {
      await delay(options.intervalMs, undefined, signal ? { signal } : undefined);
    } catch {
      last = { ok: false, what: "aborted", aborted: true };
      break;
    }
  }
  return {
    ok: last.ok,
    status: last.status,
    attempts,
    durationMs: Math.round(performance.now() - started),
    reason: withAttempts(last, attempts),
  };
}
