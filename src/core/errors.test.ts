import { describe, expect, it } from "vitest";
import {
  exitCodeOf,
  formatLocation,
  InvalidValueError,
  PinlineError,
  RefusedError,
  UsageError,
} from "./errors.js";

describe("pinline's errors", () => {
  it("print where, what and what to do", () => {
    const error = new InvalidValueError('"2.10" is not a version', {
      where: { file: "releases/2.10/release.yaml", line: 4, column: 10 },
      hint: 'write "2.10.0"',
    });
    expect(error.describe()).toBe(
      'releases/2.10/release.yaml:4:10: "2.10" is not a version (write "2.10.0")',
    );
  });

  it("name a file without a position when there is none", () => {
    expect(formatLocation({ file: "policies/rollout.yaml" })).toBe("policies/rollout.yaml");
    expect(formatLocation({ file: "a.yaml", line: 3 })).toBe("a.yaml:3:1");
    expect(new RefusedError("no path").describe()).toBe("no path");
  });

  it.each([
    [new UsageError("unknown option"), 2],
    [new InvalidValueError("bad value"), 1],
    [new RefusedError("refused"), 1],
    [new PinlineError("failed"), 1],
    [new Error("a bug"), 1],
    ["a string", 1],
  ])("map %s to exit code %i", (error, code) => {
    expect(exitCodeOf(error)).toBe(code);
  });

  it("keep the cause", () => {
    const cause = new Error("ENOENT");
    expect(new PinlineError("cannot read", { cause }).cause).toBe(cause);
  });
});
