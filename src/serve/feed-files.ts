/**
 * GET /feed/metadata/<file> and /feed/targets/<path>: the feed folder's files, read-only, so that
 * a TUF client (`openFeed({feed: "https://server/feed"})`) verifies the feed itself through the
 * server's TLS, mutual TLS and license check. Only names from two closed sets are served: the
 * TUF metadata files, and the targets the verified channel indexes name — no path a request
 * makes up ever reaches the file system.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { METADATA_DIR, TARGETS_DIR } from "../feed/build-feed.js";
import { ApiError } from "./api-error.js";
import type { FeedSnapshot } from "./feed-snapshot.js";

/** root.json, 3.root.json, timestamp.json, snapshot.json, targets.json. */
const METADATA_FILE = /^(?:[1-9][0-9]{0,8}\.)?(?:root|timestamp|snapshot|targets)\.json$/;

function notFound(path: string): ApiError {
  return new ApiError(404, "not_found", `the feed has no file ${path}`, {
    hint: "a TUF client asks for metadata/<role>.json and the targets its targets.json lists",
  });
}

async function read(path: string, shown: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw notFound(shown);
  }
}

export class FeedFiles {
  private paths: { snapshot: FeedSnapshot; allowed: Set<string> } | undefined;

  constructor(private readonly folder: string) {}

  /** A metadata file's bytes; ApiError 404 for any other name. */
  metadata(file: string): Promise<Buffer> {
    const shown = `${METADATA_DIR}/${file}`;
    if (!METADATA_FILE.test(file)) return Promise.reject(notFound(shown));
    return read(join(this.folder, METADATA_DIR, file), shown);
  }

  /** A target's bytes, when the snapshot's channel indexes name it; ApiError 404 otherwise. */
  target(path: string, snapshot: FeedSnapshot): Promise<Buffer> {
    if (this.paths?.snapshot !== snapshot) {
      this.paths = { snapshot, allowed: snapshot.targetPaths() };
    }
    const shown = `${TARGETS_DIR}/${path}`;
    if (!this.paths.allowed.has(path)) return Promise.reject(notFound(shown));
    return read(join(this.folder, TARGETS_DIR, ...path.split("/")), shown);
  }
}
