/**
 * Checks local copies of a release's artifacts against the manifest's size and sha256
 * (DESIGN §6): each file is streamed through sha256 and never read past `size` + 1 bytes, so a
 * file that is too long — even an endless one — is refused after one byte too many.
 *
 * Which file is a component's local copy (relative to the artifacts directory):
 *
 * 1. `artifact` is a URL (`scheme://…`): the last segment of its path, percent-decoded —
 *    "https://downloads.example.com/frontend-2.4.1.tgz" → "frontend-2.4.1.tgz".
 * 2. `artifact` is an image reference (its last `/`-segment carries a `:tag` or an `@digest`):
 *    "<image name>-<tag>.tar", the name `docker save -o` is usually given —
 *    "ghcr.io/acme/cm-diagnostics-backend:2.4.1" → "cm-diagnostics-backend-2.4.1.tar"; a
 *    reference with a digest and no tag uses the component's version as the tag.
 * 3. Anything else is a path relative to the artifacts directory, as `pinline release create`
 *    writes it before the engineer replaces it with the real location ("backend-2.4.2.tar").
 *
 * If that file does not exist, the one file named "<component>-<version>" or
 * "<component>-<version>.<extension>" in the directory is taken instead ("backend-2.4.1.tar"
 * for component backend at 2.4.1); two such files are ambiguous (invalid), none is "missing".
 *
 * A path that leaves the artifacts directory — "../../x", an absolute path, a symbolic link
 * whose target lies outside — is refused, never opened. Only regular files are read.
 */
import { createHash } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, open, readdir, realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { PinlineError, UsageError } from "../core/errors.js";
import type { Component, ReleaseManifest } from "../core/schema-types.js";
import { parseSize } from "../core/size.js";

export interface ArtifactVerdict {
  component: string;
  /** The local file as resolved, relative to the artifacts directory. */
  path: string;
  /** Bytes, from the manifest's size; NaN when the manifest's size cannot be read. */
  expectedSize: number;
  /** Lowercase hex, as the manifest gives it. */
  expectedSha256: string;
  /** Bytes read; absent when the file was not read to its end (missing, refused, too long). */
  actualSize?: number;
  /** Present when the whole file was read. */
  actualSha256?: string;
  /** "unchecked": nothing to check it against here (an image reference when fetching). */
  verdict: "valid" | "invalid" | "missing" | "unchecked";
  reason: string;
}

/** Opens a file for reading; the default is fs.promises.open. Tests count bytes through it. */
export type OpenFile = (path: string, flags: number) => Promise<FileHandle>;

export const REFUSED_ESCAPE = "refused: path escapes the artifacts directory";

/**
 * Verifies every component of `manifest` against its local copy in `artifactsDir`, in the
 * manifest's order. A missing file is reported as "missing": whether that fails is the
 * caller's decision (required components must be present). Throws UsageError when
 * `artifactsDir` is not a directory.
 */
export async function verifyArtifacts(input: {
  manifest: ReleaseManifest;
  artifactsDir: string;
  open?: OpenFile;
}): Promise<ArtifactVerdict[]> {
  const dir = resolve(input.artifactsDir);
  const realDir = await realDirectory(dir);
  const openFile = input.open ?? open;
  const verdicts: ArtifactVerdict[] = [];
  for (const [name, component] of Object.entries(input.manifest.components ?? {})) {
    verdicts.push(await verifyComponent(name, component, dir, realDir, openFile));
  }
  return verdicts;
}

/**
 * The file name rule above, rules 1–3: the local name of a component's artifact, or undefined
 * when the artifact names no file (a URL ending in "/").
 */
export function localArtifactName(
  component: Pick<Component, "artifact" | "version">,
): string | undefined {
  const artifact = component.artifact.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(artifact)) {
    const path = artifact.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "").replace(/[?#].*$/, "");
    const last = path.slice(path.lastIndexOf("/") + 1);
    return last === "" ? undefined : decodePercent(last);
  }
  const lastSegment = artifact.slice(artifact.lastIndexOf("/") + 1);
  const image = /^([^:@]+)(?::([\w][\w.-]*))?(?:@[a-z0-9]+:[0-9a-f]+)?$/i.exec(lastSegment);
  if (image && lastSegment !== image[1]) {
    return `${image[1]}-${image[2] ?? component.version}.tar`;
  }
  return artifact === "" ? undefined : artifact;
}

async function verifyComponent(
  name: string,
  component: Component | undefined,
  dir: string,
  realDir: string,
  openFile: OpenFile,
): Promise<ArtifactVerdict> {
  const expected = readExpectations(component);
  const base = {
    component: name,
    expectedSize: expected.size ?? Number.NaN,
    expectedSha256: expected.sha256,
  };
  if (expected.problem !== undefined || component === undefined) {
    const path = typeof component?.artifact === "string" ? localArtifactName(component) : "";
    return {
      ...base,
      path: path ?? "",
      verdict: "invalid",
      reason: expected.problem ?? "is not a component",
    };
  }
  const { size } = expected;

  const located = await locate(name, component, dir);
  if (located.kind === "refused")
    return { ...base, path: located.path, verdict: "invalid", reason: REFUSED_ESCAPE };
  if (located.kind === "missing")
    return { ...base, path: located.path, verdict: "missing", reason: located.reason };
  if (located.kind === "ambiguous")
    return { ...base, path: located.path, verdict: "invalid", reason: located.reason };
  const { path, absolute } = located;

  let real: string;
  try {
    real = await realpath(absolute);
  } catch (error) {
    if (errorCode(error) === "ENOENT") {
      return {
        ...base,
        path,
        verdict: "missing",
        reason: "is a symbolic link to a file that does not exist",
      };
    }
    return { ...base, path, verdict: "invalid", reason: `cannot be read: ${describe(error)}` };
  }
  if (!isInside(realDir, real))
    return { ...base, path, verdict: "invalid", reason: REFUSED_ESCAPE };

  return judge({ ...base, path }, await readBounded(real, size, openFile), size, expected.sha256);
}

/** The verdict on a bounded read, against the manifest's size and digest. */
export function judge(
  base: Omit<ArtifactVerdict, "verdict" | "reason">,
  read: BoundedRead,
  size: number,
  sha256: string,
): ArtifactVerdict {
  if ("reason" in read) return { ...base, verdict: "invalid", reason: read.reason };
  if (read.tooLong) {
    return {
      ...base,
      verdict: "invalid",
      reason: `is longer than the manifest's size (${size} bytes): refused without reading further`,
    };
  }
  const actual = { actualSize: read.bytes, actualSha256: read.sha256 };
  if (read.bytes < size) {
    return {
      ...base,
      ...actual,
      verdict: "invalid",
      reason: `is ${read.bytes} bytes, shorter than the manifest's size (${size} bytes)`,
    };
  }
  if (read.sha256 !== sha256) {
    return {
      ...base,
      ...actual,
      verdict: "invalid",
      reason: `sha256 mismatch: expected ${sha256}, got ${read.sha256}`,
    };
  }
  return { ...base, ...actual, verdict: "valid", reason: `size (${size} bytes) and sha256 match` };
}

export type Expectations =
  | { size: number; sha256: string; problem?: undefined }
  | { size?: number; sha256: string; problem: string };

/** The size in bytes and the digest, or why the manifest's values cannot be checked against. */
export function readExpectations(component: Component | undefined): Expectations {
  if (component === null || typeof component !== "object") {
    return {
      sha256: "",
      problem: "is not a component: the manifest gives no artifact, sha256 or size",
    };
  }
  const sha256 = typeof component.sha256 === "string" ? component.sha256.toLowerCase() : "";
  let size: number;
  try {
    size = parseSize(component.size);
  } catch (error) {
    if (!(error instanceof PinlineError)) throw error;
    return { sha256, problem: `the manifest's size is unusable: ${error.message}` };
  }
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    return {
      size,
      sha256,
      problem: `the manifest's sha256 ${JSON.stringify(component.sha256 ?? null)} is not a sha256 digest (64 hexadecimal characters)`,
    };
  }
  if (typeof component.artifact !== "string" || typeof component.version !== "string") {
    return { size, sha256, problem: "the manifest gives no artifact or version for it" };
  }
  return { size, sha256 };
}

type Located =
  | { kind: "file"; path: string; absolute: string }
  | { kind: "refused"; path: string }
  | { kind: "missing"; path: string; reason: string }
  | { kind: "ambiguous"; path: string; reason: string };

/** Applies the file name rule (see the top of this file), refusing paths outside `dir`. */
async function locate(name: string, component: Component, dir: string): Promise<Located> {
  const local = localArtifactName(component);
  if (local !== undefined) {
    const absolute = resolve(dir, local);
    const path = toForwardSlashes(relative(dir, absolute));
    if (isAbsolute(local) || !isInside(dir, absolute) || absolute === dir)
      return { kind: "refused", path };
    if (await exists(absolute)) return { kind: "file", path, absolute };
  }
  const stem = `${name}-${component.version}`;
  const entries = await readdir(dir);
  const matches = entries.filter((entry) => entry === stem || entry.startsWith(`${stem}.`)).sort();
  const looked = `${local === undefined ? "" : `${local} or `}${stem}[.*]`;
  const [only, ...more] = matches;
  if (only === undefined) {
    return {
      kind: "missing",
      path: local ?? stem,
      reason: `no local copy: looked for ${looked} in the artifacts directory`,
    };
  }
  if (more.length > 0) {
    return {
      kind: "ambiguous",
      path: only,
      reason: `ambiguous: ${matches.join(", ")} could each be its local copy; keep one, or name the file ${local ?? stem}`,
    };
  }
  return { kind: "file", path: only, absolute: resolve(dir, only) };
}

export type BoundedRead =
  | { bytes: number; sha256: string; tooLong: false }
  | { tooLong: true }
  | { reason: string };

/**
 * Streams at most `size` + 1 bytes of a regular file through sha256: the stream's `end` is
 * inclusive, so it cannot read further, and the extra byte is how a longer file shows itself.
 * O_NONBLOCK keeps a FIFO from blocking the open; O_NOFOLLOW refuses a link swapped in since
 * realpath.
 */
async function readBounded(path: string, size: number, openFile: OpenFile): Promise<BoundedRead> {
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  let handle: FileHandle;
  try {
    handle = await openFile(path, flags);
  } catch (error) {
    return { reason: `cannot be read: ${describe(error)}` };
  }
  try {
    const kind = fileKind(await handle.stat());
    if (kind !== undefined) return { reason: `is ${kind}, not a regular file` };
    const hash = createHash("sha256");
    let bytes = 0;
    const stream = handle.createReadStream({ start: 0, end: size, autoClose: false });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > size) {
        stream.destroy();
        return { tooLong: true };
      }
      hash.update(chunk);
    }
    return { bytes, sha256: hash.digest("hex"), tooLong: false };
  } catch (error) {
    return { reason: `cannot be read: ${describe(error)}` };
  } finally {
    await handle.close();
  }
}

function fileKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

async function realDirectory(dir: string): Promise<string> {
  try {
    const stats = await stat(dir);
    if (!stats.isDirectory())
      throw new UsageError(`the artifacts directory ${dir} is not a directory`);
    return await realpath(dir);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`the artifacts directory ${dir} cannot be read: ${describe(error)}`, {
      hint: "pass --artifacts with the folder that holds the downloaded artifacts",
      cause: error,
    });
  }
}

/** Whether `path` lies strictly inside `dir` (both absolute, both resolved the same way). */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    // A dangling link or a name we may not look at still counts as "there": the checks report it.
    return errorCode(error) !== "ENOENT" || (await isLink(path));
  }
}

async function isLink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}

function decodePercent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function toForwardSlashes(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}
