/**
 * GitHub's refusals and the network's failures, as pinline errors a person can act on: one
 * line saying what happened and what to do. Callers that expect a status (a 404 for a branch
 * not made yet) handle it themselves; what reaches the top of a verb or an action unhandled is
 * translated here, keeping the original as `cause`.
 *
 * The shapes are GitHub's: https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
 * (401 "Bad credentials", 403 and 429 with x-ratelimit-remaining: 0 and x-ratelimit-reset,
 * secondary rate limits with retry-after, x-accepted-oauth-scopes against x-oauth-scopes, 404 for
 * a resource the token cannot see) and
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api.
 */
import { PinlineError, UsageError } from "../core/errors.js";

interface RequestErrorLike {
  name: string;
  status: number;
  message: string;
  request?: { method?: string; url?: string };
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  cause?: unknown;
}

function isRequestError(error: unknown): error is RequestErrorLike {
  const candidate = error as Partial<RequestErrorLike> | undefined;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    candidate.name === "HttpError" &&
    typeof candidate.status === "number"
  );
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN"]);

/** The first system error code along the cause chain (undici wraps them in "fetch failed"). */
function networkCode(error: unknown): { code: string; host?: string } | undefined {
  let current = error as { code?: unknown; cause?: unknown; hostname?: unknown } | undefined;
  for (let depth = 0; current && depth < 6; depth++) {
    const code = current.code;
    if (
      typeof code === "string" &&
      (NETWORK_CODES.has(code) || DNS_CODES.has(code) || code.startsWith("UND_ERR"))
    ) {
      return { code, ...(typeof current.hostname === "string" ? { host: current.hostname } : {}) };
    }
    current = current.cause as typeof current;
  }
  return undefined;
}

/** "POST /repos/acme/cm/check-runs" from a request's method and URL. */
function what(error: RequestErrorLike): { call: string; url: URL | undefined } {
  const method = error.request?.method ?? "GET";
  let url: URL | undefined;
  try {
    url = error.request?.url ? new URL(error.request.url) : undefined;
  } catch {
    url = undefined;
  }
  return { call: `${method} ${url ? decodeURIComponent(url.pathname) : "?"}`, url };
}

function header(error: RequestErrorLike, name: string): string | undefined {
  const value = error.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

function githubMessage(error: RequestErrorLike): string {
  const data = error.response?.data as { message?: unknown } | undefined;
  const text = typeof data?.message === "string" ? data.message : error.message;
  return text.split("\n")[0]?.trim() ?? "";
}

/** The repository a `/repos/{owner}/{repo}` path names, when the path is the repository itself. */
function repositoryPath(url: URL | undefined): string | undefined {
  const match = /\/repos\/([^/]+)\/([^/]+)\/?$/.exec(url?.pathname ?? "");
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/** A pinline error for an outside-world failure, or undefined when `error` is none of those. */
export function describeGitHubError(error: unknown): PinlineError | undefined {
  if (error instanceof PinlineError) return undefined;
  const network = networkCode(error);
  const request = isRequestError(error) ? error : undefined;
  const { call, url } = request ? what(request) : { call: "", url: undefined };
  const api = url ? url.origin : (process.env.GITHUB_API_URL ?? "https://api.github.com");
  if (network) {
    if (DNS_CODES.has(network.code)) {
      const host = network.host ?? (url ? url.hostname : api);
      return new PinlineError(`cannot resolve ${host} (${network.code}, DNS)`, {
        hint: "check GITHUB_API_URL and this machine's network and DNS",
        cause: error,
      });
    }
    return new PinlineError(`the GitHub API at ${api} is unreachable (${network.code})`, {
      hint: "check GITHUB_API_URL, the network and any proxy, then try again",
      cause: error,
    });
  }
  if (!request) return undefined;
  const status = request.status;
  const message = githubMessage(request);
  if (status === 401) {
    return new UsageError(`GitHub refused the token (401 ${message})`, {
      hint: "it is expired, revoked or mistyped: set GITHUB_TOKEN (or GH_TOKEN) to a valid one, such as $(gh auth token)",
      cause: error,
    });
  }
  const remaining = header(request, "x-ratelimit-remaining");
  if ((status === 403 || status === 429) && (remaining === "0" || /rate limit/i.test(message))) {
    if (/secondary rate limit/i.test(message) || remaining !== "0") {
      const after = header(request, "retry-after");
      return new PinlineError(`GitHub's secondary rate limit stopped ${call}`, {
        hint: `wait ${after ? `${after} s` : "a few minutes"} and try again; fewer requests at once help`,
        cause: error,
      });
    }
    const reset = Number(header(request, "x-ratelimit-reset"));
    const until =
      Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : "its reset";
    return new PinlineError(`GitHub's rate limit for this token is used up until ${until}`, {
      hint: "wait until then, or use a token with a higher limit (an App installation's)",
      cause: error,
    });
  }
  if (status === 403) {
    const accepted = (header(request, "x-accepted-oauth-scopes") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const granted = new Set(
      (header(request, "x-oauth-scopes") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    );
    if (accepted.length > 0 && !accepted.some((scope) => granted.has(scope))) {
      return new UsageError(`the token lacks the scope ${call} needs (403 ${message})`, {
        hint: `give it one of: ${accepted.join(", ")} (gh auth refresh -s ${accepted[0]})`,
        cause: error,
      });
    }
    return new UsageError(`the token may not ${call} (403 ${message})`, {
      hint: "give it that permission: for an App or fine-grained token, the repository permission the endpoint names in GitHub's REST docs; for a classic token, the repo scope",
      cause: error,
    });
  }
  if (status === 404) {
    const repository = repositoryPath(url);
    if (repository) {
      return new UsageError(`${repository} was not found, or the token cannot see it`, {
        hint: "check the name (--repo, GITHUB_REPOSITORY or the origin remote) and that the token has access to that repository",
        cause: error,
      });
    }
    return new UsageError(`GitHub has no ${call}, or the token cannot see it (404)`, {
      hint: "check the repository and that the token has access to it",
      cause: error,
    });
  }
  if (status >= 500) {
    return new PinlineError(`GitHub answered ${status} for ${call} after retries`, {
      hint: "GitHub may be having trouble (githubstatus.com): try again later",
      cause: error,
    });
  }
  return new PinlineError(`GitHub refused ${call} (${status} ${message})`, { cause: error });
}

/** One line for any failure at the top of a verb or an action: pinline's own, or the outside world's. */
export function describeFailure(error: unknown): string | undefined {
  if (error instanceof PinlineError) return error.describe();
  return describeGitHubError(error)?.describe();
}
