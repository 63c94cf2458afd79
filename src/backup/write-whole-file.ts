/**
 * A backup file is written whole or not at all: the bytes go to a temporary name beside the
 * final one, are flushed to disk, and only then renamed into place (and the folder flushed, so
 * the rename survives a crash too). Until `commit`, nothing under the final name exists; after
 * `abort`, nothing under either name does. The sha256 and size are counted on the way.
 */
import { createHash, randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

export class WholeFile {
  private readonly hash = createHash("sha256");
  private written = 0;

  private constructor(
    readonly path: string,
    private readonly temporary: string,
    private readonly handle: FileHandle,
  ) {}

  /** Opens a new temporary file beside `path` (only its owner may read it). */
  static async create(path: string): Promise<WholeFile> {
    const temporary = join(
      dirname(path),
      `.${basename(path)}.partial-${process.pid}-${randomBytes(4).toString("hex")}`,
    );
    const handle = await open(temporary, "wx", 0o600);
    return new WholeFile(path, temporary, handle);
  }

  /** How many bytes were written so far: the offset of the next one. */
  get offset(): number {
    return this.written;
  }

  async write(chunk: Buffer | string): Promise<void> {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done);
      done += bytesWritten;
    }
    this.hash.update(bytes);
    this.written += bytes.length;
  }

  /** Everything `source` yields, in order. */
  async writeAll(source: AsyncIterable<Buffer | string>): Promise<void> {
    for await (const chunk of source) await this.write(chunk);
  }

  /** Flushes, closes and renames into place; returns what was written. */
  async commit(): Promise<WrittenFile> {
    await this.handle.sync();
    await this.handle.close();
    await linkInto(this.temporary, this.path);
    return { path: this.path, bytes: this.written, sha256: this.hash.digest("hex") };
  }

  /** Closes and deletes the temporary file; nothing is left behind. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.temporary, { force: true });
  }
}

/** Writes `text` whole or not at all. */
export async function writeWholeFile(path: string, text: string): Promise<WrittenFile> {
  const file = await WholeFile.create(path);
  try {
    await file.write(text);
    return await file.commit();
  } catch (error) {
    await file.abort();
    throw error;
  }
}

/** Renames the temporary file over `path`, then flushes the folder's entry. */
async function linkInto(temporary: string, path: string): Promise<void> {
  await rename(temporary, path);
  let folder: FileHandle | undefined;
  try {
    folder = await open(dirname(path), "r");
    await folder.sync();
  } catch {
    // Some file systems cannot flush a folder; the file itself is on disk already.
  } finally {
    await folder?.close();
  }
}
