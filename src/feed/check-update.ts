/**
 * `pinline check`: the update-check answer an installation gets (specification section 2.3),
 * from one of three sources:
 * - a signed feed (folder or URL), verified with tuf-js before anything is read from it; the
 *   manifest of the answered version is downloaded and verified too;
 * - a pinline server's GET /api/v1/updates/check (TLS 1.3, optional key pin and client
 *   certificate; the server verified its feed);
 * - the repository itself, unsigned — what a feed built from it now would answer.
 */
import type { IncomingMessage } from "node:http";
import { parseUpdateChannel } from "../core/channels.js";
import { InvalidValueError, RefusedError, UsageError } from "../core/errors.js";
import { parseVersion } from "../core/version.js";
import { loadTree } from "../repo/load-tree.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { type AnswerOptions, answerUpdateCheck, type UpdateCheckResponse } from "./answer-check.js";
import { type FeedSource, httpGet, openFeed, type TlsOptions } from "./feed-client.js";
import { type ChannelIndex, channelIndexPath, feedTargets } from "./feed-targets.js";

export interface CheckUpdateInput extends AnswerOptions {
  channel: string;
  current: string;
  /** A signed feed: a folder or URL (with trustedRoot, cacheDir). */
  feed?: Omit<FeedSource, "tls" | "headers">;
  /** A pinline server's base URL. */
  server?: string;
  /** The repository, read unsigned when neither feed nor server is given. */
  root?: string;
  licenseKey?: string;
  tls?: TlsOptions;
}

export interface CheckedUpdate {
  answer: UpdateCheckResponse;
  /** Where the answer came from, in words. */
  source: string;
  /** The feed's timestamp version, when the answer came from a verified feed. */
  feedVersion?: number;
}

/** Answers an update check. Throws RefusedError when the feed does not verify. */
export async function checkUpdate(input: CheckUpdateInput): Promise<CheckedUpdate> {
  asOption("--channel", () => parseUpdateChannel(input.channel));
  asOption("--current", () => parseVersion(input.current));
  const headers: Record<string, string> = input.licenseKey
    ? { "X-License-Key": input.licenseKey }
    : {};
  if (input.feed && input.server) throw new UsageError("pass either --feed or --server, not both");

  if (input.server) {
    const answer = await askServer(input.server, input, headers);
    return { answer, source: `server ${input.server}` };
  }
  if (input.feed) {
    const feed = await openFeed({
      ...input.feed,
      headers,
      ...(input.tls ? { tls: input.tls } : {}),
    });
    const answer = answerUpdateCheck(await feed.readChannel(input.channel), input.current, input);
    // The manifest is what the installation acts on: it must verify against the signed targets.
    if (answer.version) await feed.readManifest(answer.version);
    return { answer, source: `feed ${input.feed.feed} (verified)`, feedVersion: feed.version() };
  }
  if (!input.root) throw new UsageError("no feed, server or repository to check against");
  const tree = await loadTree(input.root);
  requireSoundGovernance(tree, "check");
  const bytes = feedTargets(tree).get(channelIndexPath(input.channel));
  if (!bytes) {
    throw new UsageError(`the repository has no channel "${input.channel}"`, {
      hint: 'use "stable", "beta", "early-access" or a "custom:<name>" channel a policy defines',
    });
  }
  const index = JSON.parse(bytes.toString("utf8")) as ChannelIndex;
  return {
    answer: answerUpdateCheck(index, input.current, input),
    source: `repository ${input.root} (unsigned: not a published feed)`,
  };
}

/** A malformed option value is a usage error (exit code 2), named by its option. */
function asOption(option: string, read: () => unknown): void {
  try {
    read();
  } catch (error) {
    if (error instanceof InvalidValueError) throw new UsageError(`${option}: ${error.message}`);
    throw error;
  }
}

/** GET /api/v1/updates/check on a pinline server, with the specification's headers. */
async function askServer(
  server: string,
  input: CheckUpdateInput,
  headers: Record<string, string>,
): Promise<UpdateCheckResponse> {
  const url = new URL("api/v1/updates/check", server.endsWith("/") ? server : `${server}/`);
  if (url.protocol !== "https:" && (input.tls?.pinSha256?.length || input.tls?.clientCert)) {
    throw new UsageError(`${server} is not https: a pinned key or client certificate needs TLS`);
  }
  let response: IncomingMessage;
  try {
    response = await httpGet(url, {
      ...(input.tls ? { tls: input.tls } : {}),
      headers: { "X-Current-Version": input.current, "X-Channel": input.channel, ...headers },
    });
  } catch (error) {
    throw new RefusedError(`cannot reach ${url.href}: ${(error as Error).message}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.statusCode === 200 && body && typeof body === "object")
    return body as UpdateCheckResponse;
  const message =
    body && typeof body === "object" && "message" in body ? String(body.message) : text;
  throw new RefusedError(`${url.href} answered ${response.statusCode}: ${message.slice(0, 500)}`);
}
