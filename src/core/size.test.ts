import { describe, expect, it } from "vitest";
import { InvalidValueError } from "./errors.js";
import { formatSize, parseSize } from "./size.js";

describe("parseSize", () => {
  it.each([
    [131_072_000, 131_072_000],
    [0, 0],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ["125MB", 131_072_000],
    ["125 MB", 131_072_000],
    ["125MiB", 131_072_000],
    ["45MB", 47_185_920],
    ["1.5GB", 1_610_612_736],
    ["1.5 GiB", 1_610_612_736],
    ["512KiB", 524_288],
    ["512KB", 524_288],
    ["10B", 10],
    ["2TB", 2_199_023_255_552],
    ["1TiB", 1_099_511_627_776],
    ["0.5KB", 512],
    ["1.0B", 1],
    ["1024", 1024],
  ])("reads %j as %d bytes", (value, expected) => {
    expect(parseSize(value)).toBe(expected);
  });

  it.each([
    [-1, /whole, non-negative/],
    [1.5, /whole, non-negative/],
    [Number.NaN, /whole, non-negative/],
    [2 ** 53, /whole, non-negative/],
    ["1.1KB", /not a whole number of bytes/],
    ["0.1B", /not a whole number of bytes/],
    ["125mb", /"mb" is not a unit/],
    ["125 PB", /"PB" is not a unit/],
    ["125MBs", /"MBs" is not a unit/],
    ["MB", /not a number followed by a unit/],
    ["", /not a number followed by a unit/],
    ["-5MB", /not a number followed by a unit/],
    ["1e3", /not a number followed by a unit/],
    ["99999TB", /too large/],
  ])("refuses %s and says why", (value, reason) => {
    expect(() => parseSize(value)).toThrow(InvalidValueError);
    expect(() => parseSize(value)).toThrow(reason);
  });

  it("names a number it refuses as it is", () => {
    expect(() => parseSize(Number.NaN)).toThrow(/^NaN is not a size/);
  });

  it("lists the units it accepts when it refuses", () => {
    expect(() => parseSize("125 megs")).toThrow(/B, KB, MB, GB, TB, KiB, MiB, GiB, TiB/);
  });
});

describe("formatSize", () => {
  it.each([
    [0, "0 bytes"],
    [1, "1 byte"],
    [512, "512 bytes"],
    [1023, "1,023 bytes"],
    [1024, "1 KiB (1,024 bytes)"],
    [1536, "1.5 KiB (1,536 bytes)"],
    [47_185_920, "45 MiB (47,185,920 bytes)"],
    [131_072_000, "125 MiB (131,072,000 bytes)"],
    [1_610_612_736, "1.5 GiB (1,610,612,736 bytes)"],
    [1_048_575, "1 MiB (1,048,575 bytes)"],
    [1_234_567, "1.2 MiB (1,234,567 bytes)"],
    [2_199_023_255_552, "2 TiB (2,199,023,255,552 bytes)"],
    [Number.MAX_SAFE_INTEGER, "8 PiB (9,007,199,254,740,991 bytes)"],
  ])("shows %d bytes as %j", (bytes, expected) => {
    expect(formatSize(bytes)).toBe(expected);
  });

  it.each([-1, 0.5, Number.NaN])("refuses %s", (bytes) => {
    expect(() => formatSize(bytes)).toThrow(InvalidValueError);
  });

  it("shows what parseSize read from a manifest's human form", () => {
    expect(formatSize(parseSize("125MB"))).toBe("125 MiB (131,072,000 bytes)");
  });
});
