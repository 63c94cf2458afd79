import type { ErrorObject } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import { error, type Finding } from "./findings.js";
import type { PathSegment, YamlFile } from "./parse-yaml.js";
import { environment, policy, release, rollout } from "./schema-validators.generated.js";

/** The kinds of document in a pinline repository, each with its schema in schemas/. */
export type DocumentKind = "release" | "policy" | "rollout" | "environment";

/** The schema file a document's `# yaml-language-server: $schema=` header should name. */
export const schemaFileOf = (kind: DocumentKind): string => `${kind}.schema.json`;

const validators = { release, policy, rollout, environment };

/**
 * Checks a document against its JSON Schema. Each finding names the field, points at it in
 * the file, and says what is expected; a value YAML read as a number where a string was meant
 * says so and suggests the quotes.
 */
export function checkSchema(kind: DocumentKind, yaml: YamlFile): Finding[] {
  const validate = validators[kind];
  if (validate(yaml.value)) return [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    const finding = describeSchemaError(kind, e, yaml);
    const key = `${finding.line}:${finding.column}:${finding.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(finding);
  }
  return findings;
}

function describeSchemaError(kind: DocumentKind, e: ErrorObject, yaml: YamlFile): Finding {
  const path = pointerToPath(e.instancePath);
  const field = path.length === 0 ? "the document" : `\`${formatPath(path)}\``;
  const original = (e.keyword === "errorMessage" ? (e.params.errors as ErrorObject[])[0] : e) ?? e;

  switch (original.keyword) {
    case "required": {
      const missing = String(original.params.missingProperty);
      const where = yaml.at(path, "key");
      return error(
        "schema",
        where,
        `${path.length === 0 ? "" : `${field} `}is missing the required field \`${missing}\``.trim(),
        `add \`${missing}:\`; see schemas/${schemaFileOf(kind)}`,
      );
    }
    case "additionalProperties": {
      const extra = String(original.params.additionalProperty);
      const where = yaml.at([...path, extra], "key");
      const allowed = allowedProperties(original.parentSchema);
      const suggestion = allowed.length > 0 ? closest(extra, allowed) : undefined;
      return error(
        "schema",
        where,
        `unknown field \`${formatPath([...path, extra])}\``,
        suggestion && similar(extra, suggestion)
          ? `did you mean \`${suggestion}\`?`
          : allowed.length > 0
            ? `allowed here: ${allowed.join(", ")}`
            : undefined,
      );
    }
  }

  const where = yaml.at(path);
  const typeMismatch = original.keyword === "type" || wantsStringFromPlainScalar(original);
  if (typeMismatch && where.plain && where.source !== undefined) {
    const value = valueAt(yaml.value, path);
    if (typeof value !== "string" && expectsString(original)) {
      const readAs =
        typeof value === "number"
          ? `the number ${value}`
          : typeof value === "boolean"
            ? `the boolean ${value}`
            : "null (no value)";
      const dropped =
        typeof value === "number" && String(value) !== where.source
          ? ` — YAML reads the unquoted ${where.source} as ${readAs}`
          : ` — YAML reads the unquoted ${where.source || "empty value"} as ${readAs}`;
      return error(
        "schema",
        where,
        `${field} must be a string${dropped}`,
        `quote it: ${path.at(-1) ?? "value"}: "${where.source}"`,
      );
    }
  }
  const shown = showValue(valueAt(yaml.value, path));
  return error(
    "schema",
    where,
    `${field} ${e.message ?? "is invalid"}${shown ? `, found ${shown}` : ""}`,
    original.keyword === "enum" || original.keyword === "errorMessage"
      ? undefined
      : `see schemas/${schemaFileOf(kind)}`,
  );
}

function wantsStringFromPlainScalar(e: ErrorObject): boolean {
  return e.keyword === "oneOf" || e.keyword === "anyOf";
}

function expectsString(e: ErrorObject): boolean {
  return (e.parentSchema as { type?: unknown } | undefined)?.type === "string";
}

function allowedProperties(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties ? Object.keys(properties) : [];
}

function similar(a: string, b: string): boolean {
  return distance(a.toLowerCase(), b.toLowerCase()) <= Math.max(2, Math.floor(b.length / 3));
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

function valueAt(value: unknown, path: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function showValue(value: unknown): string | undefined {
  if (value === undefined || (typeof value === "object" && value !== null)) return undefined;
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
