/**
 * `pinline serve`: the specification's update server (sections 2.3, 6.1, 7, 9.2) on fastify.
 *
 *   GET  /api/v1/updates/check    the update-check answer, from the verified feed in memory
 *   POST /api/v1/updates/status   an installation's status report, stored in PostgreSQL
 *   GET  /api/v1/updates/stats    success rate, update time, rollbacks, from the stored reports
 *   GET  /api/v1/updates/events   Server-Sent Events: notifications when the feed offers more
 *   GET  /health/live, /health/ready, /metrics
 *   GET  /feed/metadata/*, /feed/targets/*   the verified feed in service, for TUF clients
 *
 * It answers installations on the open internet, so every client is bounded (SERVER_LIMITS):
 * connections in all and per client address, event streams in all and per client address,
 * the time to send headers and a whole request, keep-alive, the answer memo in entries and
 * bytes, the database's time (report-store.ts); an expired feed is never served.
 *
 * The composition is here; each concern is a module of its own beside this one.
 */
import { BlockList, isIPv6, type Socket } from "node:net";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type onRequestHookHandler,
  type onResponseHookHandler,
} from "fastify";
import { UsageError } from "../core/errors.js";
import type { FeedSource } from "../feed/feed-client.js";
import { toApiError } from "./answer-error.js";
import { ApiError } from "./api-error.js";
import { EventStreams } from "./event-stream.js";
import { FeedFiles } from "./feed-files.js";
import { ANSWER_CACHE } from "./feed-snapshot.js";
import { FeedWatcher } from "./feed-watcher.js";
import { identifyInstallation, LICENSE_HEADER, readLicenseKeys } from "./license-keys.js";
import { openReportStore, type ReportStore, type ReportStoreOptions } from "./report-store.js";
import { createServerMetrics } from "./server-metrics.js";
import { migrateServerSchema } from "./server-schema.js";
import { readStatusReport, STATUS_BODY_SCHEMA, type StatusBody } from "./status-report.js";
import { httpsServerOptions, type ServerTls } from "./tls-options.js";

declare module "fastify" {
  interface FastifyRequest {
    /** sha256 of the request's license key, set by the license check; null without one. */
    installation: string | null;
    /** performance.now() when a route that times itself started (0: fastify times it). */
    startedAt: number;
  }
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "127.0.0.1";
/** A status report is a few hundred bytes; 16 KiB leaves room for a long errors list. */
export const DEFAULT_BODY_LIMIT = 16 * 1024;
export const DEFAULT_RELOAD_SECONDS = 60;

/** What one server admits at once, and for how long. */
export interface ServerLimits {
  /** Connections open at once; beyond, new ones are closed as they come. */
  connections: number;
  /**
   * Connections one TCP peer may hold open at once (a trusted proxy is not bound by it: its
   * clients are bound by the other limits); beyond, new ones are closed as they come.
   */
  connectionsPerClient: number;
  /** Event streams open at once; beyond, 503 with Retry-After. */
  eventStreams: number;
  /** Event streams one client address may hold; beyond, 503 with Retry-After. */
  eventStreamsPerClient: number;
  /** The time a client has to send a request's headers, ms. */
  headersTimeoutMs: number;
  /** The time a client has to send a whole request, body included (a stalled body is cut), ms. */
  requestTimeoutMs: number;
  /** A connection with no traffic either way is closed after this, ms (streams excepted). */
  idleTimeoutMs: number;
  /** How long an idle keep-alive connection is kept between requests, ms. */
  keepAliveTimeoutMs: number;
  /**
   * Requests served on one keep-alive connection before it is closed (0: no limit, the
   * default). Node answers a request sent past it 503 instead of closing, which clients that
   * ignore "Connection: close" (load generators) meet; idle connections are bounded by
   * keepAliveTimeoutMs and idleTimeoutMs either way.
   */
  requestsPerConnection: number;
  /** The update-check memo (feed-snapshot.ts): answers kept, and their bytes. */
  answerCacheEntries: number;
  answerCacheBytes: number;
}

/**
 * The defaults, chosen for one process on a small machine serving a few thousand
 * installations: a status report or a check is a few hundred bytes sent at once, so 10 s for
 * headers and 30 s for a whole request leave slow links room while a slowloris client is cut
 * within seconds; 1,000 streams of 10 a client address keep room for checks under the
 * 10,000 connections; 256 connections a peer are far more than an installation (or a NAT of
 * them) uses, and far fewer than it takes to hold the server.
 */
export const SERVER_LIMITS: ServerLimits = {
  connections: 10_000,
  connectionsPerClient: 256,
  eventStreams: 1_000,
  eventStreamsPerClient: 10,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  requestsPerConnection: 0,
  answerCacheEntries: ANSWER_CACHE.entries,
  answerCacheBytes: ANSWER_CACHE.bytes,
};

export interface UpdateServerOptions {
  /** The feed: a folder (as `pinline feed build` writes it) or the URL it is published at. */
  feed: string;
  /** The trusted root of an URL feed (a folder's own metadata/1.root.json is the default). */
  trustedRoot?: string | undefined;
  /** Where the verified metadata is cached (default: a temporary folder, removed on close). */
  feedCacheDir?: string | undefined;
  databaseUrl: string;
  /** The database pool's bounds (REPORT_STORE_DEFAULTS for those not given). */
  database?: ReportStoreOptions | undefined;
  port?: number | undefined;
  host?: string | undefined;
  /** A file of sha256 hashes of the accepted license keys, one a line. */
  licenseKeys?: string | undefined;
  /** Largest request body, bytes (default 16 KiB); larger ones are answered 413. */
  bodyLimit?: number | undefined;
  tls?: ServerTls | undefined;
  /**
   * The proxies in front of the server (addresses or CIDRs, such as "127.0.0.1" or
   * "10.0.0.0/8"): a request from one of them is known by the client address its
   * X-Forwarded-For names, for logs and the per-client limits. Default: none (every request is
   * its TCP peer).
   */
  trustProxy?: readonly string[] | undefined;
  /** Seconds between feed reloads (default 60; 0: never, reload() only). */
  reloadIntervalSeconds?: number | undefined;
  /** Seconds between keepalive comments on event streams (default 15). */
  keepaliveSeconds?: number | undefined;
  /** Bounds on clients (SERVER_LIMITS for those not given). */
  limits?: Partial<ServerLimits> | undefined;
  /**
   * Request logging (pino, through fastify): off by default, so the hot path logs nothing. The
   * license key header is redacted whatever is logged.
   */
  logger?: boolean | { stream: NodeJS.WritableStream; level?: string } | undefined;
  /** Migrate the server's schema at start (default true). */
  migrate?: boolean | undefined;
  /** Progress of the start (migration), one line a call. */
  onProgress?: ((message: string) => void) | undefined;
  /** Errors that became a 500 answer (the log has them too when logging is on). */
  onInternalError?: ((error: unknown) => void) | undefined;
}

export interface UpdateServer {
  app: FastifyInstance;
  feed: FeedWatcher;
  /** Starts listening and reloading the feed; resolves the server's URL. */
  listen(): Promise<string>;
  /** The URL it listens on, once listening. */
  readonly url: string | undefined;
  /** Reloads the feed now; true when its version changed. */
  reload(): Promise<boolean>;
  /** Ends event streams, stops listening, closes the database pool. */
  close(): Promise<void>;
}

const JSON_TYPE = "application/json; charset=utf-8";
const CHANNEL_HEADER = "x-channel";
const CURRENT_HEADER = "x-current-version";
const DEFAULT_CHANNEL = "stable";
const CHECK_ROUTE = "/api/v1/updates/check";
const EVENTS_ROUTE = "/api/v1/updates/events";

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The query parameters a logged URL keeps; every other one's value is redacted. */
const LOGGED_QUERY = new Set(["channel", "current"]);

/**
 * A request's URL as logged: the path, and the query with the values of every parameter but
 * channel and current redacted — whatever a client puts in an URL (a license key, a token)
 * never reaches the log.
 */
export function loggedUrl(url: string): string {
  const at = url.indexOf("?");
  if (at < 0) return url;
  const query = new URLSearchParams(url.slice(at + 1));
  const kept = [...query].map(
    ([name, value]) =>
      `${encodeURIComponent(name)}=${LOGGED_QUERY.has(name) ? encodeURIComponent(value) : "[redacted]"}`,
  );
  return `${url.slice(0, at)}?${kept.join("&")}`;
}

function loggerOptions(logger: UpdateServerOptions["logger"]): FastifyServerOptions["logger"] {
  if (!logger) return false;
  const redact = {
    paths: [
      `req.headers["${LICENSE_HEADER}"]`,
      "req.headers.authorization",
      `req.headers["proxy-authorization"]`,
      "req.headers.cookie",
    ],
    censor: "[redacted]",
  };
  // Requests are logged with their headers (channel, version), the license key redacted, and
  // their URL without the values of parameters the server does not read.
  const serializers = {
    req: (request: FastifyRequest) => ({
      method: request.method,
      url: loggedUrl(request.url),
      headers: { ...request.headers },
      remoteAddress: request.ip,
    }),
  };
  const level = logger === true ? "info" : (logger.level ?? "info");
  return {
    level,
    redact,
    serializers,
    ...(logger === true ? {} : { stream: logger.stream }),
  } as FastifyServerOptions["logger"];
}

/** The trusted proxies as a BlockList (addresses and CIDRs); UsageError for anything else. */
function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const type = isIPv6(address) ? "ipv6" : "ipv4";
    try {
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
    } catch {
      throw new UsageError(`"${entry}" is not an address or a CIDR range`, {
        hint: 'name the proxies in front of the server by address ("127.0.0.1") or range ("10.0.0.0/8")',
      });
    }
  }
  return list;
}

/** A peer's address as the proxy list reads it ("::ffff:127.0.0.1" is 127.0.0.1). */
function peerOf(socket: Socket): { address: string; type: "ipv4" | "ipv6" } | undefined {
  const raw = socket.remoteAddress;
  if (!raw) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw);
  if (mapped) return { address: mapped[1] as string, type: "ipv4" };
  return { address: raw, type: isIPv6(raw) ? "ipv6" : "ipv4" };
}

/**
 * Closes a new connection beyond the server's or its peer's share: node's maxConnections for
 * the total, a count per peer address here (the proxies named trusted excepted).
 */
function boundConnections(
  server: { maxConnections: number; on(event: "connection", f: (s: Socket) => void): unknown },
  limits: ServerLimits,
  trusted: BlockList,
): void {
  server.maxConnections = limits.connections;
  const perPeer = new Map<string, number>();
  server.on("connection", (socket) => {
    const peer = peerOf(socket);
    if (!peer || trusted.check(peer.address, peer.type)) return;
    const open = (perPeer.get(peer.address) ?? 0) + 1;
    if (open > limits.connectionsPerClient) {
      socket.destroy();
      return;
    }
    perPeer.set(peer.address, open);
    socket.once("close", () => {
      const left = (perPeer.get(peer.address) ?? 1) - 1;
      if (left > 0) perPeer.set(peer.address, left);
      else perPeer.delete(peer.address);
    });
  });
}

/** The answer of a route that serves the feed, when the feed in service has expired. */
function feedUnavailable(reason: string, retryAfterSeconds: number): ApiError {
  return new ApiError(503, "feed_expired", reason, {
    hint: "the feed's publisher must re-sign it (its scheduled publish run); installations refuse an expired feed, so the server does not serve it",
    retryAfterSeconds,
  });
}

/**
 * Builds the update server: reads the key list, migrates its schema, opens the database pool
 * and the feed (which must verify), and registers the routes. Call listen() to serve.
 */
export async function createUpdateServer(options: UpdateServerOptions): Promise<UpdateServer> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const limits = { ...SERVER_LIMITS, ...options.limits };
  const trusted = proxyList(options.trustProxy ?? []);
  const keys = options.licenseKeys ? readLicenseKeys(options.licenseKeys) : undefined;
  const https = options.tls ? httpsServerOptions(options.tls) : undefined;
  if (options.migrate !== false) {
    await migrateServerSchema({
      databaseUrl: options.databaseUrl,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  const source: FeedSource = {
    feed: options.feed,
    ...(options.trustedRoot ? { trustedRoot: options.trustedRoot } : {}),
    ...(options.feedCacheDir ? { cacheDir: options.feedCacheDir } : {}),
  };
  const watcher = await FeedWatcher.open(source, {
    entries: limits.answerCacheEntries,
    bytes: limits.answerCacheBytes,
  });
  const store = openReportStore(options.databaseUrl, options.database);
  try {
    return buildServer({ options, limits, trusted, bodyLimit, keys, https, watcher, store });
  } catch (error) {
    await store.close();
    await watcher.close();
    throw error;
  }
}

function buildServer(parts: {
  options: UpdateServerOptions;
  limits: ServerLimits;
  trusted: BlockList;
  bodyLimit: number;
  keys: ReadonlySet<string> | undefined;
  https: ReturnType<typeof httpsServerOptions> | undefined;
  watcher: FeedWatcher;
  store: ReportStore;
}): UpdateServer {
  const { options, limits, bodyLimit, keys, watcher, store } = parts;
  // Node checks the header and request timeouts every connectionsCheckingInterval (30 s by
  // default): a stalled client is cut within a second of its deadline instead.
  const timeouts = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  };
  const reloadSeconds = options.reloadIntervalSeconds ?? DEFAULT_RELOAD_SECONDS;
  const retryAfter = reloadSeconds > 0 ? reloadSeconds : DEFAULT_RELOAD_SECONDS;
  const app = Fastify({
    bodyLimit,
    logger: loggerOptions(options.logger),
    return503OnClosing: true,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxRequestsPerSocket: limits.requestsPerConnection,
    http: timeouts,
    trustProxy:
      options.trustProxy && options.trustProxy.length > 0 ? [...options.trustProxy] : false,
    // Bodies are checked as sent: no type coercion, nothing removed, first problem reported.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    ...(parts.https ? { https: { ...parts.https, ...timeouts } } : {}),
  } as FastifyServerOptions) as unknown as FastifyInstance;
  app.server.headersTimeout = limits.headersTimeoutMs;
  boundConnections(app.server, limits, parts.trusted);
  app.removeContentTypeParser("text/plain");

  const streams = new EventStreams(watcher, {
    keepaliveMs: (options.keepaliveSeconds ?? 15) * 1000,
    maxStreams: limits.eventStreams,
    maxStreamsPerClient: limits.eventStreamsPerClient,
  });
  const metrics = createServerMetrics({
    feedVersion: () => watcher.snapshot.version,
    feedExpiresAt: () => watcher.snapshot.expiresAt,
    answerCache: () => watcher.snapshot.cached,
    eventSubscribers: () => streams.size,
    stats: () => store.stats(),
  });
  watcher.onError(() => metrics.feedReloadFailed());

  app.decorateRequest("installation", null);
  app.decorateRequest("startedAt", 0);

  // Requests are counted and timed by an onResponse hook on every route but the update check,
  // the event stream and unknown paths: a route with an onResponse hook costs fastify a response
  // listener and a hook run per request, a sixth of the hot path's rate. The check times itself,
  // from its handler's start to the answer written; an event stream is counted when it opens
  // (the time to open it), and unknown paths from the not-found handler's start.
  const observe = (request: FastifyRequest, reply: FastifyReply) => {
    const seconds =
      request.startedAt > 0
        ? (performance.now() - request.startedAt) / 1000
        : reply.elapsedTime / 1000;
    metrics.observeRequest(
      request.routeOptions.url ?? "unmatched",
      request.method,
      reply.statusCode,
      seconds,
    );
  };
  app.addHook("onRoute", (route) => {
    if (route.url === CHECK_ROUTE || route.url === EVENTS_ROUTE) return;
    const hooks = route.onResponse;
    const own: onResponseHookHandler = (request, reply, done) => {
      observe(request, reply);
      done();
    };
    route.onResponse = hooks ? [...(Array.isArray(hooks) ? hooks : [hooks]), own] : [own];
  });

  app.setErrorHandler((error, request, reply) => {
    const answer = toApiError(error, bodyLimit);
    if (answer.statusCode >= 500 && answer.code === "internal_error") {
      request.log.error({ err: error }, "internal error");
      options.onInternalError?.(error);
    } else if (answer.code === "database_unavailable") {
      // The database's own words are the operator's: in the log, never in the answer.
      request.log.error({ err: answer.cause }, "the database failed");
    }
    if (answer.retryAfterSeconds !== undefined) {
      reply.header("retry-after", String(answer.retryAfterSeconds));
    }
    if (answer.closeConnection) reply.header("connection", "close");
    reply.code(answer.statusCode).type(JSON_TYPE).send(answer.body());
    const route = request.routeOptions.url;
    if (route === CHECK_ROUTE || route === EVENTS_ROUTE || route === undefined) {
      observe(request, reply);
    }
    return reply;
  });
  app.setNotFoundHandler((request) => {
    request.startedAt = performance.now();
    const path = request.url.split("?")[0];
    throw new ApiError(404, "not_found", `there is no ${request.method} ${path}`, {
      hint: "the API is under /api/v1/updates/ (check, status, stats, events)",
    });
  });
  app.addHook("preClose", (done) => {
    streams.closeAll();
    done();
  });

  /** With a key list, refuses a request without a listed key before its body is read. */
  const licensed: onRequestHookHandler[] = keys
    ? [
        (request, _reply, done) => {
          request.installation = identifyInstallation(request.headers[LICENSE_HEADER], keys);
          done();
        },
      ]
    : [];

  app.get(CHECK_ROUTE, { onRequest: licensed }, (request, reply) => {
    request.startedAt = performance.now();
    const current = header(request, CURRENT_HEADER);
    if (!current) {
      throw new ApiError(
        400,
        "missing_current_version",
        "the X-Current-Version header is missing",
        {
          hint: "send the installed version: X-Current-Version: 2.4.0",
        },
      );
    }
    const expired = watcher.unavailable();
    if (expired) throw feedUnavailable(expired, retryAfter);
    const channel = header(request, CHANNEL_HEADER) ?? DEFAULT_CHANNEL;
    const answer = watcher.snapshot.answer(channel, current);
    reply.header("content-type", JSON_TYPE).send(answer.json);
    metrics.observeRequest(
      CHECK_ROUTE,
      request.method,
      200,
      (performance.now() - request.startedAt) / 1000,
    );
    return reply;
  });

  app.post<{ Body: StatusBody }>(
    "/api/v1/updates/status",
    { onRequest: licensed, schema: { body: STATUS_BODY_SCHEMA } },
    async (request, reply) => {
      const channel = header(request, CHANNEL_HEADER) ?? DEFAULT_CHANNEL;
      watcher.snapshot.channel(channel);
      const installation = keys
        ? request.installation
        : identifyInstallation(request.headers[LICENSE_HEADER], undefined);
      const report = readStatusReport(request.body, { channel, installation });
      const id = await store.insert(report);
      return reply.code(202).type(JSON_TYPE).send({ id });
    },
  );

  app.get("/api/v1/updates/stats", async (_request, reply) =>
    reply.type(JSON_TYPE).send(await store.stats()),
  );

  app.get<{ Querystring: { channel?: string; current?: string } }>(
    EVENTS_ROUTE,
    { onRequest: licensed },
    (request, reply) => {
      request.startedAt = performance.now();
      const current = header(request, CURRENT_HEADER) ?? request.query.current;
      if (!current) {
        throw new ApiError(400, "missing_current_version", "the installed version is missing", {
          hint: "send X-Current-Version: 2.4.0, or ?current=2.4.0",
        });
      }
      const expired = watcher.unavailable();
      if (expired) throw feedUnavailable(expired, retryAfter);
      const channel = header(request, CHANNEL_HEADER) ?? request.query.channel ?? DEFAULT_CHANNEL;
      watcher.snapshot.answer(channel, current); // 400 for a bad channel or version
      streams.admit(request.ip); // 503 past the caps
      reply.hijack();
      streams.open(reply.raw, channel, current, request.ip);
      observe(request, reply);
    },
  );

  app.get("/health/live", (_request, reply) => reply.type(JSON_TYPE).send({ status: "live" }));

  app.get("/health/ready", async (request, reply) => {
    const snapshot = watcher.snapshot;
    const expired = watcher.unavailable();
    const feed = {
      version: snapshot.version,
      channels: [...snapshot.channels.keys()],
      expires: new Date(snapshot.expiresAt).toISOString(),
      ...(expired ? { expired: true } : {}),
      ...(watcher.lastError ? { lastReloadError: watcher.lastError } : {}),
    };
    let database = "ok";
    try {
      await store.ping();
    } catch (error) {
      // The cause is the operator's (the log), never the client's: it may name hosts and roles.
      request.log.warn({ err: error }, "readiness: the database does not answer");
      database = "unreachable";
    }
    const reasons = [
      ...(expired ? [expired] : []),
      ...(database === "ok" ? [] : ["the database does not answer"]),
    ];
    if (reasons.length > 0) {
      return reply
        .code(503)
        .header("retry-after", String(retryAfter))
        .type(JSON_TYPE)
        .send({ status: "unavailable", reason: reasons.join("; "), feed, database });
    }
    return reply.type(JSON_TYPE).send({ status: "ready", feed, database });
  });

  app.get("/metrics", async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  const files = new FeedFiles();
  const octets = (reply: FastifyReply, path: string) =>
    reply.type(path.endsWith(".json") ? JSON_TYPE : "application/octet-stream");
  /** The feed in service, or 503 once it has expired. */
  const servable = () => {
    const expired = watcher.unavailable();
    if (expired) throw feedUnavailable(expired, retryAfter);
    return watcher.snapshot;
  };
  app.get<{ Params: { file: string } }>(
    "/feed/metadata/:file",
    { onRequest: licensed },
    async (request, reply) =>
      octets(reply, request.params.file).send(
        await files.metadata(request.params.file, servable()),
      ),
  );
  app.get<{ Params: { "*": string } }>(
    "/feed/targets/*",
    { onRequest: licensed },
    async (request, reply) =>
      octets(reply, request.params["*"]).send(await files.target(request.params["*"], servable())),
  );

  const interval = reloadSeconds * 1000;
  let url: string | undefined;
  let closing: Promise<void> | undefined;
  return {
    app,
    feed: watcher,
    get url() {
      return url;
    },
    async listen() {
      url = await app.listen({
        port: options.port ?? DEFAULT_PORT,
        host: options.host ?? DEFAULT_HOST,
      });
      if (interval > 0) watcher.start(interval);
      return url;
    },
    reload() {
      return watcher.reload();
    },
    close() {
      closing ??= (async () => {
        watcher.stop();
        await app.close();
        await store.close();
        await watcher.close();
      })();
      return closing;
    },
  };
}
