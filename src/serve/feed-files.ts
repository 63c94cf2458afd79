/**
 * GET /feed/metadata/<file> and /feed/targets/<path>: the feed in service, read-only, so that a
 * TUF client (`openFeed({feed: "https://server/feed"})`) verifies the feed itself through the
 * server's TLS, mutual TLS and license check. Only names from two closed sets are served, and
 * only bytes the server verified: the TUF metadata files (the roots of the verified chain,
 * timestamp, versioned snapshot and targets), and the target files the verified channel indexes
 * name, under the hash-prefixed names the verified targets metadata gives them — no path a
 * request makes up ever reaches the file system, and nothing a refused reload left on disk is
 * ever served.
 */
import { METADATA_DIR, TARGETS_DIR } from "../feed/feed-layout.js";
import { ApiError } from "./api-error.js";
import type { FeedSnapshot } from "./feed-snapshot.js";

/** root.json, 3.root.json, timestamp.json, 7.snapshot.json, 7.targets.json (and plain names). */
const METADATA_FILE = /^(?:[1-9][0-9]{0,8}\.)?(?:root|timestamp|snapshot|targets)\.json$/;

function notFound(path: string): ApiError {
  return new ApiError(404, "not_found", `the feed has no file ${path}`, {
    hint: "a TUF client asks for metadata/<role>.json and the targets its targets.json lists",
  });
}

export class FeedFiles {
  private paths: { snapshot: FeedSnapshot; allowed: Map<string, string> } | undefined;

  /**
   * A metadata file's bytes: timestamp, snapshot, targets and the roots of the chain exactly as
   * the feed in service was verified (never the files a refused or pending reload left on
   * disk). ApiError 404 for any other name.
   */
  metadata(file: string, snapshot: FeedSnapshot): Promise<Buffer> {
    const shown = `${METADATA_DIR}/${file}`;
    const verified = METADATA_FILE.test(file) ? snapshot.feed.metadataFile(file) : undefined;
    return verified ? Promise.resolve(verified) : Promise.reject(notFound(shown));
  }

  /**
   * A target file's bytes ("channels/<sha256>.stable.json"), when it is the file of a target the
   * snapshot's channel indexes name, as the feed in service verified them; ApiError 404
   * otherwise.
   */
  target(path: string, snapshot: FeedSnapshot): Promise<Buffer> {
    if (this.paths?.snapshot !== snapshot) {
      this.paths = { snapshot, allowed: snapshot.targetPaths() };
    }
    const shown = `${TARGETS_DIR}/${path}`;
    const target = this.paths.allowed.get(path);
    if (target === undefined) return Promise.reject(notFound(shown));
    return snapshot.feed.readTarget(target).catch(() => {
      throw notFound(shown);
    });
  }
}
