import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { type Io, jsonOption, resolveRoot, rootOption } from "../io.js";

const keysOption = "--keys <dir>";
const keysHelp =
  "folder with root.pem, targets.pem, snapshot.pem, timestamp.pem, and previous-root.pem while the root key rotates (else PINLINE_FEED_<ROLE>_KEY, PINLINE_FEED_PREVIOUS_ROOT_KEY)";

export function feedCommand(io: Io): Command {
  const feed = new Command("feed").description("the static signed update feed (a TUF repository)");
  feed
    .command("keys")
    .description("make a new set of ed25519 feed keys (one per TUF role), readable by you only")
    .requiredOption("--out <dir>", "where to write them")
    .action(async (options: { out: string }) => {
      const { writeFeedKeys } = await import("../../feed/read-feed-keys.js");
      for (const file of writeFeedKeys(resolve(options.out))) io.out(`${file}\n`);
    });
  feed
    .command("build")
    .description(
      "write the feed: channel indexes and manifests of the releases that verify as TUF targets, signed metadata",
    )
    .requiredOption("--out <dir>", "the feed folder (its versions continue from what is there)")
    .option(keysOption, keysHelp)
    .option(
      "--skip-unverified",
      "leave out releases that do not verify, with a warning (default: refuse to build)",
    )
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        out: string;
        keys?: string;
        root?: string;
        json?: boolean;
        skipUnverified?: boolean;
      }) => {
        const root = resolveRoot(options);
        const { buildFeed } = await import("../../feed/build-feed.js");
        const { readFeedKey, readPreviousRootKey } = await import("../../feed/read-feed-keys.js");
        const { describeUnverified } = await import("../../feed/verify-feed-releases.js");
        const previousRoot = readPreviousRootKey(options.keys, process.env);
        const keys = {
          root: readFeedKey("root", options.keys, process.env),
          targets: readFeedKey("targets", options.keys, process.env),
          snapshot: readFeedKey("snapshot", options.keys, process.env),
          timestamp: readFeedKey("timestamp", options.keys, process.env),
          ...(previousRoot ? { previousRoot: [previousRoot] } : {}),
        };
        const out = resolve(options.out);
        const built = await buildFeed({
          root,
          out,
          keys,
          ...(existsSync(join(out, "metadata", "timestamp.json")) ? { previous: out } : {}),
          ...(options.skipUnverified ? { skipUnverified: true } : {}),
        });
        for (const line of describeUnverified(built.skipped)) {
          io.err(`pinline: warning: left out of the feed (--skip-unverified): ${line}\n`);
        }
        if (options.json) io.out(`${JSON.stringify(built, null, 2)}\n`);
        else
          io.out(
            `${out}: feed version ${built.version} (root ${built.rootVersion}), ${built.files.length} files\n`,
          );
      },
    );
  feed
    .command("timestamp")
    .description("re-sign the feed's timestamp (run on a schedule, so clients never see it expire)")
    .requiredOption("--out <dir>", "the feed folder")
    .option(keysOption, keysHelp)
    .action(async (options: { out: string; keys?: string }) => {
      const { resignTimestamp } = await import("../../feed/build-feed.js");
      const { readFeedKey } = await import("../../feed/read-feed-keys.js");
      const result = resignTimestamp({
        out: resolve(options.out),
        keys: { timestamp: readFeedKey("timestamp", options.keys, process.env) },
      });
      io.out(`timestamp version ${result.version}, expires ${result.expires}\n`);
    });
  return feed;
}
