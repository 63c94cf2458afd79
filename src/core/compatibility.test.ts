import { describe, expect, it } from "vitest";
import {
  type CompatibilityRange,
  checkCompatibility,
  parseCompatibilityRange,
} from "./compatibility.js";
import { InvalidValueError } from "./errors.js";

/** The ranges of releases/2.4.1/release.yaml. */
const CONTENT_MANAGER = ["9.4+", "10.x", "23.x", "24.x", "25.x"];
const DATABASE = ["PostgreSQL 14+", "15", "16"];
const KUBERNETES = ["1.26+", "1.27", "1.28", "1.29"];

/** A range as read, without the text it was read from. */
type ReadRange = CompatibilityRange extends infer R
  ? R extends unknown
    ? Omit<R, "text">
    : never
  : never;

describe("parseCompatibilityRange", () => {
  it.each<[string, ReadRange]>([
    ["9.4+", { kind: "atLeast", from: [9, 4] }],
    ["1.26+", { kind: "atLeast", from: [1, 26] }],
    ["14+", { kind: "atLeast", from: [14] }],
    ["10.x", { kind: "line", line: [10] }],
    ["1.28.x", { kind: "line", line: [1, 28] }],
    ["1.28.X", { kind: "line", line: [1, 28] }],
    ["15", { kind: "line", line: [15] }],
    ["1.28", { kind: "line", line: [1, 28] }],
    ["1.28.3", { kind: "line", line: [1, 28, 3] }],
    ["1.26 - 1.29", { kind: "between", from: [1, 26], through: [1, 29] }],
    ["1.26-1.29", { kind: "between", from: [1, 26], through: [1, 29] }],
    ["1.28 - 1.28", { kind: "between", from: [1, 28], through: [1, 28] }],
    ["PostgreSQL 14+", { kind: "atLeast", product: "PostgreSQL", from: [14] }],
    ["PostgreSQL 14 - 16", { kind: "between", product: "PostgreSQL", from: [14], through: [16] }],
    ["Content Manager 24.x", { kind: "line", product: "Content Manager", line: [24] }],
    [" 1.28 ", { kind: "line", line: [1, 28] }],
  ])("reads %j", (text, expected) => {
    const range = parseCompatibilityRange(text);
    expect(range).toMatchObject({ ...expected, text });
    if (!("product" in expected)) expect(range.product).toBeUndefined();
  });

  it.each([
    ["", /it is empty/],
    ["   ", /it is empty/],
    [">=1.26", /comparison operators are not read here \(write "1\.26\+" for >=1\.26\)/],
    ["^1.26", /comparison operators/],
    ["v1.28", /drop the "v" \("1\.28"\)/],
    ["1.x.3", /a wildcard may only end the range/],
    ["1.*", /write the wildcard as "x" \("10\.x"\)/],
    ["1.29 - 1.26", /its lower bound 1\.29 is above its upper bound 1\.26/],
    ["latest", /it is not a version, a line or a span of versions/],
    ["PostgreSQL", /it is not a version/],
    ["14+ PostgreSQL", /it is not a version/],
    ["1.28+x", /it is not a version/],
    ["1..28", /it is not a version/],
    ["1.26 to 1.29", /it is not a version/],
  ])("refuses %j and says why", (text, problem) => {
    expect(() => parseCompatibilityRange(text)).toThrow(InvalidValueError);
    expect(() => parseCompatibilityRange(text)).toThrow(problem);
    expect(() => parseCompatibilityRange(text)).toThrow(
      `${JSON.stringify(text)} is not a compatibility range`,
    );
  });

  it("lists the accepted forms and gives a hint when it refuses", () => {
    let caught: unknown;
    try {
      parseCompatibilityRange("~1.28");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidValueError);
    expect((caught as InvalidValueError).message).toContain(
      'accepted forms: "X+" or "X.Y+" (at least), "X.x" or "X.Y.x" (that line), "X" or "X.Y" (that line), "X - Y" (inclusive)',
    );
    expect((caught as InvalidValueError).hint).toContain('"1.26+"');
  });
});

describe("checkCompatibility", () => {
  it.each<[string, string, readonly string[], boolean, string]>([
    // at least
    ["contentManager", "9.3", ["9.4+"], false, "contentManager 9.3 is outside 9.4+"],
    ["contentManager", "9.4", ["9.4+"], true, "contentManager 9.4 is within 9.4+"],
    ["contentManager", "11.2", CONTENT_MANAGER, true, "contentManager 11.2 is within 9.4+"],
    ["contentManager", "23.1", CONTENT_MANAGER, true, "contentManager 23.1 is within 9.4+"],
    ["kubernetes", "1.30", KUBERNETES, true, "kubernetes 1.30 is within 1.26+"],
    ["kubernetes", "1.100", ["1.26+"], true, "kubernetes 1.100 is within 1.26+"],
    ["kubernetes", "1.9", ["1.26+"], false, "kubernetes 1.9 is outside 1.26+"],
    ["kubernetes", "2", ["1.26+"], true, "kubernetes 2 is within 1.26+"],
    ["kubernetes", "1.25", KUBERNETES, false, "kubernetes 1.25 is outside 1.26+, 1.27, 1.28, 1.29"],
    [
      "kubernetes",
      "1.25.16",
      KUBERNETES,
      false,
      "kubernetes 1.25.16 is outside 1.26+, 1.27, 1.28, 1.29",
    ],
    // lines
    ["contentManager", "10.2", ["10.x"], true, "contentManager 10.2 is within 10.x"],
    [
      "contentManager",
      "11.2",
      ["10.x", "23.x"],
      false,
      "contentManager 11.2 is outside 10.x, 23.x",
    ],
    ["contentManager", "24", ["24.x"], true, "contentManager 24 is within 24.x"],
    ["contentManager", "24.1", ["23.x", "24.x"], true, "contentManager 24.1 is within 24.x"],
    ["kubernetes", "1.28.3", ["1.28"], true, "kubernetes 1.28.3 is within 1.28"],
    ["kubernetes", "1.28", ["1.28.x"], true, "kubernetes 1.28 is within 1.28.x"],
    ["kubernetes", "1.29", ["1.28"], false, "kubernetes 1.29 is outside 1.28"],
    ["kubernetes", "1.2", ["1.28"], false, "kubernetes 1.2 is outside 1.28"],
    ["kubernetes", "1.28", ["1.28.3"], false, "kubernetes 1.28 is outside 1.28.3"],
    ["database", "15.4", ["15"], true, "database 15.4 is within 15"],
    ["database", "150", ["15"], false, "database 150 is outside 15"],
    // spans
    ["kubernetes", "1.26", ["1.26 - 1.29"], true, "kubernetes 1.26 is within 1.26 - 1.29"],
    ["kubernetes", "1.29.7", ["1.26 - 1.29"], true, "kubernetes 1.29.7 is within 1.26 - 1.29"],
    ["kubernetes", "1.30", ["1.26 - 1.29"], false, "kubernetes 1.30 is outside 1.26 - 1.29"],
    ["kubernetes", "1.25.9", ["1.26 - 1.29"], false, "kubernetes 1.25.9 is outside 1.26 - 1.29"],
    ["kubernetes", "1.27", ["1.27.1 - 1.29"], false, "kubernetes 1.27 is outside 1.27.1 - 1.29"],
    // product names
    [
      "database",
      "PostgreSQL 15.4",
      DATABASE,
      true,
      "database PostgreSQL 15.4 is within PostgreSQL 14+",
    ],
    [
      "database",
      "postgresql 16",
      DATABASE,
      true,
      "database postgresql 16 is within PostgreSQL 14+",
    ],
    [
      "database",
      "PostgreSQL 13",
      DATABASE,
      false,
      "database PostgreSQL 13 is outside PostgreSQL 14+, 15, 16",
    ],
    [
      "database",
      "MySQL 8",
      DATABASE,
      false,
      "database MySQL 8 is not PostgreSQL: the release runs on PostgreSQL 14+, 15, 16",
    ],
    [
      "database",
      "MySQL 15",
      DATABASE,
      false,
      "database MySQL 15 is not PostgreSQL: the release runs on PostgreSQL 14+, 15, 16",
    ],
    ["database", "15.4", DATABASE, true, "database 15.4 is within PostgreSQL 14+"],
    ["database", "PostgreSQL 15", ["15", "16"], true, "database PostgreSQL 15 is within 15"],
    [
      "database",
      "MySQL 8.0",
      ["8.0", "PostgreSQL 14+"],
      false,
      "database MySQL 8.0 is not PostgreSQL: the release runs on 8.0, PostgreSQL 14+",
    ],
    [
      "database",
      "MySQL 8.0",
      ["PostgreSQL 14+", "MySQL 8.0+"],
      true,
      "database MySQL 8.0 is within MySQL 8.0+",
    ],
    [
      "contentManager",
      "Content  Manager 24.1",
      ["Content Manager 24.x"],
      true,
      "contentManager Content  Manager 24.1 is within Content Manager 24.x",
    ],
  ])("%s %j against %j: compatible %s", (platform, declared, ranges, compatible, reason) => {
    expect(checkCompatibility({ [platform]: declared }, { [platform]: ranges })).toEqual([
      { platform, declared, ranges, compatible, reason },
    ]);
  });

  it.each([
    ["latest", /^kubernetes "latest" is not a version: write the version as numbers separated/],
    ["v1.28.3", /^kubernetes "v1\.28\.3" is not a version: drop the "v" \("1\.28\.3"\)/],
    ["1.28.x", /is not a version: it is a range, but a platform declares the one version/],
    ["1.26+", /is not a version: it is a range/],
    ["", /^kubernetes "" is not a version: it is empty/],
    ["1.28.3-eks-5", /is not a version: write the version as numbers separated by dots/],
    ["Kubernetes", /such as "1\.28\.3" or "PostgreSQL 15\.4"$/],
  ])("judges the declared %j incompatible: it is not a version", (declared, reason) => {
    const [result] = checkCompatibility({ kubernetes: declared }, { kubernetes: KUBERNETES });
    expect(result?.compatible).toBe(false);
    expect(result?.reason).toMatch(reason);
  });

  it.each([
    ["the release writes no range for the platform", { contentManager: CONTENT_MANAGER }],
    ["the release has no compatibility", undefined],
  ])("accepts a platform when %s", (_case, compatibility) => {
    expect(checkCompatibility({ kubernetes: "1.10" }, compatibility)).toEqual([
      {
        platform: "kubernetes",
        declared: "1.10",
        ranges: undefined,
        compatible: true,
        reason: "release declares no kubernetes range",
      },
    ]);
  });

  it("accepts a platform whose range list is empty: the release makes no claim", () => {
    expect(checkCompatibility({ kubernetes: "1.10" }, { kubernetes: [] })).toEqual([
      {
        platform: "kubernetes",
        declared: "1.10",
        ranges: [],
        compatible: true,
        reason: "release declares no kubernetes range",
      },
    ]);
  });

  it("answers one result per declared platform, in name order", () => {
    const results = checkCompatibility(
      { kubernetes: "1.28.3", database: "PostgreSQL 15.4", contentManager: "24.1", os: "12" },
      { contentManager: CONTENT_MANAGER, database: DATABASE, kubernetes: KUBERNETES },
    );
    expect(results.map((r) => [r.platform, r.compatible])).toEqual([
      ["contentManager", true],
      ["database", true],
      ["kubernetes", true],
      ["os", true],
    ]);
  });

  it("skips platforms whose declared value is absent, and declares nothing for none", () => {
    expect(checkCompatibility({ kubernetes: undefined }, { kubernetes: KUBERNETES })).toEqual([]);
    expect(checkCompatibility({}, { kubernetes: KUBERNETES })).toEqual([]);
  });

  it("judges the 2.0.0 ranges against a platform that outgrew them", () => {
    const results = checkCompatibility(
      { contentManager: "24.1", database: "PostgreSQL 16.2", kubernetes: "1.28.3" },
      {
        contentManager: ["9.4+", "10.x", "23.x"],
        database: ["PostgreSQL 13+", "14", "15"],
        kubernetes: ["1.24+", "1.25", "1.26", "1.27"],
      },
    );
    // Each list opens with "at least": later versions are inside it.
    expect(results.every((r) => r.compatible)).toBe(true);
  });

  it("throws when a range the release writes for a declared platform cannot be read", () => {
    const check = () =>
      checkCompatibility({ kubernetes: "1.28" }, { kubernetes: ["1.26+", ">=1.27"] });
    expect(check).toThrow(InvalidValueError);
    expect(check).toThrow(/^compatibility\.kubernetes: ">=1\.27" is not a compatibility range/);
    expect(check).toThrow(/accepted forms/);
  });

  it("does not read the ranges of platforms the environment does not declare", () => {
    expect(
      checkCompatibility({ kubernetes: "1.28" }, { kubernetes: KUBERNETES, database: ["any"] }),
    ).toHaveLength(1);
  });
});
