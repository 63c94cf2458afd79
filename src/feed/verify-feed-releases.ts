/**
 * The feed lists only releases that verify (DESIGN §6): before a feed is built, every release of
 * the tree goes through `verifyRelease` — the signatures against keys/, at the threshold of the
 * strictest policy that can deploy it, and the hashes of the files it ships. Each release that
 * does not verify is named with its reason, in the words `pinline verify` would use; the caller
 * decides whether that refuses the build (the default) or leaves the release out.
 */
import { join } from "node:path";
import { InvalidValueError, RefusedError } from "../core/errors.js";
import { compareVersions } from "../core/version.js";
import { buildCatalog } from "../repo/catalog.js";
import { RELEASE_FILE } from "../repo/layout.js";
import type { RepositoryTree } from "../repo/load-tree.js";
import {
  type RepositoryTrust,
  readRepositoryTrust,
  verifyRelease,
} from "../trust/verify-release.js";

/** A key whose signature counted for a release: its primary fingerprint and user id. */
export interface ReleaseSigner {
  /** Uppercase hex, as `pinline verify` prints it. */
  fingerprint: string;
  /** The key's primary user id when the signature was made; null when it has none. */
  userId: string | null;
}

/** A release left out of the feed, or that refused it, and why. */
export interface UnverifiedRelease {
  version: string;
  /** The manifest, relative to the repository root. */
  file: string;
  /** Why it does not verify: what `pinline verify releases/<version>` would say. */
  reason: string;
}

export interface VerifiedReleases {
  /** Every release that verifies, by canonical version: the keys whose signatures counted. */
  signers: Map<string, ReleaseSigner[]>;
  /** Every release that does not, in version order. */
  unverified: UnverifiedRelease[];
}

/**
 * Verifies every release of the tree at `now`. Never throws for a release that does not verify
 * (it is listed in `unverified`); throws what verifyRelease throws for the repository as a whole
 * (a policy that does not validate).
 */
export async function verifyFeedReleases(
  tree: RepositoryTree,
  now: Date = new Date(),
): Promise<VerifiedReleases> {
  const signers = new Map<string, ReleaseSigner[]>();
  const unverified: UnverifiedRelease[] = [];
  const releases = [...buildCatalog(tree).releases.entries()].sort(([a], [b]) =>
    compareVersions(a, b),
  );
  let trust: Promise<RepositoryTrust> | undefined; // keys/ and policies, read once for all
  for (const [version, { folder }] of releases) {
    const file = `releases/${folder.folder}/${RELEASE_FILE}`;
    if (!folder.data) {
      const finding = tree.findings.find((f) => f.file === file && f.severity === "error");
      unverified.push({
        version,
        file,
        reason: `does not pass its schema${finding ? `: ${finding.message}` : ""} (run pinline validate)`,
      });
      continue;
    }
    if (!trust) {
      trust = readRepositoryTrust(tree.root);
      trust.catch(() => {}); // awaited where it was read before; never an unhandled rejection
    }
    const verdict = await verifyOne(tree.root, folder.folder, now, trust);
    if ("reason" in verdict) unverified.push({ version, file, reason: verdict.reason });
    else signers.set(version, verdict.signers);
  }
  return { signers, unverified };
}

async function verifyOne(
  root: string,
  folder: string,
  now: Date,
  trust: Promise<RepositoryTrust>,
): Promise<{ signers: ReleaseSigner[] } | { reason: string }> {
  try {
    const result = await verifyRelease({
      root,
      releaseDir: join(root, "releases", folder),
      now,
      trust, // what reading keys/ or the policies refused is judged as before
    });
    if (!result.ok) {
      return {
        reason: `${result.summary} (threshold from ${result.thresholdFrom})`,
      };
    }
    const signers = result.signatures.validKeys.map((fingerprint) => {
      const valid = result.signatures.signatures.find(
        (s) => s.verdict === "valid" && s.keyFingerprint === fingerprint,
      );
      return { fingerprint, userId: valid?.userId ?? null };
    });
    return { signers };
  } catch (error) {
    // The release's own problems (no signature file, an unreadable manifest or signature) are
    // its reason; anything else is the repository's and stops the build.
    if (error instanceof RefusedError || error instanceof InvalidValueError) {
      return { reason: error.describe() };
    }
    throw error;
  }
}

/** "2.4.2 (releases/2.4.2/release.yaml: only 1 of 2 …)", one line per release. */
export function describeUnverified(releases: readonly UnverifiedRelease[]): string[] {
  return releases.map(
    (r) => `${r.version}: ${r.reason.startsWith(r.file) ? "" : `${r.file}: `}${r.reason}`,
  );
}
