/**
 * The only place pinline builds an Octokit: REST and GraphQL against GITHUB_API_URL (GitHub
 * Enterprise Server sets it to https://HOST/api/v3), with retries for server errors and
 * throttling that waits out primary and secondary rate limits instead of failing the job.
 */
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { UsageError } from "../core/errors.js";

export const PinlineOctokit = Octokit.plugin(retry, throttling);
export type PinlineOctokit = InstanceType<typeof PinlineOctokit>;

/** How often a rate-limited request is tried again before the job gives up. */
const RATE_LIMIT_RETRIES = 2;

export interface OctokitOptions {
  token: string;
  /** Default: GITHUB_API_URL, else https://api.github.com. */
  baseUrl?: string | undefined;
  userAgent?: string | undefined;
  /** Where rate-limit waits are reported (the log). */
  log?: (message: string) => void;
}

export function createOctokit(options: OctokitOptions): PinlineOctokit {
  if (!options.token) {
    throw new UsageError("no GitHub token", {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, shown as text
      hint: "pass github-token (default ${{ github.token }}) or set GITHUB_TOKEN",
    });
  }
  const baseUrl = (
    options.baseUrl ??
    process.env.GITHUB_API_URL ??
    "https://api.github.com"
  ).replace(/\/+$/, "");
  const log = options.log ?? (() => {});
  return new PinlineOctokit({
    auth: options.token,
    baseUrl,
    userAgent: options.userAgent ?? "pinline",
    // Failed requests are thrown to the caller, who knows whether a 404 is expected (a branch
    // that does not exist yet); Octokit's own per-request error lines would only be noise.
    log: { debug: () => {}, info: () => {}, warn: log, error: () => {} },
    // Server errors are tried again; answers that say no (405 a merge the rules refuse, 409 a
    // conflict) are not: the same request gets the same answer, 14 s of backoff later.
    retry: { doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 451] },
    throttle: {
      onRateLimit: (retryAfter, request, _octokit, retryCount) => {
        log(
          `GitHub rate limit reached for ${request.method} ${request.url}; retrying in ${retryAfter}s`,
        );
        return retryCount < RATE_LIMIT_RETRIES;
      },
      onSecondaryRateLimit: (retryAfter, request, _octokit, retryCount) => {
        log(
          `GitHub secondary rate limit for ${request.method} ${request.url}; retrying in ${retryAfter}s`,
        );
        return retryCount < RATE_LIMIT_RETRIES;
      },
    },
  });
}
