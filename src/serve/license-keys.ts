/**
 * License keys (specification section 9.2, `license_validation`): the server holds only their
 * sha256 hashes, one per line of a file, and compares the hash of what a client sends. A key is
 * never stored, logged or echoed; an installation is known by its key's hash.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { UsageError } from "../core/errors.js";
import { ApiError } from "./api-error.js";

/** The request header that carries the key. */
export const LICENSE_HEADER = "x-license-key";

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** The sha256 of a key, lower-case hex: what the key file lists and reports record. */
export function hashLicenseKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * Reads a key file: one sha256 hex hash a line (`printf %s KEY | sha256sum` or
 * `pinline serve hash-key`); blank lines and `#` comments are ignored, and anything after the
 * hash on its line (sha256sum's "  -") too. Throws UsageError naming the line of a bad entry.
 */
export function readLicenseKeys(file: string): ReadonlySet<string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the license key file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const hashes = new Set<string>();
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const entry = line.replace(/#.*$/, "").trim().split(/\s+/)[0] ?? "";
    if (entry === "") continue;
    const hash = entry.toLowerCase();
    if (!HASH_PATTERN.test(hash)) {
      throw new UsageError(`"${entry}" is not a sha256 hash (64 hex digits)`, {
        where: { file, line: i + 1 },
        hint: "list the keys' hashes, never the keys: printf %s KEY | sha256sum, or pinline serve hash-key",
      });
    }
    hashes.add(hash);
  }
  if (hashes.size === 0) {
    throw new UsageError(`the license key file ${file} lists no key hashes`, {
      hint: "add one sha256 hash a line, or leave out --license-keys to serve everyone",
    });
  }
  return hashes;
}

/**
 * The installation a request comes from: its key's hash. With a key list, a request without a
 * key is refused with 401 and one whose key is not listed with 403.
 */
export function identifyInstallation(
  header: string | string[] | undefined,
  keys: ReadonlySet<string> | undefined,
): string | null {
  const key = typeof header === "string" && header !== "" ? header : undefined;
  if (!key) {
    if (!keys) return null;
    throw new ApiError(401, "license_key_required", "this server requires a license key", {
      hint: "send the installation's license key in the X-License-Key header",
    });
  }
  const hash = hashLicenseKey(key);
  if (keys && !keys.has(hash)) {
    throw new ApiError(403, "license_key_refused", "the license key is not valid here", {
      hint: "check the installation's license key; the server's operator lists valid keys by their sha256",
    });
  }
  return hash;
}
