import { describe, expect, it } from "vitest";
import { InvalidValueError } from "./errors.js";
import {
  compareVersions,
  isVersionInRange,
  parseVersion,
  parseVersionRange,
  sortVersions,
  tryParseVersion,
} from "./version.js";

describe("parseVersion", () => {
  it.each([
    ["2.4.1", "2.4.1", "stable"],
    ["2.4.1-stable", "2.4.1", "stable"],
    ["0.0.0", "0.0.0", "stable"],
    ["10.20.30", "10.20.30", "stable"],
    ["2.5.0-beta.3", "2.5.0-beta.3", "beta"],
    ["2.5.0-beta.0", "2.5.0-beta.0", "beta"],
    ["2.5.0-rc.1", "2.5.0-rc.1", "rc"],
    ["2.5.0-nightly.20240315", "2.5.0-nightly.20240315", "nightly"],
    ["2.5.0-nightly.20240229", "2.5.0-nightly.20240229", "nightly"],
  ])("accepts %s as %s on the %s channel", (text, canonical, channel) => {
    const parsed = parseVersion(text);
    expect(parsed.raw).toBe(text);
    expect(parsed.canonical).toBe(canonical);
    expect(parsed.channel).toBe(channel);
    expect(parsed.semver.version).toBe(canonical);
  });

  it.each([
    ["v2.4.1", /drop the "v" prefix \("2\.4\.1"\)/],
    ["V2.4.1", /drop the "v" prefix/],
    ["2.4", /MAJOR\.MINOR\.PATCH/],
    ["2.4.1.0", /MAJOR\.MINOR\.PATCH/],
    ["", /empty/],
    [" 2.4.1", /whitespace/],
    ["02.4.1", /"02" has a leading zero/],
    ["2.04.1", /"04" has a leading zero/],
    ["2.4.01", /"01" has a leading zero/],
    ["2.4.1+build.5", /build metadata \("\+build\.5"\) is not allowed/],
    ["2.5.0-alpha.1", /"-alpha\.1" is not a channel suffix/],
    ["2.5.0-beta", /a beta suffix needs a number: "-beta\.N"/],
    ["2.5.0-rc", /a rc suffix needs a number/],
    ["2.5.0-beta.01", /N must be a whole number without leading zeros/],
    ["2.5.0-beta.x", /N must be a whole number/],
    ["2.5.0-Beta.1", /not a channel suffix/],
    ["2.5.0-stable.1", /not a channel suffix/],
    ["2.5.0-", /"-" is not a channel suffix/],
    ["2.5.0-nightly.20240230", /nightly date "20240230" is not a calendar date/],
    ["2.5.0-nightly.20231301", /not a calendar date/],
    ["2.5.0-nightly.20230229", /not a calendar date/],
    ["2.5.0-nightly.2024031", /"-nightly\.YYYYMMDD" \(8 digits\)/],
    ["2.5.0-nightly", /"-nightly\.YYYYMMDD"/],
    ["99999999999999999999.0.0", /too large/],
  ])("refuses %j and says why", (text, reason) => {
    expect(() => parseVersion(text)).toThrow(InvalidValueError);
    expect(() => parseVersion(text)).toThrow(reason);
  });

  it("lists the accepted forms in every refusal", () => {
    expect(() => parseVersion("2.5.0-alpha.1")).toThrow(
      'accepted forms: "X.Y.Z", "X.Y.Z-stable", "X.Y.Z-beta.N", "X.Y.Z-rc.N", "X.Y.Z-nightly.YYYYMMDD"',
    );
  });

  it("refuses a number that YAML read from an unquoted version", () => {
    expect(() => parseVersion(2.1 as unknown as string)).toThrow(/versions are quoted strings/);
  });
});

describe("tryParseVersion", () => {
  it("returns the parsed version when it is valid", () => {
    expect(tryParseVersion("2.4.1-stable")?.canonical).toBe("2.4.1");
  });

  it("returns undefined instead of throwing when it is not", () => {
    expect(tryParseVersion("v2.4.1")).toBeUndefined();
  });
});

describe("compareVersions", () => {
  it.each([
    ["2.4.0", "2.4.1", -1],
    ["2.4.1", "2.4.0", 1],
    ["2.4.1", "2.4.1", 0],
    ["2.4.1-stable", "2.4.1", 0],
    ["2.10.0", "2.9.0", 1],
    ["2.5.0-rc.1", "2.5.0", -1],
    ["2.5.0-beta.3", "2.5.0-nightly.20240315", -1],
    ["2.5.0-nightly.20240315", "2.5.0-rc.1", -1],
    ["2.5.0-beta.10", "2.5.0-beta.9", 1],
    ["2.5.0-nightly.20240316", "2.5.0-nightly.20240315", 1],
    ["2.4.9", "2.5.0-beta.1", -1],
  ] as const)("orders %s against %s as %d", (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it("refuses to compare an invalid version", () => {
    expect(() => compareVersions("2.4.1", "latest")).toThrow(InvalidValueError);
  });
});

describe("sortVersions", () => {
  it("sorts ascending in semver order, keeping each spelling", () => {
    expect(
      sortVersions([
        "2.5.0",
        "2.10.0",
        "2.5.0-rc.1",
        "2.4.1-stable",
        "2.5.0-beta.3",
        "2.5.0-nightly.20240315",
        "2.5.0-beta.10",
      ]),
    ).toEqual([
      "2.4.1-stable",
      "2.5.0-beta.3",
      "2.5.0-beta.10",
      "2.5.0-nightly.20240315",
      "2.5.0-rc.1",
      "2.5.0",
      "2.10.0",
    ]);
  });

  it("does not change the list it was given", () => {
    const list = ["2.5.0", "2.4.1"];
    sortVersions(list);
    expect(list).toEqual(["2.5.0", "2.4.1"]);
  });
});

describe("parseVersionRange", () => {
  it.each([
    ["2.4.2", "2.4.2"],
    ["2.4.2-stable", "2.4.2"],
    [">=2.6.0 <2.6.3", ">=2.6.0 <2.6.3"],
    [">=2.6.0-stable <2.6.3", ">=2.6.0 <2.6.3"],
    ["2.5.x", ">=2.5.0-0 <2.6.0-0"],
    ["^2.4.0", ">=2.4.0 <3.0.0-0"],
    ["~2.4.0", ">=2.4.0 <2.5.0-0"],
    ["2.4.2 || 2.4.5", "2.4.2||2.4.5"],
  ])("normalises %j to %j", (text, expected) => {
    expect(parseVersionRange(text)).toBe(expected);
  });

  it.each(["garbage", "", "   ", ">=banana"])("refuses %j, naming it", (text) => {
    expect(() => parseVersionRange(text)).toThrow(InvalidValueError);
    expect(() => parseVersionRange(text)).toThrow(`${JSON.stringify(text)} is not a version range`);
  });
});

describe("isVersionInRange", () => {
  it.each([
    ["2.4.2", "2.4.2", true],
    ["2.4.2-stable", "2.4.2", true],
    ["2.4.2", "2.4.2-stable", true],
    ["2.4.3", "2.4.2", false],
    ["2.6.0", ">=2.6.0 <2.6.3", true],
    ["2.6.2", ">=2.6.0 <2.6.3", true],
    ["2.6.3", ">=2.6.0 <2.6.3", false],
    ["2.6.1-rc.1", ">=2.6.0 <2.6.3", true],
    ["2.5.0-beta.3", "2.5.x", true],
    ["2.5.7", "2.5.x", true],
    ["2.6.0", "2.5.x", false],
    ["2.9.0-nightly.20240315", "^2.4.0", true],
    ["3.0.0-beta.1", "^2.4.0", false],
    ["2.5.0-rc.1", "2.5.0-rc.1", true],
    ["2.5.0", "2.5.0-rc.1", false],
  ] as const)("%s in %j is %s", (version, range, expected) => {
    expect(isVersionInRange(version, range)).toBe(expected);
  });

  it("refuses an invalid version rather than answering no", () => {
    expect(() => isVersionInRange("v2.4.2", "2.4.2")).toThrow(/drop the "v" prefix/);
  });
});
