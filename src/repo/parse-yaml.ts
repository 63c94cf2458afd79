import jsyaml from "js-yaml";
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  Scalar,
  Schema,
  visit,
} from "yaml";
import { error, type Finding } from "./findings.js";

/**
 * YAML for pinline's documents: YAML 1.2 core schema, one document, no duplicate keys, no
 * custom tags, no merge keys, aliases limited, and nothing a YAML 1.1 tool would read
 * differently (`no`, `on`, `12:30`, `2024-03-15` unquoted). Positions come from the `yaml`
 * package; see `parseYaml` for the fast path that keeps 10,000 files within budget.
 */

/** Aliases are allowed but their expansion is bounded (billion-laughs documents). */
export const MAX_ALIAS_COUNT = 100;

export type PathSegment = string | number;

/** What a finding needs to know about the node at a path. */
export interface NodeInfo {
  line: number;
  column: number;
  /** The node exists (otherwise line/column are those of its nearest ancestor). */
  found: boolean;
  /** The source text of a scalar, as written. */
  source?: string;
  /** A scalar written without quotes. */
  plain?: boolean;
}

/** A parsed YAML file: its plain value and a way back to source positions. */
export class YamlFile {
  private careful: CarefulParse | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
    readonly value: unknown,
    careful?: CarefulParse,
  ) {
    this.careful = careful;
  }

  /** Where the node at `path` is; with `part: "key"`, where its key is written. */
  at(path: readonly PathSegment[], part: "key" | "value" = "value"): NodeInfo & { file: string } {
    this.careful ??= parseCarefully(this.text, this.file);
    return { file: this.file, ...locate(this.careful, path, part) };
  }

  /** The first line of the file, for findings about the file as a whole. */
  get start(): { file: string; line: number; column: number } {
    return { file: this.file, line: 1, column: 1 };
  }
}

export interface ParseResult {
  /** Absent when the file cannot be read as one YAML mapping. */
  yaml?: YamlFile;
  findings: Finding[];
}

/**
 * Parses one file. Most files in a repository are plain block mappings of quoted strings; they
 * are read by js-yaml with a schema built from the `yaml` package's own core tags, which is
 * several times faster. Anything unusual — anchors, tags, `<<`, a duplicate key, a value a
 * YAML 1.1 tool would read differently, any error — goes to the careful parse, which is the
 * one that decides and reports. Findings from later checks locate their nodes through the
 * careful parse, made on first use.
 */
export function parseYaml(text: string, file: string): ParseResult {
  const fast = parseFast(text);
  if (fast !== undefined) return { yaml: new YamlFile(file, text, fast), findings: [] };
  return parseStrict(text, file);
}

/** The careful parse alone (tests compare both paths with it). */
export function parseStrict(text: string, file: string): ParseResult {
  const careful = parseCarefully(text, file);
  const value = careful.fatal ? undefined : careful.value;
  return {
    ...(value === undefined ? {} : { yaml: new YamlFile(file, text, value, careful) }),
    findings: careful.findings,
  };
}

// ---------------------------------------------------------------------------------------------
// The careful parse

interface CarefulParse {
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  value: unknown;
  /** Errors that make the value unusable (syntax, duplicate keys, tags, alias bombs). */
  fatal: boolean;
  findings: Finding[];
}

function parseCarefully(text: string, file: string): CarefulParse {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    version: "1.2",
    schema: "core",
    merge: false,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  const where = (offset: number) => {
    const p = lines.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  const findings: Finding[] = [];
  let fatal = false;

  for (const e of [...doc.errors, ...doc.warnings]) {
    fatal = true;
    findings.push(describeYamlError(e.code, e.message, e.pos[0], text, doc, where));
  }

  let aliases = 0;
  visit(doc, {
    Alias() {
      aliases++;
    },
    Pair(_key, pair) {
      const key = pair.key;
      if (isScalar(key) && key.value === "<<" && key.type === Scalar.PLAIN) {
        fatal = true;
        findings.push(
          error(
            "yaml",
            where(key.range?.[0] ?? 0),
            "merge keys (<<) are not supported: YAML 1.2 reads `<<` as an ordinary key",
            "write the fields out in full",
          ),
        );
      }
    },
    Scalar(_key, node) {
      if (node.type !== Scalar.PLAIN || typeof node.value !== "string") return;
      const reading = yaml11Reading(node.value);
      if (reading)
        findings.push(
          error(
            "yaml",
            where(node.range?.[0] ?? 0),
            `the unquoted ${node.value} is read as ${reading} by YAML 1.1 tools (and as a string by YAML 1.2)`,
            `quote it: "${node.value}"${reading.startsWith("the boolean") ? ", or write true/false" : ""}`,
          ),
        );
    },
  });

  const root = doc.contents;
  if (!fatal && (root === null || (isScalar(root) && root.value === null))) {
    fatal = true;
    findings.push(
      error("empty", where(0), "has no content (only comments)", "add the document's fields"),
    );
  } else if (!fatal && !isMap(root)) {
    fatal = true;
    findings.push(
      error(
        "yaml",
        where(root?.range?.[0] ?? 0),
        `must be a mapping of fields (key: value), but the document is ${describeNode(root)}`,
      ),
    );
  }

  let value: unknown;
  if (!fatal) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (cause) {
      fatal = true;
      const first = firstAlias(doc);
      findings.push(
        error(
          "yaml",
          where(first?.range?.[0] ?? 0),
          `aliases expand too far (${aliases} aliases; more than ${MAX_ALIAS_COUNT} expansions): ${(cause as Error).message}`,
          "write the values out instead of using anchors and aliases",
        ),
      );
    }
  }
  return { text, doc, lines, value, fatal, findings };
}

function describeYamlError(
  code: string,
  message: string,
  offset: number,
  text: string,
  doc: Document.Parsed,
  where: (offset: number) => { file: string; line: number; column: number },
): Finding {
  const firstLine = message.split(" at line ")[0] ?? message;
  switch (code) {
    case "DUPLICATE_KEY": {
      const key = keyTextAt(text, offset);
      const first = firstOccurrenceOfKey(doc, offset);
      const before = first === undefined ? "" : ` (first set at line ${where(first).line})`;
      return error(
        "yaml",
        where(offset),
        `duplicate key ${key ? `\`${key}\`` : ""}${before}`.replace("key  (", "key ("),
        "a key may appear once in a mapping: remove or merge the duplicate",
      );
    }
    case "TAG_RESOLVE_FAILED": {
      const tag = firstLine.replace(/^Unresolved tag: /, "").replace(/^tag:yaml.org,2002:/, "!!");
      return error(
        "yaml",
        where(offset),
        `the tag ${tag} is not allowed: pinline reads plain YAML only (strings, numbers, booleans, lists, mappings)`,
        "remove the tag",
      );
    }
    case "MULTIPLE_DOCS":
      return error(
        "yaml",
        where(offset),
        "holds more than one YAML document (a second one starts here)",
        "one file holds one document: remove the `---` and what follows, or split the file",
      );
    default:
      return error("yaml", where(offset), `YAML syntax: ${lowerFirst(firstLine)}`);
  }
}

/** What a YAML 1.1 parser makes of a plain scalar that YAML 1.2 reads as a string. */
function yaml11Reading(value: string): string | undefined {
  if (/^(?:y|Y|yes|Yes|YES|on|On|ON)$/.test(value)) return "the boolean true";
  if (/^(?:n|N|no|No|NO|off|Off|OFF)$/.test(value)) return "the boolean false";
  if (/^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(value)) return "a base-60 number";
  if (/^[-+]?(?:0b[01_]+|[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?)$/.test(value)) return "a number";
  if (
    /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/.test(
      value,
    )
  )
    return "a timestamp";
  if (value === "=") return "a value key";
  return undefined;
}

function keyTextAt(text: string, offset: number): string | undefined {
  const match = /^(?:"([^"]*)"|'([^']*)'|([^:\n]+?))\s*:/.exec(text.slice(offset, offset + 200));
  return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
}

function firstOccurrenceOfKey(doc: Document.Parsed, duplicateOffset: number): number | undefined {
  let result: number | undefined;
  visit(doc, {
    Map(_key, map) {
      const dup = map.items.find((p) => isScalar(p.key) && p.key.range?.[0] === duplicateOffset);
      if (!dup || !isScalar(dup.key)) return;
      const name = dup.key.value;
      const first = map.items.find((p) => isScalar(p.key) && p.key.value === name);
      if (first && isScalar(first.key)) result = first.key.range?.[0];
      return visit.BREAK;
    },
  });
  return result;
}

function firstAlias(doc: Document.Parsed): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

function describeNode(node: unknown): string {
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return `the single value ${JSON.stringify(node.value)}`;
  if (isAlias(node)) return "an alias";
  return "not a mapping";
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

// ---------------------------------------------------------------------------------------------
// Positions

function locate(
  careful: CarefulParse,
  path: readonly PathSegment[],
  part: "key" | "value",
): NodeInfo {
  const pos = (offset: number | undefined) => {
    const p = careful.lines.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  let node: unknown = careful.doc.contents;
  let last: { node: unknown; key?: unknown } = { node };
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as PathSegment;
    let next: { node: unknown; key?: unknown } | undefined;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(segment),
      ) as Pair | undefined;
      if (pair) next = { node: pair.value, key: pair.key };
    } else if (isSeq(node)) {
      const index = typeof segment === "number" ? segment : Number(segment);
      const item = node.items[index];
      if (item !== undefined) next = { node: item };
    }
    if (!next) {
      const p = pos(rangeStart(last.node) ?? rangeStart(last.key));
      return { ...p, found: false };
    }
    last = next;
    node = next.node;
  }
  const target = part === "key" && last.key !== undefined ? last.key : (last.node ?? last.key);
  const info: NodeInfo = { ...pos(rangeStart(target) ?? rangeStart(last.key)), found: true };
  if (isScalar(target)) {
    const range = target.range;
    if (range) info.source = careful.text.slice(range[0], range[1]);
    info.plain = target.type === Scalar.PLAIN;
  }
  return info;
}

function rangeStart(node: unknown): number | undefined {
  if (isScalar(node) || isCollection(node) || isAlias(node)) return node.range?.[0];
  if (isPair(node)) return rangeStart(node.key);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The fast path

/**
 * Text the fast path leaves to the careful parse: tabs, merge keys, explicit keys, document
 * markers and directives, `__proto__`, and anything that looks like an anchor (`&name` where
 * a node starts). Tags and aliases need no scan: the fast schema has no explicit tags, and an
 * alias without an anchor makes js-yaml throw.
 */
const FAST_PATH_UNSAFE = /\t|<<|^[ ]*\?[ ]|^(?:---|\.\.\.|%)|__proto__|(?:^|[\s[{,])&[^\s,[\]{}]/m;

class NeedsCarefulParse extends Error {}

const fastSchema = buildFastSchema();

/**
 * js-yaml with exactly the `yaml` package's YAML 1.2 core resolution of plain scalars, plus a
 * tripwire for plain scalars YAML 1.1 reads differently. Returns undefined whenever the file
 * needs the careful parse.
 */
function parseFast(text: string): unknown {
  if (FAST_PATH_UNSAFE.test(text)) return undefined;
  try {
    const value = jsyaml.load(text, { schema: fastSchema, json: false });
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

/**
 * Whether a plain scalar can be anything but a string, judged by its first character: every
 * core tag (null, bool, int, float) and every YAML 1.1 reading starts with one of these. Keys
 * such as `version` or `components` are thus settled without running a regular expression.
 */
const NON_STRING_START = new Set("~nNtTfFyYoO.+-=0123456789");
function mayResolve(s: string): boolean {
  return s.length === 0 || NON_STRING_START.has(s.charAt(0));
}

function buildFastSchema(): jsyaml.Schema {
  const core = new Schema({ schema: "core" });
  const byTag = new Map<string, { test: RegExp; resolve: (s: string) => unknown }[]>();
  for (const tag of core.tags) {
    if (!("test" in tag) || !tag.test || typeof tag.resolve !== "function") continue;
    const resolve = tag.resolve as (s: string, onError: (m: string) => void, o: object) => unknown;
    const forms = byTag.get(tag.tag) ?? [];
    forms.push({
      test: tag.test,
      resolve: (s) =>
        resolve(
          s,
          (m) => {
            throw new NeedsCarefulParse(m);
          },
          { intAsBigInt: false },
        ),
    });
    byTag.set(tag.tag, forms);
  }
  const implicit = [...byTag].map(
    ([tag, forms]) =>
      new jsyaml.Type(tag, {
        kind: "scalar",
        resolve: (data: unknown) => {
          const s = String(data ?? "");
          return mayResolve(s) && forms.some((f) => f.test.test(s));
        },
        construct: (data: unknown) => {
          const s = String(data ?? "");
          const form = forms.find((f) => f.test.test(s));
          const value = form?.resolve(s);
          return value instanceof Scalar ? value.value : value;
        },
      }),
  );
  const tripwire = new jsyaml.Type("tag:pinline,2024:yaml11", {
    kind: "scalar",
    resolve: (data: unknown) =>
      typeof data === "string" && mayResolve(data) && yaml11Reading(data) !== undefined,
    construct: () => {
      throw new NeedsCarefulParse("a plain scalar YAML 1.1 reads differently");
    },
  });
  return jsyaml.FAILSAFE_SCHEMA.extend({ implicit: [...implicit, tripwire] });
}
