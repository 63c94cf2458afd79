import { mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  copyExample,
  edit,
  removeCopies,
  replaceOnce,
  runPinline,
} from "./harness/example-repo.js";

/**
 * Bad input gets a clear error at file:line:col, never a crash or a silent pass. Each case
 * breaks one file of a copy of the example repository and runs the CLI bundle on it.
 */
afterAll(removeCopies);

const RELEASE = "releases/2.4.1/release.yaml";
const PIN = "environments/production-canary.yaml";
const HEADER = "# yaml-language-server: $schema=../schemas/environment.schema.json";

/** Runs validate on a broken copy; the one problem must not set off others (no cascades). */
function validate(prepare: (root: string) => void) {
  const root = copyExample();
  prepare(root);
  const run = runPinline(["validate", "--root", root], { cwd: root });
  const findings = run.stdout.split("\n").filter((l) => / (error|warning): /.test(l));
  expect(findings, "only the broken file is reported").toHaveLength(1);
  return { ...run, lines: findings.filter((l) => l.includes(": error: ")) };
}

describe("pinline validate refuses bad YAML with the place and the fix", () => {
  it("says that an unquoted version 2.10 is read as the number 2.1, and suggests quotes", () => {
    const run = validate((root) =>
      edit(root, PIN, replaceOnce('version: "2.4.1"', "version: 2.10")),
    );
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${PIN}:6:10: error: \`version\` must be a string — YAML reads the unquoted 2.10 as the number 2.1 (quote it: version: "2.10")`,
    );
  });

  it("refuses a duplicate key and says where the first one is", () => {
    const run = validate((root) =>
      edit(root, PIN, replaceOnce("traffic: 5\n", "traffic: 5\ntraffic: 25\n")),
    );
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${PIN}:8:1: error: duplicate key \`traffic\` (first set at line 7) (a key may appear once in a mapping: remove or merge the duplicate)`,
    );
  });

  it("stops an alias bomb before it expands", () => {
    const bomb = [
      HEADER,
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
      "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]",
      "",
    ].join("\n");
    const run = validate((root) => writeFileSync(join(root, PIN), bomb));
    expect(run.code).toBe(1);
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatch(
      new RegExp(
        `^${PIN}:3:8: error: aliases expand too far \\(50 aliases; more than 100 expansions\\)`,
      ),
    );
  });

  it("refuses a custom tag such as !!js/function", () => {
    const run = validate((root) =>
      edit(
        root,
        PIN,
        replaceOnce("traffic: 5", 'traffic: !!js/function "function () { return 5 }"'),
      ),
    );
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${PIN}:7:10: error: the tag !!js/function is not allowed: pinline reads plain YAML only (strings, numbers, booleans, lists, mappings) (remove the tag)`,
    );
  });

  it("refuses << merge keys instead of silently keeping or dropping them", () => {
    const run = validate((root) =>
      edit(
        root,
        PIN,
        replaceOnce("update:\n  channel: stable\n", "update:\n  <<: { channel: stable }\n"),
      ),
    );
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${PIN}:10:3: error: merge keys (<<) are not supported: YAML 1.2 reads \`<<\` as an ordinary key (write the fields out in full)`,
    );
  });

  it("flags channel: no, which YAML 1.1 tools read as false", () => {
    const run = validate((root) =>
      edit(root, RELEASE, replaceOnce("channel: stable", "channel: no")),
    );
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${RELEASE}:5:10: error: the unquoted no is read as the boolean false by YAML 1.1 tools (and as a string by YAML 1.2) (quote it: "no", or write true/false)`,
    );
  });

  it("refuses an empty file", () => {
    const run = validate((root) => writeFileSync(join(root, PIN), ""));
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${PIN}:1:1: error: is empty (a YAML document with its fields must be here)`,
    );
  });

  it("refuses a file with only comments", () => {
    const run = validate((root) =>
      writeFileSync(join(root, PIN), `${HEADER}\n# nothing here yet\n`),
    );
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${PIN}:1:1: error: has no content (only comments) (add the document's fields)`,
    );
  });

  it("refuses a directory where a file should be", () => {
    const run = validate((root) => {
      rmSync(join(root, RELEASE));
      mkdirSync(join(root, RELEASE));
    });
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${RELEASE}:1:1: error: is a directory, but a YAML file must be here (move its contents elsewhere or rename it)`,
    );
  });

  it("names the first byte that is not UTF-8, with its line and column", () => {
    const run = validate((root) => {
      const latin1 = Buffer.from(`${HEADER}\nname: caf\xe9\n`, "latin1");
      writeFileSync(join(root, PIN), latin1);
    });
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${PIN}:2:10: error: is not valid UTF-8: byte 0xe9 at offset 76 (save the file as UTF-8)`,
    );
  });

  it("refuses a 50 MB file without reading it", () => {
    const run = validate((root) => truncateSync(join(root, RELEASE), 50 * 1024 * 1024));
    expect(run.code).toBe(1);
    expect(run.lines).toContain(
      `${RELEASE}:1:1: error: is 50.0 MiB; YAML files here are limited to 1 MiB (is this the file you meant to commit?)`,
    );
  });

  it("refuses a second YAML document in one file", () => {
    const run = validate((root) => edit(root, PIN, (t) => `${t}---\nname: other\n`));
    expect(run.code).toBe(1);
    expect(
      run.lines.some((l) =>
        /^environments\/production-canary\.yaml:\d+:1: error: holds more than one YAML document/.test(
          l,
        ),
      ),
    ).toBe(true);
  });

  it("reports a syntax error at its line", () => {
    const run = validate((root) =>
      edit(root, PIN, replaceOnce('email: ["ops@company.com"]', 'email: ["ops@company.com"')),
    );
    expect(run.code).toBe(1);
    expect(
      run.lines.some((l) => l.startsWith(`${PIN}:`) && l.includes("error: YAML syntax:")),
    ).toBe(true);
  });
});
