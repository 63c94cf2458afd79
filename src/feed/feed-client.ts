/**
 * Reading the feed as an installation does: tuf-js (npm's TUF client) refreshes the metadata from
 * a trusted root, and every channel index and manifest is checked against the signed targets
 * before it is used. With consistent snapshots (the root says so) tuf-js fetches
 * `<version>.snapshot.json`, `<version>.targets.json` and each target under its hash
 * (`channels/<sha256>.stable.json`, its default prefixTargetsWithHash) by itself. The feed is
 * a folder or an http(s) URL; over https the server's key can be pinned and a client
 * certificate presented (specification section 9.2).
 */
import { createHash, X509Certificate } from "node:crypto";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { pipeline, type Readable, Transform } from "node:stream";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BaseFetcher, type TargetFile, Updater } from "tuf-js";
import { DownloadHTTPError } from "tuf-js/dist/error.js";
import { PinlineError, RefusedError, UsageError } from "../core/errors.js";
import { METADATA_DIR, TARGETS_DIR, targetFileName } from "./feed-layout.js";
import { type ChannelIndex, channelIndexPath, manifestPath } from "./feed-targets.js";

/** How to reach the server of an https feed (or a pinline server). */
export interface TlsOptions {
  /** Accepted SHA-256 hashes of the server's public key (SubjectPublicKeyInfo), base64. */
  pinSha256?: readonly string[];
  /** PEM client certificate and key, for a server that asks for one (mutual TLS). */
  clientCert?: string | Buffer | undefined;
  clientKey?: string | Buffer | undefined;
  /** PEM CA certificates to trust instead of the system's. */
  ca?: string | Buffer | undefined;
}

export interface FeedSource {
  /** A folder holding metadata/ and targets/, or the URL they are published under. */
  feed: string;
  /**
   * The trusted root metadata (a file). Needed the first time an URL is read; afterwards the
   * cached, rotated root is trusted. A folder's own metadata/1.root.json is the default there.
   */
  trustedRoot?: string;
  /** Where verified metadata and targets are kept between runs (rollback protection). */
  cacheDir?: string;
  tls?: TlsOptions;
  /** Extra request headers (X-License-Key). */
  headers?: Readonly<Record<string, string>>;
  /** Per-request timeout, ms (default 10 s). */
  timeoutMs?: number;
}

/** The verified feed, refreshed once: channel indexes and manifests checked against targets. */
export interface VerifiedFeed {
  /** The channels the feed has an index for: "stable", …, "custom:acme". */
  channels(): string[];
  /** The version of the verified timestamp metadata (grows with every publication). */
  version(): number;
  readChannel(channel: string): Promise<ChannelIndex>;
  readManifest(version: string): Promise<Buffer>;
  /**
   * The file a target is published as under targets/ ("channels/<sha256>.stable.json" with
   * consistent snapshots, else the path itself), from the verified targets metadata; undefined
   * when the feed has no such target.
   */
  targetFile(path: string): string | undefined;
  /** A target's verified bytes, by its path in the targets metadata ("channels/stable.json"). */
  readTarget(path: string): Promise<Buffer>;
  /** The version of the verified root metadata. */
  rootVersion(): number;
  /**
   * When this verified feed stops being valid: the earliest expiry of its root, targets,
   * snapshot and timestamp metadata. A TUF client refuses it from then on (a freeze attack
   * looks exactly like a feed nobody re-signs).
   */
  expires(): Date;
  /**
   * The bytes of a top-level metadata file exactly as this refresh verified them, by the name a
   * client asks for ("timestamp.json", "7.snapshot.json", "root.json", "3.root.json" for the
   * verified root, "2.root.json" for an older root of the chain this cache verified); undefined
   * for any other name. What a server hands on must be what it verified, never what sits on
   * disk after a later publication or a refused one.
   */
  metadataFile(file: string): Buffer | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const CHANNELS_PREFIX = "channels/";

function isUrl(feed: string): boolean {
  return /^https?:\/\//i.test(feed);
}

function baseUrlOf(feed: string): string {
  const base = isUrl(feed) ? feed : pathToFileURL(resolve(feed)).href;
  return base.replace(/\/+$/, "");
}

function defaultCacheDir(base: string): string {
  const cacheHome = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  const id = createHash("sha256").update(base).digest("hex").slice(0, 16);
  return join(cacheHome, "pinline", "feeds", id);
}

/**
 * The top-level metadata as verified, by the names clients ask for: timestamp.json, the root
 * (root.json and <version>.root.json), and snapshot and targets — versioned names when the
 * feed uses consistent snapshots, plain ones otherwise.
 */
function verifiedMetadataFiles(
  metadataDir: string,
  consistent: boolean,
  trusted: (role: string) => { signed: { version: number } },
): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const role of ["timestamp", "snapshot", "targets", "root"]) {
    const bytes = readFileSync(join(metadataDir, `${role}.json`));
    const version = trusted(role).signed.version;
    if (role === "timestamp") files.set("timestamp.json", bytes);
    else if (role === "root") files.set("root.json", bytes).set(`${version}.root.json`, bytes);
    else files.set(consistent ? `${version}.${role}.json` : `${role}.json`, bytes);
  }
  return files;
}

/** "sha256/AbC…=" or "AbC…=" → "AbC…=". */
function normalisePin(pin: string): string {
  return pin.replace(/^sha256\//, "").trim();
}

/** The HPKP-style pin of a certificate: base64 SHA-256 of its SubjectPublicKeyInfo. */
export function publicKeyPin(certificate: Buffer | string): string {
  const spki = new X509Certificate(certificate).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/** Request options for an https server: TLS 1.3 only, pinned key, client certificate. */
export function httpsOptions(tls: TlsOptions = {}): https.RequestOptions {
  const pins = (tls.pinSha256 ?? []).map(normalisePin);
  return {
    minVersion: "TLSv1.3",
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.clientCert ? { cert: tls.clientCert } : {}),
    ...(tls.clientKey ? { key: tls.clientKey } : {}),
    checkServerIdentity(host: string, certificate: PeerCertificate) {
      const error = checkServerIdentity(host, certificate);
      if (error || pins.length === 0) return error;
      const pin = publicKeyPin(certificate.raw);
      if (pins.includes(pin)) return undefined;
      return new Error(
        `the server's public key (sha256/${pin}) is none of the pinned keys (${pins.map((p) => `sha256/${p}`).join(", ")})`,
      );
    },
  };
}

/**
 * GET an URL as a stream, for tuf-js: 404 and 403 become DownloadHTTPError (tuf-js reads them as
 * "no newer root"), file: URLs read the folder.
 */
class FeedFetcher extends BaseFetcher {
  /** The bytes of every numbered root (`<N>.root.json`) fetched, by version. */
  readonly roots = new Map<number, Buffer>();

  constructor(
    private readonly tls: TlsOptions,
    private readonly headers: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
  ) {
    super();
  }

  override async fetch(url: string): Promise<NodeJS.ReadableStream> {
    const stream = url.startsWith("file:")
      ? await this.readFile(fileURLToPath(url))
      : await this.get(url);
    const root = /\/([1-9][0-9]{0,8})\.root\.json$/.exec(url);
    if (!root) return stream;
    // tuf-js reads each newer root through here and keeps only the newest: the bytes are kept
    // as they pass (a transform, so nothing flows before tuf-js reads), and the refresh stores
    // the chain it verified (storeVerifiedRoots).
    const chunks: Buffer[] = [];
    const version = Number(root[1]);
    const kept = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done(null, chunk);
      },
      flush: (done) => {
        this.roots.set(version, Buffer.concat(chunks));
        done();
      },
    });
    pipeline(stream, kept, () => {}); // an error of the source destroys `kept` with it
    return kept;
  }

  private readFile(path: string): Promise<Readable> {
    return new Promise((resolvePromise, reject) => {
      const stream = createReadStream(path);
      stream.once("open", () => resolvePromise(stream));
      stream.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "ENOENT" ? new DownloadHTTPError(`${path} does not exist`, 404) : error,
        ),
      );
    });
  }

  private async get(url: string): Promise<Readable> {
    const response = await httpGet(url, {
      tls: this.tls,
      headers: this.headers,
      timeoutMs: this.timeoutMs,
    });
    const status = response.statusCode ?? 0;
    if (status === 200) return response;
    response.resume();
    throw new DownloadHTTPError(`GET ${url} answered ${status}`, status);
  }
}

/**
 * GET over http or https (with httpsOptions: TLS 1.3, pinned key, client certificate): the
 * response whatever its status, or an error when there is none within `timeoutMs`.
 */
export function httpGet(
  url: string | URL,
  options: { tls?: TlsOptions; headers?: Readonly<Record<string, string>>; timeoutMs?: number },
): Promise<IncomingMessage> {
  const secure = new URL(url).protocol === "https:";
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const requestOptions = {
    ...(secure ? httpsOptions(options.tls) : {}),
    headers: { "user-agent": "pinline", ...options.headers },
    timeout: timeoutMs,
  };
  return new Promise((resolvePromise, reject) => {
    const request = (secure ? https : http).get(url, requestOptions, resolvePromise);
    request.once("timeout", () =>
      request.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)),
    );
    request.once("error", reject);
  });
}

/** Puts the trusted root into an empty cache: the given file, or a folder feed's first root. */
function seedTrustedRoot(source: FeedSource, metadataDir: string): void {
  const cached = join(metadataDir, "root.json");
  if (existsSync(cached)) return;
  let trusted = source.trustedRoot;
  if (!trusted && !isUrl(source.feed)) trusted = join(source.feed, METADATA_DIR, "1.root.json");
  if (!trusted) {
    throw new UsageError(`no trusted root for the feed at ${source.feed}`, {
      hint: "pass --trusted-root FILE: the feed's metadata/1.root.json, shipped with the installation (never fetched from the feed itself)",
    });
  }
  if (!existsSync(trusted)) {
    throw new UsageError(`the trusted root ${trusted} does not exist`, {
      hint: "pass --trusted-root FILE with the feed's metadata/1.root.json",
    });
  }
  mkdirSync(metadataDir, { recursive: true });
  copyFileSync(trusted, cached);
}

/** Where a cache keeps every root of the chain it verified, as `<version>.root.json`. */
const ROOTS_DIR = "roots";

/**
 * Keeps the roots a refresh verified (the cached root it started from, and each newer one
 * tuf-js accepted on the way to `verifiedVersion`) in the cache's roots/ folder, written then
 * renamed; returns every root kept there, by version.
 */
function storeVerifiedRoots(
  cacheDir: string,
  fetched: ReadonlyMap<number, Buffer>,
  startedFrom: Buffer,
  verifiedVersion: number,
): Map<number, Buffer> {
  const dir = join(cacheDir, ROOTS_DIR);
  mkdirSync(dir, { recursive: true });
  const chain = new Map(fetched);
  const start = (JSON.parse(startedFrom.toString("utf8")) as { signed?: { version?: unknown } })
    .signed?.version;
  if (typeof start === "number") chain.set(start, startedFrom);
  for (const [version, bytes] of chain) {
    if (version > verifiedVersion) continue;
    const file = join(dir, `${version}.root.json`);
    if (existsSync(file)) continue;
    const staging = `${file}.${process.pid}.tmp`;
    writeFileSync(staging, bytes);
    renameSync(staging, file);
  }
  const kept = new Map<number, Buffer>();
  for (const name of readdirSync(dir)) {
    const match = /^([1-9][0-9]{0,8})\.root\.json$/.exec(name);
    if (match) kept.set(Number(match[1]), readFileSync(join(dir, name)));
  }
  return kept;
}

/** Explains a tuf-js refusal in the words of the attack it stopped. */
function refused(feed: string, error: unknown): PinlineError {
  if (error instanceof PinlineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RefusedError(`the feed at ${feed} does not verify: ${message}`, {
    hint: "a feed older than one seen before (rollback), expired (freeze), signed below threshold or with a target that differs from its signed hash is refused; ask the feed's publisher",
  });
}

/**
 * Refreshes the feed's metadata with tuf-js from the trusted root (or the cached one) and returns
 * a reader of verified targets. Throws RefusedError when the feed does not verify.
 */
export async function openFeed(source: FeedSource): Promise<VerifiedFeed> {
  const base = baseUrlOf(source.feed);
  const cacheDir = source.cacheDir ?? defaultCacheDir(base);
  const metadataDir = join(cacheDir, METADATA_DIR);
  const targetDir = join(cacheDir, TARGETS_DIR);
  seedTrustedRoot(source, metadataDir);
  mkdirSync(targetDir, { recursive: true });
  const startedFrom = readFileSync(join(metadataDir, "root.json"));
  const fetcher = new FeedFetcher(
    source.tls ?? {},
    source.headers ?? {},
    source.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
  const updater = new Updater({
    metadataDir,
    metadataBaseUrl: `${base}/${METADATA_DIR}`,
    targetDir,
    targetBaseUrl: `${base}/${TARGETS_DIR}`,
    fetcher,
  });
  try {
    await updater.refresh();
  } catch (error) {
    throw refused(source.feed, error);
  }

  async function download(path: string, missing: () => PinlineError): Promise<Buffer> {
    let info: TargetFile | undefined;
    try {
      info = await updater.getTargetInfo(path);
    } catch (error) {
      throw refused(source.feed, error);
    }
    if (!info) throw missing();
    try {
      const file = (await updater.findCachedTarget(info)) ?? (await updater.downloadTarget(info));
      return readFileSync(file);
    } catch (error) {
      throw refused(source.feed, error);
    }
  }

  // What this refresh verified, read once: a later refresh on the same cache does not change it.
  const trusted = (role: string) =>
    JSON.parse(readFileSync(join(metadataDir, `${role}.json`), "utf8")) as {
      signed: {
        version: number;
        expires: string;
        consistent_snapshot?: boolean;
        targets?: Record<string, { hashes?: Record<string, string> }>;
      };
    };
  const targets = trusted("targets").signed.targets ?? {};
  const timestampVersion = trusted("timestamp").signed.version;
  const root = trusted("root").signed;
  const consistent = root.consistent_snapshot === true;
  const verifiedFiles = verifiedMetadataFiles(metadataDir, consistent, trusted);
  for (const [version, bytes] of storeVerifiedRoots(
    cacheDir,
    fetcher.roots,
    startedFrom,
    root.version,
  )) {
    if (version < root.version) verifiedFiles.set(`${version}.root.json`, bytes);
  }
  const expires = new Date(
    Math.min(
      ...["root", "targets", "snapshot", "timestamp"].map((role) =>
        Date.parse(trusted(role).signed.expires),
      ),
    ),
  );
  return {
    channels() {
      return Object.keys(targets)
        .filter((path) => path.startsWith(CHANNELS_PREFIX) && path.endsWith(".json"))
        .map((path) => path.slice(CHANNELS_PREFIX.length, -".json".length))
        .map((name) =>
          name.startsWith("custom/") ? `custom:${name.slice("custom/".length)}` : name,
        )
        .sort();
    },
    version() {
      return timestampVersion;
    },
    rootVersion() {
      return root.version;
    },
    expires() {
      return expires;
    },
    metadataFile(file) {
      return verifiedFiles.get(file);
    },
    readTarget(path) {
      return download(path, () => new UsageError(`the feed has no target ${path}`));
    },
    targetFile(path) {
      const hash = Object.hasOwn(targets, path) ? targets[path]?.hashes?.sha256 : undefined;
      return hash ? targetFileName(path, hash, consistent) : undefined;
    },
    async readChannel(channel) {
      const bytes = await download(
        channelIndexPath(channel),
        () =>
          new UsageError(`the feed has no channel "${channel}"`, {
            hint: 'use "stable", "beta", "early-access" or a "custom:<name>" channel a policy defines',
          }),
      );
      return JSON.parse(bytes.toString("utf8")) as ChannelIndex;
    },
    readManifest(version) {
      return download(
        manifestPath(version),
        () => new UsageError(`the feed has no release ${version}`),
      );
    },
  };
}
