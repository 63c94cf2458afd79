import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/harness/example-repo.js";
import { parseStrict, parseYaml } from "./parse-yaml.js";

/** Every YAML file of the example repository. */
function exampleFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".yaml")) out.push(path);
    }
  };
  for (const dir of ["releases", "policies", "environments"]) walk(join(repoRoot, dir));
  return out;
}

/**
 * Variants that probe where js-yaml and the `yaml` package could read one text differently.
 * Whatever the fast path accepts must be exactly what the careful parse makes of it.
 */
const variants: Record<string, string> = {
  "plain block mapping": 'version: "2.4.1"\nchannel: stable\nsize: 131072000\n',
  "numbers of every core form":
    "a: 0o17\nb: 0x1F\nc: -12\nd: 1.5e3\ne: .inf\nf: -.Inf\ng: .NaN\nh: 2.10\ni: 012\n",
  "YAML 1.1-only numbers stay strings in 1.2": "a: 1_000\nb: 0b101\nc: +12\n",
  "nulls and booleans": "a: ~\nb: null\nc:\nd: true\ne: False\nf: TRUE\n",
  "YAML 1.1 booleans": "a: yes\nb: off\n",
  "sexagesimal and timestamps": "a: 12:30\nb: 2024-03-15\nc: 2001-12-14t21:59:43.10-05:00\n",
  "quoted look-alikes": "a: \"no\"\nb: '12:30'\nc: \"2.10\"\nd: '2024-03-15'\n",
  "block scalars": "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n",
  "flow collections": 'a: [1, "two", { three: 3 }]\nb: {x: [], y: {}}\n',
  "multi-line plain scalar": "a: this is\n  one long\n  plain scalar\n",
  "comments everywhere": "# head\na: 1 # trailing\n# between\nb: [1, # inside\n  2]\n",
  "escapes in double quotes": "a: \"tab\\tnewline\\nunicode\\u00e9\"\nb: 'it''s'\n",
  "anchors and aliases": "a: &x [1, 2]\nb: *x\n",
  "explicit standard tag": 'a: !!str 2.10\nb: !!int "7"\n',
  "unknown tag": "a: !custom value\n",
  "merge key": "a: &x {k: 1}\nb:\n  <<: *x\n",
  "duplicate key": "a: 1\na: 2\n",
  tabs: "a:\t1\n",
  "document markers": "---\na: 1\n...\n",
  "two documents": "a: 1\n---\nb: 2\n",
  "explicit key": "? a\n: 1\n",
  "proto key": "__proto__: { polluted: true }\na: 1\n",
  "list root": "- a\n- b\n",
  "scalar root": "just text\n",
  "url with query string":
    'url: "https://x.example.com/a?b=1&c=2"\nplain: https://x.example.com/?q=1&r=*\n',
  "promql with stars": "q: 'histogram_quantile(0.95, x) * 1000'\n",
  "keys that look like numbers": "1.0: a\n2: b\n",
  "empty flow values": "a: []\nb: {}\nc: ''\n",
  "big integer": "a: 99999999999999999999\n",
  unicode: "name: café ☕\n",
  "CRLF line endings": "a: 1\r\nb: two\r\n",
  "byte-order mark": "\uFEFFa: 1\n",
};

describe("the fast path and the careful parse agree", () => {
  const texts: [string, string][] = [
    ...exampleFiles().map((f): [string, string] => [
      relative(repoRoot, f),
      readFileSync(f, "utf8"),
    ]),
    ...Object.entries(variants),
  ];

  it.each(texts)("%s", (name, text) => {
    const careful = parseStrict(text, name);
    const fast = parseYaml(text, name);
    expect(fast.findings).toEqual(careful.findings);
    expect(fast.yaml?.value).toEqual(careful.yaml?.value);
  });

  it("takes the fast path for every example file", () => {
    // The careful parse is the one that reports; the fast path is what keeps big trees quick.
    // The example files are ordinary documents, so none of them should need the slow path.
    for (const file of exampleFiles()) {
      const text = readFileSync(file, "utf8");
      const fast = parseYaml(text, file);
      expect(fast.yaml, file).toBeDefined();
      expect(Reflect.get(fast.yaml as object, "careful"), file).toBeUndefined();
    }
  });
});

describe("parseYaml reports what YAML 1.1 tools would read differently", () => {
  it.each([
    ["a: yes\n", "the unquoted yes is read as the boolean true by YAML 1.1 tools"],
    ["a: No\n", "the unquoted No is read as the boolean false by YAML 1.1 tools"],
    ["a: 12:30\n", "the unquoted 12:30 is read as a base-60 number by YAML 1.1 tools"],
    ["a: 2024-03-15\n", "the unquoted 2024-03-15 is read as a timestamp by YAML 1.1 tools"],
    ["a: 1_000\n", "the unquoted 1_000 is read as a number by YAML 1.1 tools"],
  ])("%j", (text, message) => {
    const { findings, yaml } = parseYaml(text, "f.yaml");
    expect(findings.map((f) => `${f.line}:${f.column} ${f.message}`)).toEqual([
      `1:4 ${message} (and as a string by YAML 1.2)`,
    ]);
    // The value is still usable: the finding is about other tools, not about this file's data.
    expect(yaml?.value).toBeDefined();
  });

  it("leaves quoted look-alikes alone", () => {
    expect(parseYaml('a: "yes"\nb: "12:30"\nc: "2024-03-15"\n', "f.yaml").findings).toEqual([]);
  });
});

describe("YamlFile.at locates values and keys", () => {
  const text = 'name: dev\nupdate:\n  channel: "stable"\nlist:\n  - one\n  - two\n';
  const yaml = parseYaml(text, "env.yaml").yaml;

  it.each([
    [["name"], "value", { line: 1, column: 7, found: true, source: "dev", plain: true }],
    [
      ["update", "channel"],
      "value",
      { line: 3, column: 12, found: true, source: '"stable"', plain: false },
    ],
    [["update", "channel"], "key", { line: 3, column: 3, found: true }],
    [["list", 1], "value", { line: 6, column: 5, found: true, source: "two" }],
    [["update", "missing"], "value", { line: 3, column: 3, found: false }],
  ] as const)("%j (%s)", (path, part, expected) => {
    expect(yaml?.at(path, part)).toMatchObject({ file: "env.yaml", ...expected });
  });
});
