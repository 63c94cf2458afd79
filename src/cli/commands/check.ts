import { resolve } from "node:path";
import { Command, Option } from "commander";
import { UsageError } from "../../core/errors.js";
import { type Io, jsonOption, resolveRoot, rootOption, table } from "../io.js";

interface CheckOptions {
  channel: string;
  current: string;
  feed?: string;
  server?: string;
  trustedRoot?: string;
  cache?: string;
  licenseKey?: string;
  pinSha256: string[];
  clientCert?: string;
  clientKey?: string;
  ca?: string;
  blocked: string[];
  root?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function checkCommand(io: Io): Command {
  return new Command("check")
    .description(
      "the specification's update-check answer for an installation: from a signed feed (verified with TUF), a pinline server, or the repository",
    )
    .requiredOption("--channel <channel>", "stable, beta, early-access or custom:<name>")
    .requiredOption("--current <version>", "the version the installation runs")
    .option("--feed <dir|url>", "a signed feed (pinline feed build / the publish action)")
    .option("--server <url>", "a pinline server (pinline serve): GET /api/v1/updates/check")
    .option(
      "--trusted-root <file>",
      "the feed's root metadata the installation trusts (its metadata/1.root.json); needed the first time an URL is read",
    )
    .option("--cache <dir>", "where verified feed metadata is kept between checks")
    .addOption(
      new Option("--license-key <key>", "sent as X-License-Key").env("PINLINE_LICENSE_KEY"),
    )
    .option(
      "--pin-sha256 <base64>",
      "accept only a server whose public key has this SHA-256 (repeatable)",
      collect,
      [],
    )
    .option("--client-cert <file>", "PEM client certificate (mutual TLS)")
    .option("--client-key <file>", "PEM key of the client certificate")
    .option("--ca <file>", "PEM CA certificates to trust for the server")
    .option("--blocked <version|range>", "also never offer this (repeatable)", collect, [])
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(async (options: CheckOptions) => {
      if (Boolean(options.clientCert) !== Boolean(options.clientKey))
        throw new UsageError("--client-cert and --client-key go together");
      const { checkUpdate } = await import("../../feed/check-update.js");
      const { readPem: read } = await import("../../serve/tls-options.js");
      const readPem = (file: string | undefined, what: string) =>
        file ? read(resolve(file), what) : undefined;
      const tls = {
        pinSha256: options.pinSha256,
        clientCert: readPem(options.clientCert, "client certificate"),
        clientKey: readPem(options.clientKey, "client key"),
        ca: readPem(options.ca, "CA file"),
      };
      const result = await checkUpdate({
        channel: options.channel,
        current: options.current,
        blockedVersions: options.blocked,
        tls,
        ...(options.licenseKey ? { licenseKey: options.licenseKey } : {}),
        ...(options.server ? { server: options.server } : {}),
        ...(options.feed
          ? {
              feed: {
                feed: options.feed,
                ...(options.trustedRoot ? { trustedRoot: resolve(options.trustedRoot) } : {}),
                ...(options.cache ? { cacheDir: resolve(options.cache) } : {}),
              },
            }
          : {}),
        ...(options.feed || options.server ? {} : { root: resolveRoot(options) }),
      });
      if (options.json) {
        io.out(`${JSON.stringify(result.answer, null, 2)}\n`);
        return;
      }
      const { answer } = result;
      const who = `${answer.channel}, running ${answer.currentVersion}`;
      if (!answer.updateAvailable) {
        io.out(`${who}: no update (${answer.reason ?? "up to date"})\n`);
      } else {
        io.out(`${who}: update to ${answer.version}${answer.mandatory ? " (mandatory)" : ""}\n`);
        io.out(
          table([
            ["path", [answer.currentVersion, ...(answer.path ?? [])].join(" → ")],
            ...(answer.reason ? [["why", answer.reason]] : []),
            ["notes", answer.releaseNotes ?? "-"],
            ["download", answer.downloadUrl ?? "-"],
            ["manifest", answer.signature ?? "-"],
          ]),
        );
      }
      io.out(
        `source: ${result.source}${result.feedVersion ? `, feed version ${result.feedVersion}` : ""}\n`,
      );
    });
}
