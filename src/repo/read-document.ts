import { posix } from "node:path";
import { checkSchema, type DocumentKind, schemaFileOf } from "./check-schema.js";
import { type Finding, warning } from "./findings.js";
import type { Loaded } from "./load-tree.js";
import { parseYaml, YamlFile } from "./parse-yaml.js";
import { readYamlSource, type SourceResult } from "./read-yaml-source.js";

/**
 * One YAML document as read, parsed and schema-checked: plain data only, so that a worker
 * thread can hand it to the main thread.
 */
export interface DocumentRecord {
  file: string;
  /** The source text, when it could be read. */
  text?: string;
  /** The parsed value, when the file is one YAML mapping. */
  value?: unknown;
  /** The value satisfies the schema and the parser had nothing to say. */
  valid: boolean;
  findings: Finding[];
}

export function readDocument(root: string, kind: DocumentKind, file: string): DocumentRecord {
  return checkDocument(kind, file, readYamlSource(`${root}/${file}`, file));
}

/** Parses and schema-checks a document's source, however it was read. */
export function checkDocument(
  kind: DocumentKind,
  file: string,
  source: SourceResult,
): DocumentRecord {
  const findings: Finding[] = [];
  if (source.finding) return { file, valid: false, findings: [source.finding] };
  checkSchemaHeader(kind, file, source.text, findings);
  const parsed = parseYaml(source.text, file);
  findings.push(...parsed.findings);
  if (!parsed.yaml) return { file, text: source.text, valid: false, findings };
  // A value the parser already reported (`channel: no`) needs no second finding from the schema.
  const reported = new Set(parsed.findings.map((f) => `${f.line}:${f.column}`));
  const schemaFindings = checkSchema(kind, parsed.yaml).filter(
    (f) => !reported.has(`${f.line}:${f.column}`),
  );
  findings.push(...schemaFindings);
  const valid = schemaFindings.length === 0 && parsed.findings.length === 0;
  return { file, text: source.text, value: parsed.yaml.value, valid, findings };
}

/** The record as the checks use it: positions come back through a lazy careful parse. */
export function toLoaded<T>(record: DocumentRecord): Loaded<T> {
  if (record.text === undefined || record.value === undefined) return { file: record.file };
  const yaml = new YamlFile(record.file, record.text, record.value);
  return { file: record.file, yaml, ...(record.valid ? { data: record.value as T } : {}) };
}

const HEADER = /^# yaml-language-server: \$schema=(\S+)/;

/** The schema path a document's header should name, relative to its folder (cached per folder). */
const expectedHeaders = new Map<string, string>();
function expectedHeader(kind: DocumentKind, file: string): string {
  const depth = file.split("/").length - 1;
  const key = `${kind}:${depth}`;
  let expected = expectedHeaders.get(key);
  if (expected === undefined) {
    expected = posix.relative(posix.dirname(file), `schemas/${schemaFileOf(kind)}`);
    expectedHeaders.set(key, expected);
  }
  return expected;
}

/** Editors find the schema through the first line; a wrong path silently disables checking. */
function checkSchemaHeader(kind: DocumentKind, file: string, text: string, findings: Finding[]) {
  const expected = expectedHeader(kind, file);
  const match = HEADER.exec(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (!match) {
    findings.push(
      warning(
        "schema-header",
        { file, line: 1, column: 1 },
        "has no schema header, so editors cannot check it as you type",
        `make the first line: # yaml-language-server: $schema=${expected}`,
      ),
    );
  } else if (match[1] !== expected) {
    findings.push(
      warning(
        "schema-header",
        { file, line: 1, column: 33 },
        `the schema header names ${match[1]}, but a ${kind} document's schema is ${expected}`,
        `make the first line: # yaml-language-server: $schema=${expected}`,
      ),
    );
  }
}
