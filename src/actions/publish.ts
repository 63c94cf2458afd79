import { resolve } from "node:path";
import * as core from "@actions/core";
import { PinlineError, UsageError } from "../core/errors.js";
import { describeUnverified } from "../feed/verify-feed-releases.js";
import { describeFailure } from "../github/describe-github-error.js";
import { renderPublishSummary, tooLittleLeft } from "../notify/publish-summary.js";
import { describeFeed } from "../publish/describe-feed.js";
import { feedKeysFromEnvironment } from "../publish/feed-keys-from-environment.js";
import { PUBLISH_MODES, type PublishMode, publishFeed } from "../publish/publish-feed.js";
import { actionRoot, actionWorkspace, maskLines } from "./shared/workspace.js";

/**
 * actions/publish: the signed update feed, built into a folder for GitHub Pages, continuing the
 * versions of the feed published at previous-url once its metadata verified against the root
 * key. Every release is verified; one that does not fails the step (skip-unverified leaves it
 * out with a warning). Mode timestamp (the schedule) re-signs only the timestamp when the tree
 * still matches the published feed, and otherwise publishes a whole new version (see
 * src/publish/publish-feed.ts). When the published feed had less than expiry-margin left, the
 * new feed is still written (and `path` set, so the workflow deploys it) and then the step
 * fails: the runs before it did not re-sign the feed. The keys come from PINLINE_FEED_<ROLE>_KEY
 * (and PINLINE_FEED_PREVIOUS_ROOT_KEY while the root key rotates) and are masked line by line
 * before anything else runs.
 */
async function run(): Promise<void> {
  const keys = feedKeysFromEnvironment(process.env, maskLines);
  const mode = core.getInput("mode") || "build";
  if (!(PUBLISH_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`mode must be build or timestamp, not ${JSON.stringify(mode)}`);
  }
  const workspace = actionWorkspace();
  const previous = core.getInput("previous");
  const previousUrl = core.getInput("previous-url");
  if (!previous && !previousUrl) {
    core.warning(
      "no previous feed (previous-url or previous): versions start at 1, and installations that have seen a published feed refuse it as a rollback",
    );
  }
  const expiryMargin = core.getInput("expiry-margin");
  const published = await publishFeed({
    root: actionRoot(),
    out: resolve(workspace, core.getInput("out") || "feed"),
    keys,
    mode: mode as PublishMode,
    skipUnverified: core.getBooleanInput("skip-unverified"),
    ...(expiryMargin ? { expiryMargin } : {}),
    ...(previous ? { previous: resolve(workspace, previous) } : {}),
    ...(previousUrl ? { previousUrl } : {}),
  });
  for (const line of describeUnverified(published.skipped)) {
    core.warning(`left out of the feed (skip-unverified): ${line}`);
  }
  for (const missed of published.notKept) {
    core.warning(
      `targets/${missed.file} of the published version is not kept (${missed.reason}): an installation that read the previous timestamp.json retries on its next check`,
    );
  }
  core.info(
    published.done === "timestamp"
      ? `re-signed the timestamp: version ${published.version}`
      : `built feed version ${published.version} (root ${published.rootVersion})${published.rebuiltBecause ? `, not only the timestamp: ${published.rebuiltBecause}` : ""}`,
  );
  core.setOutput("version", published.version);
  core.setOutput("root-version", published.rootVersion);
  core.setOutput("path", published.out);
  await core.summary
    .addRaw(renderPublishSummary(published, describeFeed(published.out)), true)
    .write();
  const alarm = tooLittleLeft(published);
  if (alarm) throw new PinlineError(alarm.message, { hint: alarm.hint });
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
