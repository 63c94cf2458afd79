/**
 * Reading a file that a release ships or the tree holds: only a regular file is read. A symbolic
 * link is never followed (its target may sit anywhere outside the repository, and what was
 * signed is the link, not what it points to), and a FIFO or a device is never opened for
 * reading (a FIFO would block the run forever, a device would stream endless bytes).
 */
import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  openSync,
  readSync,
  type Stats,
} from "node:fs";

/** O_NOFOLLOW refuses a link at the last component; O_NONBLOCK keeps a FIFO's open from waiting. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** What a directory entry or a stat is, in words, when it is not a regular file or a directory. */
export function irregularKind(entry: Dirent | Stats): string | undefined {
  if (entry.isFile() || entry.isDirectory()) return undefined;
  if (entry.isSymbolicLink()) return "a symbolic link";
  if (entry.isFIFO()) return "a FIFO (named pipe)";
  if (entry.isSocket()) return "a socket";
  if (entry.isCharacterDevice() || entry.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** The refusal for an entry that is not a regular file, as a sentence without the file name. */
export function irregularReason(kind: string): string {
  return `is ${kind}, not a regular file, so pinline does not read it`;
}

export class IrregularFileError extends Error {
  override name = "IrregularFileError";
  constructor(
    readonly kind: string,
    readonly path: string,
  ) {
    super(`${path} ${irregularReason(kind)}`);
  }
}

/**
 * Opens `path` for reading only if it is a regular file. Returns undefined when it does not
 * exist; throws IrregularFileError for a link, FIFO, socket or device (and EISDIR for a folder).
 */
export function openRegularFile(path: string): number | undefined {
  return openChecked(path)?.fd;
}

/** The descriptor and size of a regular file (one fstat), or undefined when it does not exist. */
function openChecked(path: string): { fd: number; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "ELOOP" || code === "EMLINK")
      throw new IrregularFileError("a symbolic link", path);
    if (code === "ENXIO") throw new IrregularFileError("a FIFO (named pipe)", path); // no writer
    throw error;
  }
  const stats = fstatSync(fd);
  const kind = stats.isDirectory() ? undefined : irregularKind(stats);
  if (kind !== undefined) {
    closeSync(fd);
    throw new IrregularFileError(kind, path);
  }
  return { fd, size: stats.size };
}

/**
 * The bytes of a regular file, or undefined when it does not exist (see openRegularFile). A
 * read shorter than asked is the end of a regular file, so a file that is as large as fstat
 * said takes one read.
 */
export function readRegularFile(path: string): Buffer | undefined {
  const opened = openChecked(path);
  if (opened === undefined) return undefined;
  const { fd, size } = opened;
  try {
    const chunks: Buffer[] = [];
    let buffer = Buffer.allocUnsafe(size + 1);
    let length = 0;
    for (;;) {
      const wanted = buffer.length - length;
      const n = readSync(fd, buffer, length, wanted, null);
      length += n;
      if (n < wanted) break; // the end of the file
      chunks.push(buffer);
      buffer = Buffer.allocUnsafe(buffer.length);
      length = 0;
    }
    chunks.push(buffer.subarray(0, length));
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}
