/**
 * Checks a release's artifacts where they are published: each component whose `artifact` is an
 * https URL is downloaded and streamed through sha256, never past `size` + 1 bytes — a server
 * that announces or sends more is cut off, so an endless download is refused at once. Image
 * references are not pulled (a registry checks its own digests); they are reported as not
 * fetched. Plain http is refused except on loopback addresses, and a redirect is followed only
 * as far as MAX_REDIRECTS hops that never leave https once there: an https URL redirected to
 * plain http (where anyone on the path can change the bytes) is refused.
 */
import { createHash } from "node:crypto";
import type { ReleaseManifest } from "../core/schema-types.js";
import {
  type ArtifactVerdict,
  type BoundedRead,
  judge,
  readExpectations,
} from "./verify-artifacts.js";

/** How many redirects one download may follow (browsers and curl stop near 20; 5 is plenty). */
export const MAX_REDIRECTS = 5;

/** How long one download may take before it is abandoned. */
export const FETCH_TIMEOUT_MS = 15 * 60 * 1000;

export async function fetchArtifacts(input: {
  manifest: ReleaseManifest;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}): Promise<ArtifactVerdict[]> {
  const fetchUrl = input.fetch ?? globalThis.fetch;
  const verdicts: ArtifactVerdict[] = [];
  for (const [name, component] of Object.entries(input.manifest.components ?? {})) {
    const expected = readExpectations(component);
    const url = component?.artifact ?? "";
    const base = {
      component: name,
      path: url,
      expectedSize: expected.size ?? Number.NaN,
      expectedSha256: expected.sha256,
    };
    if (expected.problem !== undefined) {
      verdicts.push({ ...base, verdict: "invalid", reason: expected.problem });
      continue;
    }
    const refusal = refuseUrl(url);
    if (refusal) {
      verdicts.push({ ...base, verdict: refusal.verdict, reason: refusal.reason });
      continue;
    }
    const read = await download(url, expected.size, fetchUrl, input.timeoutMs ?? FETCH_TIMEOUT_MS);
    verdicts.push(judge(base, read, expected.size, expected.sha256));
  }
  return verdicts;
}

function refuseUrl(
  artifact: string,
): { verdict: "unchecked" | "invalid"; reason: string } | undefined {
  let url: URL;
  try {
    url = new URL(artifact);
  } catch {
    return {
      verdict: "unchecked",
      reason:
        "not fetched: an image reference or a path, not a URL (check images by digest in their registry)",
    };
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return undefined;
  if (url.protocol === "http:") {
    return {
      verdict: "invalid",
      reason: "refused: plain http; artifacts are fetched over https only",
    };
  }
  return { verdict: "unchecked", reason: `not fetched: ${url.protocol} URLs are not downloaded` };
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * GET `url`, following redirects by hand so that each hop's scheme is checked: the response
 * that is not a redirect, or why the chain was refused.
 */
async function follow(
  url: string,
  fetchUrl: typeof globalThis.fetch,
  signal: AbortSignal,
): Promise<{ response: Response } | { reason: string }> {
  let current = new URL(url);
  const secure = current.protocol === "https:";
  for (let hop = 0; ; hop++) {
    const response = await fetchUrl(current, { redirect: "manual", signal });
    if (response.status < 300 || response.status > 399 || response.status === 304) {
      return { response };
    }
    await response.body?.cancel();
    const location = response.headers.get("location");
    if (!location)
      return { reason: `cannot be fetched: HTTP ${response.status} without a Location` };
    if (hop === MAX_REDIRECTS) {
      return { reason: `refused: more than ${MAX_REDIRECTS} redirects` };
    }
    const next = new URL(location, current);
    if (secure && next.protocol !== "https:") {
      return {
        reason: `refused: ${current.href} redirects to ${next.protocol.slice(0, -1)} (${next.href}); an https download must stay on https`,
      };
    }
    const refusal = refuseUrl(next.href);
    if (refusal) return { reason: `refused: redirected to ${next.href}: ${refusal.reason}` };
    current = next;
  }
}

/** GET with the same bound as a local read: at most `size` + 1 bytes are taken from the body. */
async function download(
  url: string,
  size: number,
  fetchUrl: typeof globalThis.fetch,
  timeoutMs: number,
): Promise<BoundedRead> {
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`no answer within ${timeoutMs / 1000} s`)),
    timeoutMs,
  );
  try {
    const followed = await follow(url, fetchUrl, abort.signal);
    if ("reason" in followed) return followed;
    const { response } = followed;
    if (!response.ok)
      return { reason: `cannot be fetched: HTTP ${response.status} ${response.statusText}`.trim() };
    const announced = Number(response.headers.get("content-length") ?? Number.NaN);
    if (announced > size) {
      abort.abort();
      return { tooLong: true };
    }
    if (!response.body) return { reason: "cannot be fetched: the response has no body" };
    const hash = createHash("sha256");
    let bytes = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > size) {
        await reader.cancel();
        abort.abort();
        return { tooLong: true };
      }
      hash.update(value);
    }
    return { bytes, sha256: hash.digest("hex"), tooLong: false };
  } catch (error) {
    const cause =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    return { reason: `cannot be fetched: ${cause}` };
  } finally {
    clearTimeout(timer);
  }
}
