import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InvalidValueError } from "../core/errors.js";
import { setPinVersion } from "./set-pin-version.js";

const CANARY = "environments/production-canary.yaml";
const EXAMPLE = fileURLToPath(new URL(`../../${CANARY}`, import.meta.url));

function refusal(run: () => unknown): InvalidValueError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidValueError) return error;
    throw error;
  }
  throw new Error("expected an InvalidValueError");
}

describe("setPinVersion", () => {
  it("changes only the version line of environments/production-canary.yaml", () => {
    const before = readFileSync(EXAMPLE, "utf8");
    const after = setPinVersion(before, "2.5.0", CANARY);

    const beforeLines = before.split("\n");
    const afterLines = after.split("\n");
    expect(afterLines).toHaveLength(beforeLines.length);
    const changed = afterLines.flatMap((line, i) => (line === beforeLines[i] ? [] : [i]));
    const versionLine = beforeLines.indexOf('version: "2.4.1"');
    expect(versionLine).toBeGreaterThan(0);
    expect(changed).toEqual([versionLine]);
    expect(afterLines[versionLine]).toBe('version: "2.5.0"');
  });

  it("returns the text unchanged when the version is already the one written", () => {
    const before = readFileSync(EXAMPLE, "utf8");
    expect(setPinVersion(before, "2.4.1", CANARY)).toBe(before);
  });

  it.each([
    [
      "double-quoted",
      'name: dev\nversion: "2.4.0"\ntraffic: 5\n',
      'name: dev\nversion: "2.5.0"\ntraffic: 5\n',
    ],
    [
      "single-quoted",
      "name: dev\nversion: '2.4.0'\ntraffic: 5\n",
      'name: dev\nversion: "2.5.0"\ntraffic: 5\n',
    ],
    [
      "unquoted",
      "name: dev\nversion: 2.4.0\ntraffic: 5\n",
      'name: dev\nversion: "2.5.0"\ntraffic: 5\n',
    ],
    [
      "followed by a comment on the same line",
      'version: "2.4.0"  # current\nname: dev\n',
      'version: "2.5.0"  # current\nname: dev\n',
    ],
    [
      "unquoted and followed by a comment",
      "version: 2.4.0 # current\n",
      'version: "2.5.0" # current\n',
    ],
    [
      "in a flow mapping",
      '{name: dev, stage: dev, version: "2.4.0", traffic: 5}\n',
      '{name: dev, stage: dev, version: "2.5.0", traffic: 5}\n',
    ],
    [
      "unquoted at the end of a flow mapping",
      "{name: dev, version: 2.4.0}\n",
      '{name: dev, version: "2.5.0"}\n',
    ],
    [
      "in a file with CRLF line endings",
      'name: dev\r\nversion: "2.4.0"\r\n\r\n# notes\r\ntraffic: 5\r\n',
      'name: dev\r\nversion: "2.5.0"\r\n\r\n# notes\r\ntraffic: 5\r\n',
    ],
    [
      "on the last line, without a final newline",
      "name: dev\nversion: '2.4.0'",
      'name: dev\nversion: "2.5.0"',
    ],
    [
      "beside nested version keys, which stay",
      'update:\n  version: "1.0.0"\nversion: "2.4.0"\ncomponents: { backend: { version: "2.4.0" } }\n',
      'update:\n  version: "1.0.0"\nversion: "2.5.0"\ncomponents: { backend: { version: "2.4.0" } }\n',
    ],
    ["under a quoted key", "\"version\": '2.4.0'\n", '"version": "2.5.0"\n'],
    ["after a document marker", '---\nversion: "2.4.0"\n', '---\nversion: "2.5.0"\n'],
    ["after a byte order mark", '\ufeffversion: "2.4.0"\n', '\ufeffversion: "2.5.0"\n'],
    ["with an anchor", 'version: &v "2.4.0"\n', 'version: &v "2.5.0"\n'],
    ["with a !!str tag", "version: !!str 2.4.0\n", 'version: !!str "2.5.0"\n'],
    ["written as a number", "version: 2.4\n", 'version: "2.5.0"\n'],
    ["written as null", "version: ~\nname: dev\n", 'version: "2.5.0"\nname: dev\n'],
    ["left empty", "version:\nname: dev\n", 'version: "2.5.0"\nname: dev\n'],
    ["left empty before a comment", "version:   # todo\n", 'version:   "2.5.0" # todo\n'],
    ["spread over two lines", 'version: "2.4\n  .0"\nname: dev\n', 'version: "2.5.0"\nname: dev\n'],
  ])("sets a version %s", (_case, before, after) => {
    expect(setPinVersion(before, "2.5.0")).toBe(after);
  });

  it.each([["2.4.1-stable"], ["2.5.0-beta.3"], ["2.5.0-nightly.20240315"]])(
    "writes %s as given, double-quoted",
    (version) => {
      expect(setPinVersion("version: 2.4.0\n", version)).toBe(`version: "${version}"\n`);
    },
  );

  it.each([["v2.5.0"], ["2.5"], ["latest"], [""]])(
    "refuses to write %j, which is not a version",
    (version) => {
      expect(() => setPinVersion('version: "2.4.0"\n', version)).toThrow(InvalidValueError);
      expect(() => setPinVersion('version: "2.4.0"\n', version)).toThrow(/is not a version/);
    },
  );

  it.each([
    ["no version key", "name: dev\nstage: dev\n", /^the pin has no top-level `version` key$/, 1, 1],
    [
      "no version key after comments",
      "# dev\n\nname: dev\n",
      /^the pin has no top-level `version` key$/,
      3,
      1,
    ],
    [
      "a version key only in a nested mapping",
      'name: dev\nupdate:\n  version: "2.4.0"\n',
      /^the pin has no top-level `version` key$/,
      1,
      1,
    ],
    [
      "no content",
      "# nothing here\n",
      /no top-level `version` key: the document is not a mapping/,
      1,
      1,
    ],
    [
      "a list for a document",
      '- version: "2.4.0"\n',
      /no top-level `version` key: the document is not a mapping/,
      1,
      1,
    ],
    [
      "a mapping for a version",
      "name: dev\nversion:\n  major: 2\n",
      /^`version` must be a single value, but it is a mapping, a list or an alias$/,
      2,
      1,
    ],
    ["a list for a version", "version: [2, 4, 0]\n", /must be a single value/, 1, 1],
    ["an alias for a version", 'v: &v "2.4.0"\nversion: *v\n', /must be a single value/, 2, 1],
    [
      "a block scalar for a version",
      "name: dev\nversion: |-\n  2.4.0\n",
      /^`version` is a block scalar/,
      2,
      10,
    ],
    [
      "a tag other than !!str on the version",
      "version: !!int 2\n",
      /^`version` has the tag !!int, but a version is a string$/,
      1,
      16,
    ],
    ["a local tag on the version", "version: !semver 2.4.0\n", /has the tag !semver/, 1, 18],
    // The parser notices the missing quote where the text ends.
    [
      "an unclosed quote",
      'name: dev\nversion: "2.4.0\n',
      /^the pin cannot be read as YAML: /,
      3,
      1,
    ],
    [
      "two version keys",
      'version: "2.4.0"\nversion: "2.4.1"\n',
      /^the pin cannot be read as YAML: Map keys must be unique/,
      2,
      1,
    ],
  ])("refuses a pin with %s, at file:line:col", (_case, text, message, line, column) => {
    const error = refusal(() => setPinVersion(text, "2.5.0", "environments/dev.yaml"));
    expect(error.message).toMatch(message);
    expect(error.where).toEqual({ file: "environments/dev.yaml", line, column });
    expect(error.hint).toBeTruthy();
  });

  it("names the place in an unnamed text (pin)", () => {
    const error = refusal(() => setPinVersion("name: dev\n", "2.5.0"));
    expect(error.describe()).toBe(
      '(pin):1:1: the pin has no top-level `version` key (write it at the top level of the pin as version: "X.Y.Z")',
    );
  });
});
