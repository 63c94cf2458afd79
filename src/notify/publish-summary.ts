import type { FeedDescription } from "../publish/describe-feed.js";
import type { PublishedFeed } from "../publish/publish-feed.js";
import { cell } from "./markdown.js";

/**
 * The job summary of actions/publish: what was done, what each channel offers, and when each
 * metadata file expires — the date by which the next run must have happened.
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
    what,
    "",
    "| Channel | Releases | Newest |",
    "|---|---:|---|",
  ];
  for (const c of feed.channels) {
    const newest = c.newest ? `${c.newest}${c.newestBlocked ? " (blocked)" : ""}` : "—";
    lines.push(`| ${cell(c.channel)} | ${c.releases} | ${cell(newest)} |`);
  }
  lines.push("", "| Metadata | Version | Expires |", "|---|---:|---|");
  for (const m of feed.metadata) lines.push(`| ${m.file} | ${m.version} | ${m.expires} |`);
  lines.push("");
  return lines.join("\n");
}
