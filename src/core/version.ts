/**
 * Release versions: `MAJOR.MINOR.PATCH[-CHANNEL[.N]]` (DESIGN §1).
 *
 * Ordering is semver's, and nothing else. Prerelease identifiers compare alphabetically, so for
 * one MAJOR.MINOR.PATCH the channels sort as
 * `2.5.0-beta.3 < 2.5.0-nightly.20240315 < 2.5.0-rc.1 < 2.5.0`: a nightly sorts after every
 * beta and before every rc. That is intended; channel membership, not order, decides who
 * receives a nightly.
 */
import { LRUCache } from "lru-cache";
import type { SemVer } from "semver";
import semver from "semver";
import { InvalidValueError } from "./errors.js";
import type { ReleaseChannel } from "./schema-types.js";

/** The kind of build a release is; the version suffix says it. */
export type ReleaseChannelName = ReleaseChannel;

/** A version that pinline accepts, with its canonical spelling and its channel. */
export interface ParsedVersion {
  /** The text as written. */
  raw: string;
  /** The spelling used for comparison and display: "2.4.1-stable" becomes "2.4.1". */
  canonical: string;
  semver: SemVer;
  channel: ReleaseChannelName;
}

const ACCEPTED_FORMS =
  'accepted forms: "X.Y.Z", "X.Y.Z-stable", "X.Y.Z-beta.N", "X.Y.Z-rc.N", "X.Y.Z-nightly.YYYYMMDD"';

const SEMVER_OPTIONS = { includePrerelease: true } as const;

const CORE_PATTERN = /^(\d+)\.(\d+)\.(\d+)(?:-(.*))?$/;
const NUMBERED_SUFFIX_PATTERN = /^(beta|rc)\.(0|[1-9]\d*)$/;
const NIGHTLY_SUFFIX_PATTERN = /^nightly\.(\d{8})$/;

function refuse(text: string, problem: string): never {
  throw new InvalidValueError(`"${text}" is not a version: ${problem}; ${ACCEPTED_FORMS}`);
}

function checkNoLeadingZeros(text: string, parts: readonly string[]): void {
  for (const part of parts) {
    if (part.length > 1 && part.startsWith("0")) {
      refuse(text, `"${part}" has a leading zero`);
    }
  }
}

function isCalendarDate(yyyymmdd: string): boolean {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  // Date.UTC rolls 2024-02-30 over to March 1st; a real date survives the round trip.
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

function readChannel(text: string, suffix: string | undefined): ReleaseChannelName {
  if (suffix === undefined || suffix === "stable") return "stable";
  const numbered = NUMBERED_SUFFIX_PATTERN.exec(suffix);
  if (numbered) return numbered[1] === "beta" ? "beta" : "rc";
  const nightly = NIGHTLY_SUFFIX_PATTERN.exec(suffix);
  if (nightly) {
    const date = nightly[1] ?? "";
    if (!isCalendarDate(date)) refuse(text, `the nightly date "${date}" is not a calendar date`);
    return "nightly";
  }
  if (suffix === "beta" || suffix === "rc") {
    refuse(text, `a ${suffix} suffix needs a number: "-${suffix}.N", such as "-${suffix}.1"`);
  }
  if (/^(beta|rc)\./.test(suffix)) {
    refuse(text, `in "-${suffix}", N must be a whole number without leading zeros`);
  }
  if (suffix.startsWith("nightly")) {
    refuse(text, `a nightly suffix is "-nightly.YYYYMMDD" (8 digits), not "-${suffix}"`);
  }
  return refuse(
    text,
    `"-${suffix}" is not a channel suffix (use -stable, -beta.N, -rc.N or -nightly.YYYYMMDD)`,
  );
}

/**
 * Parses a release version. Throws InvalidValueError saying what is wrong and listing the
 * accepted forms: "2.4.1", "2.4.1-stable", "2.5.0-beta.3", "2.5.0-rc.1", "2.5.0-nightly.20240315".
 */
export function parseVersion(text: string): ParsedVersion {
  const known = parsed.get(text);
  if (known) return known;
  const version = Object.freeze(readVersion(text));
  parsed.set(text, version);
  return version;
}

/**
 * Versions already read. A repository names the same few thousand versions over and over
 * (pins, from, minimumVersion, file names); parsing is pure, so each is read once. Only
 * versions are remembered, never the refusals (a server reads versions clients make up, and a
 * stream of distinct bad ones must cost it nothing), and the memo is bounded in entries and in
 * bytes, least recently used out first.
 */
const parsed = new LRUCache<string, ParsedVersion>({
  max: 50_000,
  maxSize: 16 * 1024 * 1024,
  sizeCalculation: (_version, text) => 4 * text.length + 256,
});

function readVersion(text: string): ParsedVersion {
  if (typeof text !== "string") {
    throw new InvalidValueError(
      `${JSON.stringify(text)} is not a version: versions are quoted strings; ${ACCEPTED_FORMS}`,
    );
  }
  if (text.trim() === "") refuse(text, "it is empty");
  if (text !== text.trim()) refuse(text, "it has surrounding whitespace");
  if (/^[vV]\d/.test(text)) refuse(text, `drop the "v" prefix ("${text.slice(1)}")`);
  if (text.includes("+")) {
    refuse(text, `build metadata ("+${text.split("+").slice(1).join("+")}") is not allowed`);
  }
  const match = CORE_PATTERN.exec(text);
  if (!match) refuse(text, "it does not start with MAJOR.MINOR.PATCH");
  const [, major = "", minor = "", patch = "", suffix] = match;
  checkNoLeadingZeros(text, [major, minor, patch]);
  const channel = readChannel(text, suffix);
  const canonical = suffix === "stable" ? `${major}.${minor}.${patch}` : text;
  const version = semver.parse(canonical);
  if (!version) refuse(text, "a number in it is too large");
  return { raw: text, canonical, semver: version, channel };
}

/** Like parseVersion, but returns undefined instead of throwing. */
export function tryParseVersion(text: string): ParsedVersion | undefined {
  const known = parsed.get(text);
  if (known) return known;
  try {
    return parseVersion(text);
  } catch (error) {
    if (error instanceof InvalidValueError) return undefined;
    throw error;
  }
}

/** Compares two versions in semver order; "2.4.1-stable" equals "2.4.1". Throws on invalid input. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  return semver.compare(parseVersion(a).semver, parseVersion(b).semver);
}

/** Returns the versions in ascending semver order, spelled as given. Throws on invalid input. */
export function sortVersions(list: readonly string[]): string[] {
  return list
    .map(parseVersion)
    .sort((a, b) => semver.compare(a.semver, b.semver))
    .map((parsed) => parsed.raw);
}

/** Rewrites "X.Y.Z-stable" inside a range to "X.Y.Z", the spelling semver understands. */
function normaliseStableSpelling(range: string): string {
  return range.replace(/(\d+\.\d+\.\d+)-stable(?![\w.-])/g, "$1");
}

/**
 * Validates a version range — an exact version ("2.4.2"), comparisons (">=2.6.0 <2.6.3"),
 * a wildcard ("2.5.x"), a caret or tilde range ("^2.4.0") — and returns it in semver's
 * normalised form (for instance "2.5.x" becomes ">=2.5.0-0 <2.6.0-0": prereleases included).
 * Throws InvalidValueError naming the text when it is not a range.
 */
export function parseVersionRange(text: string): string {
  const example =
    'use an exact version ("2.4.2"), comparisons (">=2.6.0 <2.6.3"), a wildcard ("2.5.x") or a caret/tilde range ("^2.4.0")';
  if (typeof text !== "string" || text.trim() === "") {
    throw new InvalidValueError(`${JSON.stringify(text)} is not a version range: ${example}`);
  }
  const normalised = semver.validRange(normaliseStableSpelling(text), SEMVER_OPTIONS);
  if (normalised === null) {
    throw new InvalidValueError(`"${text}" is not a version range: ${example}`);
  }
  return normalised;
}

/**
 * Whether a version lies in a range (an exact version or a semver range). Prereleases match
 * like any other version; "-stable" spellings are normalised on both sides.
 */
export function isVersionInRange(version: string, range: string): boolean {
  const parsed = parseVersion(version);
  return semver.satisfies(parsed.semver, parseVersionRange(range), SEMVER_OPTIONS);
}

/** Whether two texts name the same version ("2.4.1-stable" is "2.4.1"); false when either is none. */
export function sameVersion(a: string, b: string): boolean {
  const left = tryParseVersion(a);
  const right = tryParseVersion(b);
  return left !== undefined && right !== undefined && left.canonical === right.canonical;
}
