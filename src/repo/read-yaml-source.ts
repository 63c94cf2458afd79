import { isUtf8 } from "node:buffer";
import { closeSync, fstatSync, readSync, type Stats } from "node:fs";
import { error, type Finding } from "./findings.js";
import { IrregularFileError, irregularReason, openRegularFile } from "./read-regular-file.js";

/** Larger YAML files are refused before they are read: no manifest or pin comes near this. */
export const MAX_YAML_BYTES = 1024 * 1024;

export type SourceResult = { text: string; finding?: undefined } | { finding: Finding };

/** One buffer for every read: a file larger than the limit shows itself by filling it. */
const scratch = Buffer.allocUnsafe(MAX_YAML_BYTES + 1);

/**
 * Reads a YAML file as UTF-8 text: refuses links, FIFOs, devices, directories, oversized files (after reading no more
 * than the limit) and bytes that are not UTF-8, each with the place to look.
 */
export function readYamlSource(absolutePath: string, file: string): SourceResult {
  let fd: number | undefined;
  try {
    fd = openRegularFile(absolutePath);
  } catch (cause) {
    if (cause instanceof IrregularFileError) {
      return {
        finding: error("file", at(file), irregularReason(cause.kind), "commit the file itself"),
      };
    }
    return { finding: error("file", at(file), describeOpenError(cause)) };
  }
  if (fd === undefined) return { finding: error("file", at(file), "does not exist") };
  try {
    let length = 0;
    for (;;) {
      const n = readSync(fd, scratch, length, scratch.length - length, length);
      if (n === 0) break;
      length += n;
      if (length === scratch.length)
        return refuseByStats(fstatSync(fd), file) ?? tooLarge(file, length);
    }
    return decodeYamlBytes(scratch.subarray(0, length), file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EISDIR") return isDirectory(file);
    throw cause;
  } finally {
    closeSync(fd);
  }
}

function refuseByStats(stats: Stats, file: string): SourceResult | undefined {
  if (stats.isDirectory()) return isDirectory(file);
  if (stats.size > MAX_YAML_BYTES) return tooLarge(file, stats.size);
  return undefined;
}

function isDirectory(file: string): SourceResult {
  return {
    finding: error(
      "file",
      at(file),
      "is a directory, but a YAML file must be here",
      "move its contents elsewhere or rename it",
    ),
  };
}

function tooLarge(file: string, size: number): SourceResult {
  return {
    finding: error(
      "file",
      at(file),
      `is ${(size / 1024 / 1024).toFixed(1)} MiB; YAML files here are limited to ${MAX_YAML_BYTES / 1024 / 1024} MiB`,
      "is this the file you meant to commit?",
    ),
  };
}

/** UTF-8 with an optional byte-order mark; anything else names the first bad byte. */
function decodeYamlBytes(bytes: Uint8Array, file: string): SourceResult {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isUtf8(buffer)) {
    const offset = firstInvalidUtf8Offset(bytes);
    const before = buffer.subarray(0, offset).toString("utf8");
    const lines = before.split("\n");
    const line = lines.length;
    const column = (lines[line - 1]?.length ?? 0) + 1;
    const byte = (bytes[offset] ?? 0).toString(16).padStart(2, "0");
    return {
      finding: error(
        "encoding",
        { file, line, column },
        `is not valid UTF-8: byte 0x${byte} at offset ${offset}`,
        "save the file as UTF-8",
      ),
    };
  }
  const hasBom = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
  const text = buffer.toString("utf8", hasBom ? 3 : 0);
  if (text.trim() === "") {
    return {
      finding: error("empty", at(file), "is empty", "a YAML document with its fields must be here"),
    };
  }
  return { text };
}

/** The offset of the first byte of the first sequence that is not valid UTF-8. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  // Binary search for the longest prefix that decodes (a sequence cut short at its end is fine).
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (decodesAsPrefix(bytes.subarray(0, mid))) lo = mid;
    else hi = mid - 1;
  }
  // bytes[lo] is where decoding failed; if an unfinished sequence ends the valid prefix, the
  // fault lies with its lead byte.
  let start = lo;
  while (start > 0 && lo - start < 3 && ((bytes[start - 1] ?? 0) & 0xc0) === 0x80) start--;
  const lead = bytes[start - 1] ?? 0;
  if (start > 0 && lead >= 0xc0 && sequenceLength(lead) > lo - start + 1) return start - 1;
  return lo;
}

function sequenceLength(lead: number): number {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  return 2;
}

function decodesAsPrefix(prefix: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(prefix, { stream: true });
    return true;
  } catch {
    return false;
  }
}

function describeOpenError(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "does not exist";
  if (code === "EACCES") return "cannot be read (permission denied)";
  return `cannot be read (${code ?? String(cause)})`;
}

function at(file: string) {
  return { file, line: 1, column: 1 };
}
