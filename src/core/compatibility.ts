/**
 * Platform compatibility (DESIGN §2): a release manifest lists, per platform, the versions it
 * runs with in the words of its release notes — `kubernetes: ["1.26+", "1.27", "1.28"]`,
 * `database: ["PostgreSQL 14+", "15", "16"]` — and an environment pin may say what it runs
 * (`platform: { kubernetes: "1.28.3" }`). This module reads those ranges and judges each
 * declared platform against them. Versions compare as numbers, component by component, so
 * "1.28" < "1.100" and "9.4+" covers 10.2 and 23.1.
 */
import { InvalidValueError } from "./errors.js";

/** A platform version as numbers: "1.28.3" is [1, 28, 3]. */
export type PlatformNumbers = readonly number[];

/** One range a release writes, read. */
export type CompatibilityRange =
  /** "9.4+": this version or any later one. */
  | { kind: "atLeast"; text: string; product?: string | undefined; from: PlatformNumbers }
  /** "10.x", "15", "1.28": every version whose leading numbers are these. */
  | { kind: "line"; text: string; product?: string | undefined; line: PlatformNumbers }
  /** "1.26 - 1.29": from the first version through the whole line of the second. */
  | {
      kind: "between";
      text: string;
      product?: string | undefined;
      from: PlatformNumbers;
      through: PlatformNumbers;
    };

/** The verdict on one platform an environment declares. */
export interface CompatibilityResult {
  platform: string;
  declared: string;
  /** The ranges the release writes for the platform; undefined when it writes none. */
  ranges: readonly string[] | undefined;
  compatible: boolean;
  reason: string;
}

const RANGE_FORMS =
  'accepted forms: "X+" or "X.Y+" (at least), "X.x" or "X.Y.x" (that line), "X" or "X.Y" (that line), "X - Y" (inclusive), each optionally after a product name ("PostgreSQL 14+")';

const DECLARED_FORM =
  'write the version as numbers separated by dots, optionally after a product name, such as "1.28.3" or "PostgreSQL 15.4"';

const NUMBERS = String.raw`\d+(?:\.\d+)*`;
/**
 * An optional product name (letters and spaces: "PostgreSQL", "Content Manager") and what
 * follows it, which starts with anything but a letter (or with "v" and a digit, to be refused).
 */
const NAMED = /^(?:([A-Za-z](?:[A-Za-z ]*[A-Za-z])?)\s+)?((?:[vV](?=\d)|[^A-Za-z\s]).*)$/;
const AT_LEAST = new RegExp(`^(${NUMBERS})\\s*\\+$`);
const WILDCARD_LINE = new RegExp(`^(${NUMBERS})\\.[xX]$`);
const LINE = new RegExp(`^(${NUMBERS})$`);
const BETWEEN = new RegExp(`^(${NUMBERS})\\s*-\\s*(${NUMBERS})$`);

/**
 * Reads one compatibility range as a release writes it. Throws InvalidValueError naming the
 * range and listing the accepted forms when it cannot be read (validation reports it at the
 * range's place in release.yaml).
 */
export function parseCompatibilityRange(text: string): CompatibilityRange {
  if (typeof text !== "string" || text.trim() === "") {
    refuseRange(text, "it is empty");
  }
  const { product, rest } = splitProduct(text.trim());
  const atLeast = AT_LEAST.exec(rest);
  if (atLeast) return { kind: "atLeast", text, product, from: toNumbers(atLeast[1]) };
  const line = WILDCARD_LINE.exec(rest) ?? LINE.exec(rest);
  if (line) return { kind: "line", text, product, line: toNumbers(line[1]) };
  const between = BETWEEN.exec(rest);
  if (between) {
    const from = toNumbers(between[1]);
    const through = toNumbers(between[2]);
    if (compareNumbers(from, through) > 0) {
      refuseRange(text, `its lower bound ${between[1]} is above its upper bound ${between[2]}`);
    }
    return { kind: "between", text, product, from, through };
  }
  return refuseRange(text, describeRangeProblem(rest));
}

/**
 * Judges each platform the environment declares against the release's ranges: one result per
 * declared platform, in name order. A platform the release writes no range for is compatible
 * (the release makes no claim); a declared value that is not a version is not. Throws
 * InvalidValueError when a range the release writes for a declared platform cannot be read.
 */
export function checkCompatibility(
  declared: Readonly<Record<string, string | undefined>>,
  compatibility: Readonly<Record<string, readonly string[] | undefined>> | undefined,
): CompatibilityResult[] {
  return Object.keys(declared)
    .filter((platform) => declared[platform] !== undefined)
    .sort()
    .map((platform) =>
      checkPlatform(platform, declared[platform] as string, compatibility?.[platform]),
    );
}

function checkPlatform(
  platform: string,
  declared: string,
  ranges: readonly string[] | undefined,
): CompatibilityResult {
  const verdict = (compatible: boolean, reason: string): CompatibilityResult => ({
    platform,
    declared,
    ranges,
    compatible,
    reason,
  });
  if (ranges === undefined || ranges.length === 0) {
    return verdict(true, `release declares no ${platform} range`);
  }
  const parsed = readRanges(platform, ranges);
  const version = parseDeclared(declared);
  if (typeof version === "string") {
    return verdict(false, `${platform} "${declared}" is not a version: ${version}`);
  }
  const shown = `${platform} ${declared.trim()}`;
  const sameProduct = parsed.filter((range) => productsMatch(range.product, version.product));
  if (sameProduct.length === 0) {
    const wanted = [...new Set(parsed.map((range) => range.product as string))].join(" or ");
    return verdict(false, `${shown} is not ${wanted}: the release runs on ${ranges.join(", ")}`);
  }
  const match = sameProduct.find((range) => inRange(version.numbers, range));
  if (match) return verdict(true, `${shown} is within ${match.text.trim()}`);
  return verdict(false, `${shown} is outside ${ranges.join(", ")}`);
}

/**
 * Reads a platform's ranges. A range without a product name takes the name of the nearest
 * named range before it (or, when none is before it, the first one after it): in
 * ["PostgreSQL 14+", "15", "16"], "15" and "16" are PostgreSQL versions too.
 */
function readRanges(platform: string, ranges: readonly string[]): CompatibilityRange[] {
  const parsed = ranges.map((text) => {
    try {
      return parseCompatibilityRange(text);
    } catch (error) {
      if (!(error instanceof InvalidValueError)) throw error;
      throw new InvalidValueError(`compatibility.${platform}: ${error.message}`, {
        hint: error.hint,
        cause: error,
      });
    }
  });
  const firstName = parsed.find((range) => range.product !== undefined)?.product;
  let name = firstName;
  return parsed.map((range) => {
    if (range.product !== undefined) name = range.product;
    return range.product === undefined ? { ...range, product: name } : range;
  });
}

/** A declared platform version, or why it is not one. */
function parseDeclared(text: string): { product?: string | undefined; numbers: number[] } | string {
  if (text.trim() === "") return `it is empty; ${DECLARED_FORM}`;
  const { product, rest } = splitProduct(text.trim());
  if (LINE.test(rest)) return { product, numbers: toNumbers(rest) };
  if (/^[vV]\d/.test(rest)) return `drop the "v" ("${rest.slice(1)}"); ${DECLARED_FORM}`;
  if (/[xX+*]/.test(rest) && /\d/.test(rest)) {
    return `it is a range, but a platform declares the one version it runs; ${DECLARED_FORM}`;
  }
  return DECLARED_FORM;
}

/** Whether a version lies in a range: numbers compare component by component. */
function inRange(version: PlatformNumbers, range: CompatibilityRange): boolean {
  switch (range.kind) {
    case "atLeast":
      return compareNumbers(version, range.from) >= 0;
    case "line":
      return compareNumbers(version.slice(0, range.line.length), range.line) === 0;
    case "between":
      return (
        compareNumbers(version, range.from) >= 0 &&
        compareNumbers(version.slice(0, range.through.length), range.through) <= 0
      );
  }
}

/** A product name on one side only does not contradict the other; on both, it must agree. */
function productsMatch(range: string | undefined, declared: string | undefined): boolean {
  if (range === undefined || declared === undefined) return true;
  return normaliseProduct(range) === normaliseProduct(declared);
}

function normaliseProduct(name: string): string {
  return name.toLowerCase().replace(/\s+/g, " ");
}

/** Compares two number lists, missing components counting as 0 ("1.28" equals "1.28.0"). */
function compareNumbers(a: PlatformNumbers, b: PlatformNumbers): -1 | 0 | 1 {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function splitProduct(text: string): { product?: string | undefined; rest: string } {
  const match = NAMED.exec(text);
  const product = match?.[1]?.replace(/\s+/g, " ");
  return { product, rest: match?.[2] ?? text };
}

function toNumbers(text: string | undefined): number[] {
  return (text ?? "").split(".").map(Number);
}

function describeRangeProblem(rest: string): string {
  if (/^(?:[<>]=?|[~^=])/.test(rest)) {
    return 'comparison operators are not read here (write "1.26+" for >=1.26)';
  }
  if (/^[vV]\d/.test(rest)) return `drop the "v" ("${rest.slice(1)}")`;
  if (rest.includes("*")) return 'write the wildcard as "x" ("10.x")';
  if (/\.[xX]\./.test(rest)) return "a wildcard may only end the range";
  return "it is not a version, a line or a span of versions";
}

function refuseRange(text: unknown, problem: string): never {
  throw new InvalidValueError(
    `${JSON.stringify(text)} is not a compatibility range: ${problem}; ${RANGE_FORMS}`,
    { hint: 'write ranges such as "1.26+", "10.x", "15" or "1.26 - 1.29"' },
  );
}
