/**
 * The feed as it is published now, read back from its site so that the next build continues
 * its versions: metadata/timestamp.json, snapshot.json, targets.json, root.json and every
 * N.root.json from 1 up to the root's version, written to a local folder laid out the way
 * buildFeed's `previous` expects. The targets are not fetched: the build makes them again.
 *
 * A 404 on timestamp.json means nothing is published yet. Anything else that goes wrong fails:
 * a feed built without the published one's versions would start again at 1, and every
 * installation that has seen the published feed would refuse it as a rollback.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PinlineError, UsageError } from "../core/errors.js";
import { METADATA_DIR } from "../feed/build-feed.js";

/** How long one metadata file may take before the download is abandoned. */
const FETCH_TIMEOUT_MS = 30_000;
/** More than any feed's metadata file (targets.json of 10,000 releases is about 5 MB). */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;
/** Root versions walked at most: rotations are rare, and a bad number must not loop for ever. */
const MAX_ROOT_VERSION = 1000;

export interface DownloadPublishedFeedOptions {
  /** The site's base URL, where `metadata/` and `targets/` are (https, or http on loopback). */
  url: string;
  /** The folder to write `metadata/…` into. */
  into: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}

/**
 * Downloads the published feed's metadata into `into`. Returns false when nothing is published
 * yet (timestamp.json answers 404). Throws PinlineError for any other answer, an unreachable
 * site, or metadata that is not what pinline publishes.
 */
export async function downloadPublishedFeed(
  options: DownloadPublishedFeedOptions,
): Promise<boolean> {
  const base = siteUrl(options.url);
  const get = (name: string) =>
    fetchMetadata(
      new URL(`${METADATA_DIR}/${name}`, base),
      options.fetch ?? globalThis.fetch,
      options.timeoutMs ?? FETCH_TIMEOUT_MS,
    );

  const timestamp = await get("timestamp.json");
  if (timestamp === "absent") return false;
  const files = new Map<string, Buffer>([["timestamp.json", timestamp]]);
  for (const name of ["snapshot.json", "targets.json", "root.json"]) {
    files.set(name, present(await get(name), base, name));
  }
  const rootVersion = versionOf(files.get("root.json") as Buffer, base, "root.json");
  if (rootVersion > MAX_ROOT_VERSION) {
    throw new PinlineError(
      `the published feed at ${base.href} claims root version ${rootVersion}, more than pinline walks (${MAX_ROOT_VERSION})`,
      { hint: "check previous-url: it should be the site this workflow publishes" },
    );
  }
  for (let n = 1; n <= rootVersion; n++) {
    files.set(`${n}.root.json`, present(await get(`${n}.root.json`), base, `${n}.root.json`));
  }

  const dir = join(options.into, METADATA_DIR);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return true;
}

/** The base URL with a final slash, so relative paths resolve beneath it. */
function siteUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.endsWith("/") ? text : `${text}/`);
  } catch {
    throw new UsageError(`previous-url ${JSON.stringify(text)} is not a URL`, {
      hint: "give the site where the feed is published, such as https://acme.github.io/releases/",
    });
  }
  const loopback =
    url.hostname === "localhost" ||
    url.hostname === "[::1]" ||
    /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new UsageError(`previous-url ${url.href} is not https`, {
      hint: "the published feed's versions decide the next ones: they are read over https only",
    });
  }
  return url;
}

function present(bytes: Buffer | "absent", base: URL, name: string): Buffer {
  if (bytes !== "absent") return bytes;
  throw new PinlineError(
    `the published feed at ${base.href} is incomplete: it has ${METADATA_DIR}/timestamp.json but ${METADATA_DIR}/${name} answers 404`,
    {
      hint: "publish a complete feed from a local copy with the previous input, or check previous-url",
    },
  );
}

function versionOf(bytes: Buffer, base: URL, name: string): number {
  let version: unknown;
  try {
    version = (JSON.parse(bytes.toString("utf8")) as { signed?: { version?: unknown } }).signed
      ?.version;
  } catch {
    version = undefined;
  }
  if (typeof version === "number" && Number.isInteger(version) && version >= 1) return version;
  throw new PinlineError(
    `the published feed at ${base.href} has a ${METADATA_DIR}/${name} that is not TUF metadata with a version`,
    { hint: "check previous-url: it should be the site this workflow publishes" },
  );
}

/**
 * GET one metadata file: its bytes, or "absent" on 404. The URL carries a query that no cache
 * has seen: GitHub Pages' CDN keeps files for minutes, and a stale timestamp.json would make
 * the next build reuse a version number installations already hold.
 */
async function fetchMetadata(
  url: URL,
  fetchUrl: typeof globalThis.fetch,
  timeoutMs: number,
): Promise<Buffer | "absent"> {
  const fresh = new URL(url);
  fresh.searchParams.set("pinline-fresh", `${Date.now()}-${process.pid}`);
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetchUrl(fresh, {
      redirect: "follow",
      headers: { "cache-control": "no-cache" },
      signal,
    });
  } catch (error) {
    throw new PinlineError(
      `cannot read the published feed: GET ${url.href} failed: ${cause(error)}`,
      {
        hint: "check previous-url and that the site is up, then run again",
        cause: error,
      },
    );
  }
  if (response.status === 404) {
    await response.body?.cancel();
    return "absent";
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new PinlineError(
      `cannot read the published feed: GET ${url.href} answered ${`${response.status} ${response.statusText}`.trim()}`,
      {
        hint: "the new feed must continue the published one's versions, so nothing was built; run again when the site answers",
      },
    );
  }
  try {
    return await readBounded(response, MAX_METADATA_BYTES);
  } catch (error) {
    throw new PinlineError(`cannot read the published feed: GET ${url.href}: ${cause(error)}`, {
      hint: "check previous-url and that the site is up, then run again",
      cause: error,
    });
  }
}

async function readBounded(response: Response, max: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > max) {
      await reader.cancel();
      throw new Error(`the answer is longer than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function cause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}
