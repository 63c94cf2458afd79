/**
 * The sha256 a release manifest records for each file it ships, and the one the migration
 * history records when the file runs: the file's bytes with CRLF read as LF. A checkout that
 * converts line endings (git's autocrlf) therefore still matches, and what is hashed is exactly
 * the text the runner sends; every other byte counts — a lone CR, a BOM, trailing spaces. For a
 * file with LF line endings it is what `sha256sum` prints.
 */
import { createHash } from "node:crypto";

/** sha256 hex of the content with CRLF normalised to LF. */
export function shippedFileDigest(content: Uint8Array | string): string {
  return createHash("sha256")
    .update(normaliseLineEndings(toBuffer(content)))
    .digest("hex");
}

/** The bytes with every CRLF replaced by LF (the same buffer when there is no CR). */
export function normaliseLineEndings(bytes: Buffer): Buffer {
  if (!bytes.includes(13)) return bytes;
  return Buffer.from(bytes.toString("latin1").replaceAll("\r\n", "\n"), "latin1");
}

function toBuffer(content: Uint8Array | string): Buffer {
  return typeof content === "string"
    ? Buffer.from(content, "utf8")
    : Buffer.from(content.buffer, content.byteOffset, content.byteLength); // a view, not a copy
}
