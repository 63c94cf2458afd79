/**
 * GET /api/v1/updates/events: Server-Sent Events for installations that keep a connection open.
 * A subscriber names its channel and version; the stream starts with a comment and carries a
 * keepalive comment every interval. When a reload brings a feed that offers the subscriber an
 * update it has not been offered on this stream, two events follow: `notification` (the
 * specification's UpdateNotification, section 6.1) and `message` (the frontend's
 * UPDATE_AVAILABLE, section 4.2). What the feed offered when the stream opened counts as
 * offered: the installation learns it from the update check.
 *
 * Streams are bounded: at most `maxStreams` at once and `maxStreamsPerClient` per client
 * address (the X-Forwarded-For client behind a trusted proxy); beyond either, a new stream is
 * answered 503 with Retry-After, so no client can hold every connection and the checks and
 * health probes keep answering. A subscriber that stops reading is dropped once
 * `maxBufferedBytes` wait unsent.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { parseYaml } from "../repo/parse-yaml.js";
import { ApiError } from "./api-error.js";
import type { FeedSnapshot } from "./feed-snapshot.js";
import type { FeedWatcher } from "./feed-watcher.js";
import {
  buildUpdateNotification,
  type Changelog,
  frontendUpdateMessage,
} from "./update-notification.js";

interface Subscriber {
  response: ServerResponse;
  /** The client address it counts against. */
  client: string;
  channel: string;
  current: string;
  /** The version last offered on this stream. */
  offered: string | undefined;
  /** Events go out in order, one offer after the other. */
  queue: Promise<void>;
}

export interface EventStreamOptions {
  /** Between keepalive comments (default 15 s). */
  keepaliveMs?: number;
  /** How long a disconnected client waits before reconnecting (the `retry:` field). */
  retryMs?: number;
  /** Streams open at once (default 1,000). */
  maxStreams?: number;
  /** Streams one client address may hold (default 10). */
  maxStreamsPerClient?: number;
  /** Unsent bytes after which a subscriber that does not read is dropped (default 64 KiB). */
  maxBufferedBytes?: number;
  /** What a refused stream is told to wait before it tries again (default 30 s). */
  retryAfterSeconds?: number;
  now?: () => Date;
}

export const STREAM_LIMITS = {
  maxStreams: 1_000,
  maxStreamsPerClient: 10,
  maxBufferedBytes: 64 * 1024,
  retryAfterSeconds: 30,
} as const;

/** The frame of one event: `event:`, optional `id:`, `data:` and a blank line. */
export function eventFrame(event: string, data: unknown, id?: string): string {
  return `event: ${event}\n${id ? `id: ${id}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
}

/** The changelog of a manifest's YAML, or undefined when it has none or cannot be read. */
function changelogOf(manifest: Buffer): Changelog | undefined {
  const value = parseYaml(manifest.toString("utf8"), "release.yaml").yaml?.value as
    | { changelog?: Changelog }
    | undefined;
  return value?.changelog;
}

export class EventStreams {
  private readonly subscribers = new Set<Subscriber>();
  private readonly perClient = new Map<string, number>();
  private readonly keepalive: NodeJS.Timeout;
  private readonly retryMs: number;
  private readonly limits: Required<
    Pick<
      EventStreamOptions,
      "maxStreams" | "maxStreamsPerClient" | "maxBufferedBytes" | "retryAfterSeconds"
    >
  >;
  private readonly now: () => Date;

  constructor(
    private readonly watcher: FeedWatcher,
    options: EventStreamOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 10_000;
    this.limits = {
      maxStreams: options.maxStreams ?? STREAM_LIMITS.maxStreams,
      maxStreamsPerClient: options.maxStreamsPerClient ?? STREAM_LIMITS.maxStreamsPerClient,
      maxBufferedBytes: options.maxBufferedBytes ?? STREAM_LIMITS.maxBufferedBytes,
      retryAfterSeconds: options.retryAfterSeconds ?? STREAM_LIMITS.retryAfterSeconds,
    };
    this.now = options.now ?? (() => new Date());
    this.keepalive = setInterval(
      () => this.broadcast(": keepalive\n\n"),
      options.keepaliveMs ?? 15_000,
    );
    this.keepalive.unref();
    watcher.onChange((snapshot) => this.offer(snapshot));
  }

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Throws ApiError 503 (with Retry-After) when a new stream for `client` would pass a cap:
   * called before the request is hijacked, so that the refusal is an ordinary JSON answer.
   */
  admit(client: string): void {
    const { maxStreams, maxStreamsPerClient, retryAfterSeconds } = this.limits;
    const hint = `try again in ${retryAfterSeconds} s; meanwhile poll GET /api/v1/updates/check`;
    if (this.subscribers.size >= maxStreams) {
      throw new ApiError(
        503,
        "too_many_streams",
        `the server holds its maximum of ${maxStreams} event streams`,
        { hint, retryAfterSeconds, closeConnection: true },
      );
    }
    if ((this.perClient.get(client) ?? 0) >= maxStreamsPerClient) {
      throw new ApiError(
        503,
        "too_many_streams",
        `this client address holds its maximum of ${maxStreamsPerClient} event streams`,
        { hint: `close a stream, or ${hint}`, retryAfterSeconds, closeConnection: true },
      );
    }
  }

  /**
   * Opens a stream on a response whose request fastify no longer handles (hijacked). The
   * channel and version must already have been checked (an answer exists for them), and the
   * caps by admit().
   */
  open(response: ServerResponse, channel: string, current: string, client: string): void {
    const answer = this.watcher.snapshot.answer(channel, current).response;
    const subscriber: Subscriber = {
      response,
      client,
      channel,
      current,
      offered: answer.updateAvailable ? answer.version : undefined,
      queue: Promise.resolve(),
    };
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    response.write(`retry: ${this.retryMs}\n: subscribed to ${channel} at ${current}\n\n`);
    // A stream is quiet but for the keepalive: the server's idle timeout is for requests, and a
    // peer that is gone is found by TCP keepalive or by the bytes it leaves unread.
    response.socket?.setTimeout(0);
    response.socket?.setKeepAlive(true, 30_000);
    this.subscribers.add(subscriber);
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    response.once("close", () => this.forget(subscriber));
  }

  private forget(subscriber: Subscriber): void {
    if (!this.subscribers.delete(subscriber)) return;
    const left = (this.perClient.get(subscriber.client) ?? 1) - 1;
    if (left > 0) this.perClient.set(subscriber.client, left);
    else this.perClient.delete(subscriber.client);
  }

  /** Writes to a subscriber; one that has left more than maxBufferedBytes unread is dropped. */
  private send(subscriber: Subscriber, text: string): void {
    const response = subscriber.response;
    if (response.writableLength > this.limits.maxBufferedBytes) {
      this.forget(subscriber);
      response.destroy();
      return;
    }
    response.write(text);
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    clearInterval(this.keepalive);
    for (const subscriber of this.subscribers) subscriber.response.end();
    this.subscribers.clear();
    this.perClient.clear();
  }

  private broadcast(text: string): void {
    for (const subscriber of this.subscribers) this.send(subscriber, text);
  }

  /** After a reload: the subscribers the new feed offers something new. */
  private offer(snapshot: FeedSnapshot): void {
    for (const subscriber of this.subscribers) {
      let version: string | undefined;
      let answer: ReturnType<FeedSnapshot["answer"]>["response"];
      try {
        answer = snapshot.answer(subscriber.channel, subscriber.current).response;
        version = answer.updateAvailable ? answer.version : undefined;
      } catch {
        continue; // the new feed dropped the channel: nothing to offer
      }
      if (version === undefined || version === subscriber.offered) continue;
      subscriber.offered = version;
      const offered = { ...answer, version };
      subscriber.queue = subscriber.queue
        .then(async () => {
          const changelog = changelogOf(await snapshot.manifest(version));
          const notification = buildUpdateNotification({
            answer: offered,
            changelog,
            id: randomUUID(),
            now: this.now(),
          });
          if (!this.subscribers.has(subscriber)) return;
          this.send(
            subscriber,
            eventFrame("notification", notification, notification.id) +
              eventFrame("message", frontendUpdateMessage(version)),
          );
        })
        .catch(() => {
          // The manifest did not verify: offer it again after the next reload.
          subscriber.offered = undefined;
        });
    }
  }
}
