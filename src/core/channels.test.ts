import { describe, expect, it } from "vitest";
import { parseUpdateChannel, releaseChannelsFor, updateChannelReceives } from "./channels.js";
import { InvalidValueError } from "./errors.js";
import { parseVersion } from "./version.js";

const STABLE = parseVersion("2.4.1");
const STABLE_SPELLED = parseVersion("2.4.1-stable");
const BETA = parseVersion("2.5.0-beta.3");
const RC = parseVersion("2.5.0-rc.1");
const NIGHTLY = parseVersion("2.5.0-nightly.20240315");

describe("updateChannelReceives", () => {
  it.each([
    ["stable", STABLE, true],
    ["stable", STABLE_SPELLED, true],
    ["stable", BETA, false],
    ["stable", RC, false],
    ["stable", NIGHTLY, false],
    ["beta", STABLE, true],
    ["beta", BETA, true],
    ["beta", RC, false],
    ["beta", NIGHTLY, false],
    ["early-access", STABLE, true],
    ["early-access", BETA, true],
    ["early-access", RC, true],
    ["early-access", NIGHTLY, true],
  ] as const)("an installation on %s receiving %s: %s", (channel, version, expected) => {
    expect(updateChannelReceives(channel, version)).toBe(expected);
  });

  const customChannels = {
    acme: { versions: ["2.4.1", ">=2.6.0 <2.7.0"] },
    globex: { versions: ["2.5.0-rc.1"] },
    empty: { versions: [] },
  };

  it.each([
    ["custom:acme", "2.4.1", true],
    ["custom:acme", "2.4.1-stable", true],
    ["custom:acme", "2.4.2", false],
    ["custom:acme", "2.6.4", true],
    ["custom:acme", "2.6.5-beta.1", true],
    ["custom:acme", "2.7.0", false],
    ["custom:globex", "2.5.0-rc.1", true],
    ["custom:globex", "2.5.0", false],
    ["custom:empty", "2.4.1", false],
    ["custom:unknown", "2.4.1", false],
    ["custom:constructor", "2.4.1", false],
  ])("a %s installation receives %s only if its policy lists it: %s", (channel, text, expected) => {
    expect(updateChannelReceives(channel, parseVersion(text), customChannels)).toBe(expected);
  });

  it("gives a custom channel nothing when the policy defines no custom channels", () => {
    expect(updateChannelReceives("custom:acme", STABLE)).toBe(false);
  });

  it("refuses a custom channel whose policy entry is not a version or range", () => {
    expect(() =>
      updateChannelReceives("custom:bad", STABLE, { bad: { versions: ["latest"] } }),
    ).toThrow(/"latest" is not a version range/);
  });

  it("accepts an already parsed channel", () => {
    expect(updateChannelReceives({ kind: "beta" }, BETA)).toBe(true);
  });

  it("refuses an unknown channel", () => {
    expect(() => updateChannelReceives("nightly", NIGHTLY)).toThrow(InvalidValueError);
  });
});

describe("parseUpdateChannel", () => {
  it.each([
    ["stable", { kind: "stable" }],
    ["beta", { kind: "beta" }],
    ["early-access", { kind: "early-access" }],
    ["custom:acme", { kind: "custom", name: "acme" }],
    ["custom:acme-corp.eu_1", { kind: "custom", name: "acme-corp.eu_1" }],
  ])("reads %j", (text, expected) => {
    expect(parseUpdateChannel(text)).toEqual(expected);
  });

  it.each([
    [
      "Stable",
      /"Stable" is not an update channel: use "stable", "beta", "early-access" or "custom:<name>"/,
    ],
    ["", /"" is not an update channel/],
    ["rc", /rc builds come with "early-access"/],
    ["nightly", /nightly builds come with "early-access"/],
    ["custom:", /a custom channel's name is letters/],
    ["custom:a b", /a custom channel's name is letters/],
    ["early_access", /is not an update channel/],
  ])("refuses %j", (text, reason) => {
    expect(() => parseUpdateChannel(text)).toThrow(InvalidValueError);
    expect(() => parseUpdateChannel(text)).toThrow(reason);
  });
});

describe("releaseChannelsFor", () => {
  it.each([
    ["stable", ["stable"]],
    ["beta", ["stable", "beta"]],
    ["early-access", ["stable", "beta", "rc", "nightly"]],
    ["custom:acme", ["stable", "beta", "rc", "nightly"]],
  ])("%s receives %j", (channel, expected) => {
    expect(releaseChannelsFor(channel)).toEqual(expected);
  });

  it("agrees with updateChannelReceives for every named channel", () => {
    for (const channel of ["stable", "beta", "early-access"]) {
      for (const version of [STABLE, BETA, RC, NIGHTLY]) {
        expect(releaseChannelsFor(channel).includes(version.channel)).toBe(
          updateChannelReceives(channel, version),
        );
      }
    }
  });
});
