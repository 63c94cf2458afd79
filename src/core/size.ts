/**
 * Sizes in bytes. Manifests store integers; a human form such as "125MB" is accepted on input,
 * where KB, MB, GB and TB are powers of 1024 like KiB, MiB, GiB and TiB ("125MB" = 131072000).
 */
import { InvalidValueError } from "./errors.js";

const UNIT_EXPONENTS: Readonly<Record<string, number>> = {
  B: 0,
  KB: 1,
  KiB: 1,
  MB: 2,
  MiB: 2,
  GB: 3,
  GiB: 3,
  TB: 4,
  TiB: 4,
};

const SIZE_PATTERN = /^(\d+)(?:\.(\d+))?\s*([A-Za-z]+)?$/;

/** Units shown by formatSize, by power of 1024. */
const DISPLAY_UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

const ACCEPTED_FORMS =
  'use a whole number of bytes or a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), such as "125MB" or "1.5 GiB"';

const EXACT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const ONE_DECIMAL = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

function refuse(value: number | string, problem: string): never {
  throw new InvalidValueError(
    `${typeof value === "string" ? JSON.stringify(value) : String(value)} is not a size: ${problem}; ${ACCEPTED_FORMS}`,
  );
}

/** Exact arithmetic on the decimal text: no floating-point rounding. */
function toBytes(text: string, whole: string, fraction: string, exponent: number): number {
  const scale = 10n ** BigInt(fraction.length);
  const scaled = (BigInt(whole) * scale + BigInt(fraction || "0")) * 1024n ** BigInt(exponent);
  if (scaled % scale !== 0n) refuse(text, "it is not a whole number of bytes");
  const bytes = scaled / scale;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) refuse(text, "it is too large");
  return Number(bytes);
}

/**
 * Reads a size as bytes: a non-negative safe integer passes through; a string is a number and
 * a unit ("125MB", "125 MB", "1.5GB", "512KiB", "10B") or bare digits. Throws InvalidValueError
 * when the value is malformed or not a whole number of bytes.
 */
export function parseSize(value: number | string): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    refuse(value, "a number of bytes must be a whole, non-negative number");
  }
  if (typeof value !== "string") refuse(value, "it is neither a number nor a string");
  const text = value.trim();
  const match = SIZE_PATTERN.exec(text);
  if (!match) refuse(value, "it is not a number followed by a unit");
  const [, whole = "", fraction = "", unit = "B"] = match;
  const exponent = UNIT_EXPONENTS[unit];
  if (exponent === undefined) refuse(value, `"${unit}" is not a unit`);
  return toBytes(value, whole, fraction, exponent);
}

function pluralBytes(bytes: number): string {
  return `${EXACT.format(bytes)} ${bytes === 1 ? "byte" : "bytes"}`;
}

/** The largest unit that keeps the rounded number at least 1 and below 1024. */
function humanPart(bytes: number): string {
  let power = 0;
  while (
    power < DISPLAY_UNITS.length - 1 &&
    Number(ONE_DECIMAL.format(bytes / 1024 ** (power + 1)).replaceAll(",", "")) >= 1
  ) {
    power++;
  }
  return `${ONE_DECIMAL.format(bytes / 1024 ** power)} ${DISPLAY_UNITS[power]}`;
}

/**
 * Shows bytes in both forms, independent of the machine's locale:
 * 131072000 → "125 MiB (131,072,000 bytes)"; below 1 KiB only the bytes: "512 bytes".
 */
export function formatSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new InvalidValueError(
      `cannot format ${bytes} as a size: it must be a whole, non-negative number of bytes`,
    );
  }
  if (bytes < 1024) return pluralBytes(bytes);
  return `${humanPart(bytes)} (${pluralBytes(bytes)})`;
}
