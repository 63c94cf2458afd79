/**
 * The feed as it is published now, read back from its site so that the next build continues
 * its versions: timestamp.json, every N.root.json from 1 until the site answers 404 (as a TUF
 * client walks them), and the snapshot and targets metadata the timestamp leads to (versioned
 * names when the root has consistent snapshots), written to a local folder laid out the way
 * buildFeed's `previous` expects. Nothing downloaded is trusted here: buildFeed verifies it
 * against the root key before it continues a single version (verify-feed-metadata.ts).
 * The targets are not fetched: the build makes them again; those of the published version it
 * does not make again are fetched afterwards (downloadPublishedTargets), checked against the
 * verified hashes, so that readers of that version still find them.
 *
 * A 404 on timestamp.json means nothing is published yet. Anything else that goes wrong fails:
 * a feed built without the published one's versions would start again at 1, and every
 * installation that has seen the published feed would refuse it as a rollback.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PinlineError, UsageError } from "../core/errors.js";
import type { MissingPreviousTarget } from "../feed/build-feed.js";
import { METADATA_DIR, metadataFileName, TARGETS_DIR } from "../feed/feed-layout.js";

/** How long one metadata file may take before the download is abandoned. */
const FETCH_TIMEOUT_MS = 30_000;
/** More than any feed's metadata file (targets.json of 10,000 releases is about 5 MB). */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;
/** Root versions walked at most: rotations are rare, and a bad site must not loop for ever. */
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
    fetchFile(
      new URL(`${METADATA_DIR}/${name}`, base),
      options.fetch ?? globalThis.fetch,
      options.timeoutMs ?? FETCH_TIMEOUT_MS,
    );

  const timestamp = await get("timestamp.json");
  if (timestamp === "absent") return false;
  const files = new Map<string, Buffer>([["timestamp.json", timestamp]]);
  let newest: Buffer | undefined;
  for (let n = 1; ; n++) {
    if (n > MAX_ROOT_VERSION) {
      throw new PinlineError(
        `the published feed at ${base.href} has more than ${MAX_ROOT_VERSION} root versions, more than pinline walks`,
        { hint: "check previous-url: it should be the site this workflow publishes" },
      );
    }
    const root = await get(`${n}.root.json`);
    if (root === "absent") break;
    files.set(`${n}.root.json`, root);
    newest = root;
  }
  if (!newest) present("absent", base, "1.root.json");
  files.set("root.json", newest as Buffer);
  const consistent = fieldOf(newest as Buffer, ["consistent_snapshot"]) === true;
  const snapshotName = metadataFileName(
    "snapshot",
    versionOf(timestamp, base, "timestamp.json", "snapshot.json"),
    consistent,
  );
  const snapshot = present(await get(snapshotName), base, snapshotName);
  files.set(snapshotName, snapshot);
  const targetsName = metadataFileName(
    "targets",
    versionOf(snapshot, base, snapshotName, "targets.json"),
    consistent,
  );
  files.set(targetsName, present(await get(targetsName), base, targetsName));

  const dir = join(options.into, METADATA_DIR);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return true;
}

export interface DownloadPublishedTargetsOptions {
  url: string;
  /** Target files of the published version, with the length and hash its verified targets give. */
  targets: readonly MissingPreviousTarget[];
  /** The feed folder to add them to (under targets/). */
  into: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}

/**
 * Copies target files of the published version from the site into the new feed, each only if
 * its bytes have the length and sha256 the verified targets metadata gives. Returns the files
 * that could not be copied, and why: the new feed is complete without them; only a reader of
 * the previous version (a cached timestamp.json) would miss them.
 */
export async function downloadPublishedTargets(
  options: DownloadPublishedTargetsOptions,
): Promise<{ file: string; reason: string }[]> {
  const base = siteUrl(options.url);
  const missed: { file: string; reason: string }[] = [];
  for (const target of options.targets) {
    let bytes: Buffer | "absent";
    try {
      bytes = await fetchFile(
        new URL(`${TARGETS_DIR}/${target.file}`, base),
        options.fetch ?? globalThis.fetch,
        options.timeoutMs ?? FETCH_TIMEOUT_MS,
      );
    } catch (error) {
      missed.push({ file: target.file, reason: (error as Error).message });
      continue;
    }
    if (bytes === "absent") {
      missed.push({ file: target.file, reason: "the site answers 404" });
    } else if (
      bytes.length !== target.length ||
      createHash("sha256").update(bytes).digest("hex") !== target.sha256
    ) {
      missed.push({ file: target.file, reason: "its bytes differ from its signed hash" });
    } else {
      const path = join(options.into, TARGETS_DIR, ...target.file.split("/"));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
    }
  }
  return missed;
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

function fieldOf(bytes: Buffer, path: readonly string[]): unknown {
  try {
    let value: unknown = (JSON.parse(bytes.toString("utf8")) as { signed?: unknown }).signed;
    for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
    return value;
  } catch {
    return undefined;
  }
}

/** The version `name` gives of `entry` (unverified: only to know which file to fetch). */
function versionOf(bytes: Buffer, base: URL, name: string, entry: string): number {
  const version = fieldOf(bytes, ["meta", entry, "version"]);
  if (typeof version === "number" && Number.isSafeInteger(version) && version >= 1) return version;
  throw new PinlineError(
    `the published feed at ${base.href} has a ${METADATA_DIR}/${name} that names no version of ${entry}`,
    { hint: "check previous-url: it should be the site this workflow publishes" },
  );
}

/**
 * GET one file of the feed: its bytes, or "absent" on 404. The URL carries a query that no cache
 * has seen: GitHub Pages' CDN keeps files for minutes, and a stale timestamp.json would make
 * the next build reuse a version number installations already hold.
 */
async function fetchFile(
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
