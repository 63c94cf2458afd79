/**
 * Keeps the server's feed fresh: the feed is opened (tuf-js refresh from the trusted root) at
 * start, then again every reload interval on the same cache, so rollback and freeze protection
 * carry over between reloads. A reload that fails keeps the last verified snapshot; one that
 * finds a new feed version swaps it in whole and tells the listeners (the event streams).
 *
 * A snapshot is served only until its metadata expires (unavailable()): a feed nobody re-signs
 * looks exactly like a freeze attack, which TUF clients refuse, and the server must not paper
 * over it with answers from the frozen feed. The next reload that verifies a re-signed feed
 * brings service back.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FeedSource, openFeed } from "../feed/feed-client.js";
import {
  ANSWER_CACHE,
  type AnswerCacheLimits,
  type FeedSnapshot,
  loadFeedSnapshot,
} from "./feed-snapshot.js";

export type FeedChangeListener = (snapshot: FeedSnapshot, previous: FeedSnapshot) => void;

export class FeedWatcher {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private readonly listeners: FeedChangeListener[] = [];
  private readonly errorListeners: ((message: string) => void)[] = [];
  /** Why the last reload failed; undefined after one that worked. */
  lastError: string | undefined;

  private constructor(
    private readonly source: FeedSource & { cacheDir: string },
    private current: FeedSnapshot,
    private readonly ownsCache: boolean,
    private readonly cache: AnswerCacheLimits,
  ) {}

  /**
   * Opens the feed and reads its channel indexes. Without a cacheDir, the verified metadata is
   * kept in a temporary folder of its own, removed by close(). Throws when the feed does not
   * verify.
   */
  static async open(
    source: FeedSource,
    cache: AnswerCacheLimits = ANSWER_CACHE,
  ): Promise<FeedWatcher> {
    const ownsCache = source.cacheDir === undefined;
    const cacheDir = source.cacheDir ?? mkdtempSync(join(tmpdir(), "pinline-serve-feed-"));
    try {
      const snapshot = await loadFeedSnapshot(await openFeed({ ...source, cacheDir }), cache);
      return new FeedWatcher({ ...source, cacheDir }, snapshot, ownsCache, cache);
    } catch (error) {
      if (ownsCache) rmSync(cacheDir, { recursive: true, force: true });
      throw error;
    }
  }

  get snapshot(): FeedSnapshot {
    return this.current;
  }

  /**
   * Why the feed in service must not be served now (its metadata has expired, and no reload
   * has brought a re-signed one); undefined while it is valid.
   */
  unavailable(now = Date.now()): string | undefined {
    const snapshot = this.current;
    if (now < snapshot.expiresAt) return undefined;
    const since = new Date(snapshot.expiresAt).toISOString();
    const reload = this.lastError ? `; the last reload was refused: ${this.lastError}` : "";
    return `the feed in service (version ${snapshot.version}) expired at ${since}, and no re-signed feed has been loaded since${reload}`;
  }

  onChange(listener: FeedChangeListener): void {
    this.listeners.push(listener);
  }

  /** Called with the reason of every reload that fails. */
  onError(listener: (message: string) => void): void {
    this.errorListeners.push(listener);
  }

  /**
   * Refreshes the feed; resolves true when its version changed. Never rejects: a failure is kept
   * in lastError and the snapshot stays. Reloads asked for while one runs share it.
   */
  reload(): Promise<boolean> {
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async refresh(): Promise<boolean> {
    let next: FeedSnapshot;
    try {
      next = await loadFeedSnapshot(await openFeed(this.source), this.cache);
      this.lastError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.lastError = message;
      for (const listener of this.errorListeners) listener(message);
      return false;
    }
    if (next.version === this.current.version) return false;
    const previous = this.current;
    this.current = next;
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch {
        // A listener's failure is its own (each stream handles its errors); the swap stands.
      }
    }
    return true;
  }

  /** Reloads every `intervalMs` until close(). */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.reload(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.stop();
    await this.inFlight;
    if (this.ownsCache) rmSync(this.source.cacheDir, { recursive: true, force: true });
  }
}
