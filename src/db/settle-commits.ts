/**
 * What became of a run's commits (DESIGN §6; issue "Migrations and deploys lose nothing").
 *
 * A transactional migration commits with synchronous_commit off (see flushCommitted): it is
 * applied, but not yet durable. The run calls settleCommits before it reports anything, on
 * success and on failure: it waits for the WAL flush, and only then calls the migrations
 * "applied". When the flush fails — the server crashed or shut down — the commits it had not
 * yet written are gone, each with its history row. The history then says which: settleCommits
 * reconnects (the server restarting takes a moment), reads the rows this run wrote, and marks
 * every committed migration "applied" or "lost". A migration whose connection broke before its
 * answer came ("in doubt": its COMMIT may have run) is decided the same way. When the server does
 * not come back in time, the migrations stay "committed": durable or lost, nobody can yet say,
 * and the report says exactly that.
 */
import type pg from "pg";
import type { Direction, HistoryRow } from "./derive-schema-version.js";
import { type HistoryTable, readHistory } from "./history.js";

/** A step as settleCommits sees it; its status is updated in place. */
export interface CommittedStep {
  release: string;
  file: string;
  /** Relative to the repository, for the report. */
  path: string;
  direction: Direction;
  /** The sha256 its history row records. */
  checksum: string;
  /**
   * "committed": committed, durability not known; "in-doubt": its connection broke before the
   * answer; "applied": durable; "lost": not in the history after the server came back.
   */
  status: string;
}

export interface SettleInput {
  steps: readonly CommittedStep[];
  /** The run's session. */
  client: pg.ClientBase;
  /** Waits for the WAL flush of what a session committed (flushCommitted). */
  flush: (client: pg.ClientBase) => Promise<void>;
  /** A new session to the same database; rejects while the server is not back. */
  reconnect: () => Promise<pg.Client>;
  table: HistoryTable;
  /** The newest history row before the run: every row after it is this run's. */
  sinceId: number;
  /** How long to try reconnecting after a failed flush. */
  recoveryWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits until the run's commits are durable and marks them "applied". Returns undefined when
 * they are; otherwise a report of what failed and what became of each commit (never throws).
 */
export async function settleCommits(input: SettleInput): Promise<string | undefined> {
  const pending = input.steps.filter((s) => s.status === "committed" || s.status === "in-doubt");
  if (pending.length === 0) return undefined;
  const committed = pending.filter((s) => s.status === "committed");
  if (committed.length === pending.length) {
    try {
      await input.flush(input.client);
      for (const step of committed) step.status = "applied";
      return undefined;
    } catch (error) {
      return describe(
        input,
        pending,
        `waiting for ${count(committed)} to reach disk failed`,
        error,
      );
    }
  }
  return describe(input, pending, "the session ended", undefined);
}

async function describe(
  input: SettleInput,
  pending: readonly CommittedStep[],
  what: string,
  error: unknown,
): Promise<string> {
  const why = error === undefined ? "" : ` (${error instanceof Error ? error.message : error})`;
  const history = await historyAfterRecovery(input);
  if (!history) {
    return `${what}${why}, and the server did not answer again within ${Math.round(input.recoveryWaitMs / 1000)} s, so whether ${pending.length === 1 ? "this commit" : "these commits"} survived is not known: ${list(pending)} — each may be lost with its history row. Once the server is back, pinline migrate --status shows which are applied, and pinline migrate applies what is missing.`;
  }
  matchRows(
    pending,
    history.filter((row) => row.id > input.sinceId && row.success),
  );
  const applied = pending.filter((s) => s.status === "applied");
  const lost = pending.filter((s) => s.status === "lost");
  const parts = [`${what}${why}; after the server came back, pinline_schema_migrations shows`];
  if (lost.length > 0) {
    parts.push(
      `${count(lost)} LOST with ${lost.length === 1 ? "its history row" : "their history rows"} (the server had not written ${lost.length === 1 ? "its commit" : "their commits"} to disk): ${list(lost)}`,
    );
  }
  if (applied.length > 0) {
    parts.push(
      `${lost.length > 0 ? "and " : ""}${count(applied)} applied and durable: ${list(applied)}`,
    );
  }
  const rerun = lost.length > 0 ? "; run pinline migrate again to apply what was lost" : "";
  return `${parts.join(" ")}${rerun}.`;
}

/** Reconnects until the server answers or the wait is over; undefined when it did not. */
async function historyAfterRecovery(input: SettleInput): Promise<HistoryRow[] | undefined> {
  const sleep = input.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const deadline = Date.now() + input.recoveryWaitMs;
  for (;;) {
    try {
      const client = await input.reconnect();
      try {
        const rows = await readHistory(client, input.table);
        // What this session sees is committed, and durable once the WAL is flushed past it (the
        // server may never have gone down: only the run's session ended).
        await input.flush(client);
        return rows;
      } finally {
        await client.end().catch(() => {});
      }
    } catch {
      // Refused, or "the database system is starting up / in recovery": try again.
      if (Date.now() >= deadline) return undefined;
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
  }
}

/**
 * The run's rows, oldest first, against its steps in the order they ran: each step takes the
 * next row that records it. A commit that was lost leaves no row, so every later one of the same
 * run is lost too (the WAL is written in order); matching in order keeps that honest even when
 * a later run wrote rows of its own after the crash.
 */
function matchRows(steps: readonly CommittedStep[], rows: readonly HistoryRow[]): void {
  let next = 0;
  for (const step of steps) {
    const found = rows.findIndex(
      (row, i) =>
        i >= next &&
        row.version === step.release &&
        row.file === step.file &&
        row.direction === step.direction &&
        row.checksum === step.checksum,
    );
    if (found >= 0) {
      step.status = "applied";
      next = found + 1;
    } else {
      step.status = "lost";
    }
  }
}

function count(steps: readonly unknown[]): string {
  return `${steps.length} migration${steps.length === 1 ? "" : "s"}`;
}

function list(steps: readonly CommittedStep[]): string {
  return steps.map((s) => s.path).join(", ");
}
