/**
 * GET /api/v1/updates/events: Server-Sent Events for installations that keep a connection open.
 * A subscriber names its channel and version; the stream starts with a comment and carries a
 * keepalive comment every interval. When a reload brings a feed that offers the subscriber an
 * update it has not been offered on this stream, two events follow: `notification` (the
 * specification's UpdateNotification, section 6.1) and `message` (the frontend's
 * UPDATE_AVAILABLE, section 4.2). What the feed offered when the stream opened counts as
 * offered: the installation learns it from the update check.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { parseYaml } from "../repo/parse-yaml.js";
import type { FeedSnapshot } from "./feed-snapshot.js";
import type { FeedWatcher } from "./feed-watcher.js";
import {
  buildUpdateNotification,
  type Changelog,
  frontendUpdateMessage,
} from "./update-notification.js";

interface Subscriber {
  response: ServerResponse;
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
  now?: () => Date;
}

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
  private readonly keepalive: NodeJS.Timeout;
  private readonly retryMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly watcher: FeedWatcher,
    options: EventStreamOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 10_000;
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
   * Opens a stream on a response whose request fastify no longer handles (hijacked). The
   * channel and version must already have been checked (an answer exists for them).
   */
  open(response: ServerResponse, channel: string, current: string): void {
    const answer = this.watcher.snapshot.answer(channel, current).response;
    const subscriber: Subscriber = {
      response,
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
    this.subscribers.add(subscriber);
    response.once("close", () => this.subscribers.delete(subscriber));
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    clearInterval(this.keepalive);
    for (const subscriber of this.subscribers) subscriber.response.end();
    this.subscribers.clear();
  }

  private broadcast(text: string): void {
    for (const subscriber of this.subscribers) subscriber.response.write(text);
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
          subscriber.response.write(
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
