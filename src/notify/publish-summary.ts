import { formatDuration } from "../core/duration.js";
import { describeUnverified } from "../feed/verify-feed-releases.js";
import type { FeedDescription } from "../publish/describe-feed.js";
import type { PublishedFeed } from "../publish/publish-feed.js";
import { cell } from "./markdown.js";

/** "4d3h12m", or "expired 2h5m ago": minutes are enough for people. */
function describeTimeLeft(ms: number): string {
  const minutes = formatDuration(Math.floor(Math.abs(ms) / 60_000) * 60_000);
  return ms >= 0 ? minutes : `expired ${minutes} ago`;
}

/**
 * The failure of a run that found the published feed close to expiry (or expired): what, when,
 * and what to look at. Undefined when the published feed had enough time left.
 */
export function tooLittleLeft(
  published: PublishedFeed,
): { message: string; hint: string } | undefined {
  const before = published.published;
  if (!before?.tooSoon) return undefined;
  const left =
    before.leftMs >= 0
      ? `had only ${describeTimeLeft(before.leftMs)} left (${before.file} expires at ${before.expires}), less than the expiry-margin of ${before.margin}`
      : `had ${describeTimeLeft(before.leftMs)} (${before.file} expired at ${before.expires}): installations have been refusing it since`;
  return {
    message: `the published feed ${left}. This run wrote feed version ${published.version} and set its path, so the deploy steps after it still run; but the runs before it did not re-sign the feed in time`,
    hint: "look at the publish workflow's runs: GitHub delays or drops scheduled runs under load and disables schedules after 60 days without activity in a public repository; run it by hand (Actions → publish → Run workflow) if the deploy after this step fails too",
  };
}

/**
 * The job summary of actions/publish: what was done, what each channel offers, when each
 * metadata file expires — the date by which the next run must have happened — the releases left
 * out because they do not verify, and the alarm when the published feed was close to expiry.
 */
export function renderPublishSummary(published: PublishedFeed, feed: FeedDescription): string {
  const what =
    published.done === "timestamp"
      ? "Re-signed the timestamp only: the releases and policies are as published."
      : published.rebuiltBecause
        ? `Built a whole new version instead of re-signing the timestamp: ${published.rebuiltBecause}.`
        : published.continued
          ? "Built a new version from the releases and policies."
          : "Built the first version: no published feed was found.";
  const lines = [
    `## pinline publish: feed version ${published.version} (root ${published.rootVersion})`,
    "",
  ];
  const alarm = tooLittleLeft(published);
  if (alarm) lines.push(`> [!CAUTION]`, `> ${cell(alarm.message)}.`, `> ${cell(alarm.hint)}.`, "");
  lines.push(what, "");
  if (published.published && !alarm) {
    lines.push(
      `The feed published before this run had ${describeTimeLeft(published.published.leftMs)} left (${published.published.file}; the run fails below ${published.published.margin}).`,
      "",
    );
  }
  if (published.skipped.length > 0) {
    lines.push(
      `> [!WARNING]`,
      `> Left out because ${published.skipped.length === 1 ? "it does" : "they do"} not verify (skip-unverified):`,
      ...describeUnverified(published.skipped).map((line) => `> - ${cell(line)}`),
      "",
    );
  }
  lines.push("| Channel | Releases | Newest |", "|---|---:|---|");
  for (const c of feed.channels) {
    const newest = c.newest ? `${c.newest}${c.newestBlocked ? " (blocked)" : ""}` : "—";
    lines.push(`| ${cell(c.channel)} | ${c.releases} | ${cell(newest)} |`);
  }
  lines.push("", "| Metadata | Version | Expires |", "|---|---:|---|");
  for (const m of feed.metadata) lines.push(`| ${m.file} | ${m.version} | ${m.expires} |`);
  lines.push("");
  return lines.join("\n");
}
