/**
 * Durations as written in policies and pins: "90s", "5m", "48h", "2d", "1w", "1h30m", "500ms".
 */
import { InvalidValueError } from "./errors.js";

/** Units from largest to smallest, in milliseconds. */
const UNITS = [
  ["w", 7 * 24 * 60 * 60 * 1000],
  ["d", 24 * 60 * 60 * 1000],
  ["h", 60 * 60 * 1000],
  ["m", 60 * 1000],
  ["s", 1000],
  ["ms", 1],
] as const;

type Unit = (typeof UNITS)[number][0];

const PART_PATTERN = /(\d+)(ms|w|d|h|m|s)/y;

const ACCEPTED_FORMS =
  'use a whole number and a unit (ms, s, m, h, d, w), largest unit first, such as "90s", "5m", "48h", "2d", "1w" or "1h30m"';

function refuse(text: string, problem: string): never {
  throw new InvalidValueError(
    `${JSON.stringify(text)} is not a duration: ${problem}; ${ACCEPTED_FORMS}`,
  );
}

function rankOf(unit: Unit): number {
  return UNITS.findIndex(([name]) => name === unit);
}

function millisecondsPer(unit: Unit): number {
  return (UNITS[rankOf(unit)] as (typeof UNITS)[number])[1];
}

function describeBadPart(rest: string): string {
  if (/^\d+\.\d/.test(rest)) return 'use whole numbers ("1h30m", not "1.5h")';
  if (/\s/.test(rest)) return "remove the spaces";
  return `"${rest}" is not a number followed by a unit`;
}

/** Reads the text as `<number><unit>` parts, in order. */
function readParts(text: string): { amount: number; unit: Unit }[] {
  const parts: { amount: number; unit: Unit }[] = [];
  PART_PATTERN.lastIndex = 0;
  while (PART_PATTERN.lastIndex < text.length) {
    const at = PART_PATTERN.lastIndex;
    const match = PART_PATTERN.exec(text);
    if (!match) refuse(text, describeBadPart(text.slice(at)));
    parts.push({ amount: Number(match[1]), unit: match[2] as Unit });
  }
  return parts;
}

/**
 * Parses a duration into milliseconds: "90s", "5m", "48h", "2d", "1w", "1h30m", "500ms".
 * Throws InvalidValueError for anything else (decimals, unknown units, units out of order).
 */
export function parseDuration(text: string): number {
  if (typeof text !== "string" || text === "") refuse(text, "it is empty or not a string");
  let total = 0;
  let previousRank = -1;
  for (const { amount, unit } of readParts(text)) {
    const rank = rankOf(unit);
    if (rank <= previousRank) refuse(text, `"${unit}" is repeated or out of order`);
    previousRank = rank;
    total += amount * millisecondsPer(unit);
  }
  if (!Number.isSafeInteger(total)) refuse(text, "it is too long");
  return total;
}

/**
 * Formats milliseconds as a duration that parseDuration reads back: 5400000 → "1h30m",
 * 172800000 → "2d", 0 → "0s". Throws InvalidValueError for negative or fractional input.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new InvalidValueError(
      `cannot format ${ms} as a duration: it must be a whole, non-negative number of milliseconds`,
    );
  }
  if (ms === 0) return "0s";
  let rest = ms;
  let text = "";
  for (const [unit, size] of UNITS) {
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return text;
}
