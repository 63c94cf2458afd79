import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";
import { InvalidValueError } from "./errors.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["90s", 90 * SECOND],
    ["5m", 5 * MINUTE],
    ["6h", 6 * HOUR],
    ["48h", 48 * HOUR],
    ["2d", 2 * DAY],
    ["1w", WEEK],
    ["1h30m", HOUR + 30 * MINUTE],
    ["1m5s", MINUTE + 5 * SECOND],
    ["1w2d3h4m5s6ms", WEEK + 2 * DAY + 3 * HOUR + 4 * MINUTE + 5 * SECOND + 6],
    ["0s", 0],
    ["0ms", 0],
  ])("reads %j as %d ms", (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each([
    ["", /empty/],
    ["48", /"48" is not a number followed by a unit/],
    ["h", /"h" is not a number followed by a unit/],
    ["1.5h", /use whole numbers \("1h30m", not "1\.5h"\)/],
    ["1h0.5m", /use whole numbers/],
    ["5 m", /remove the spaces/],
    [" 5m", /remove the spaces/],
    ["5M", /"5M" is not a number followed by a unit/],
    ["2days", /"ays" is not a number followed by a unit/],
    ["1y", /"1y" is not a number followed by a unit/],
    ["-5m", /is not a number followed by a unit/],
    ["30m1h", /"h" is repeated or out of order/],
    ["1h1h", /"h" is repeated or out of order/],
    ["99999999999999w", /too long/],
  ])("refuses %j and says why", (text, reason) => {
    expect(() => parseDuration(text)).toThrow(InvalidValueError);
    expect(() => parseDuration(text)).toThrow(reason);
  });

  it("shows the accepted forms when it refuses", () => {
    expect(() => parseDuration("two days")).toThrow(/"90s", "5m", "48h", "2d", "1w" or "1h30m"/);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [90 * SECOND, "1m30s"],
    [5 * MINUTE, "5m"],
    [HOUR + 30 * MINUTE, "1h30m"],
    [48 * HOUR, "2d"],
    [2 * DAY, "2d"],
    [WEEK, "1w"],
    [10 * DAY + 1, "1w3d1ms"],
  ])("writes %d ms as %j", (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %s", (ms) => {
    expect(() => formatDuration(ms)).toThrow(InvalidValueError);
  });

  it("writes what parseDuration reads back", () => {
    for (const ms of [0, 1, 999, 61_001, 3_600_000, 90_061_001, 1_209_600_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
