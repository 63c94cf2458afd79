/**
 * Promotion and revert pull requests change one line of a pin: `version`. Reviewers read the
 * diff, so the rest of the file — comments, blank lines, key order, quoting, line endings —
 * must come out byte for byte as it went in. The new value is spliced into the source at the
 * old value's place instead of re-serialising the document.
 */
import { type Document, isMap, isScalar, LineCounter, parseDocument, Scalar } from "yaml";
import { InvalidValueError, type SourceLocation } from "../core/errors.js";
import { parseVersion } from "../core/version.js";

/** The name used in error locations when the caller does not say which file the text is. */
const UNNAMED_FILE = "(pin)";

const STRING_TAG = "tag:yaml.org,2002:str";

const VERSION_HINT = 'write it at the top level of the pin as version: "X.Y.Z"';

/**
 * Returns the pin `text` with its top-level `version` set to `version`, written double-quoted
 * (versions are strings), and nothing else changed. Throws InvalidValueError when `version` is
 * not a release version, or — at `file:line:col` — when the text is not YAML or has no
 * top-level `version` written as a single value.
 */
export function setPinVersion(text: string, version: string, file?: string): string {
  parseVersion(version);
  const lines = new LineCounter();
  const where = (offset: number): SourceLocation => {
    const position = lines.linePos(offset);
    return { file: file ?? UNNAMED_FILE, line: position.line, column: position.col };
  };
  const doc = readPin(text, lines, where);
  const [start, end] = versionValueRange(doc, where);
  const updated = splice(text, start, end, JSON.stringify(version));
  confirmVersion(updated, version, where(start));
  return updated;
}

function readPin(
  text: string,
  lines: LineCounter,
  where: (offset: number) => SourceLocation,
): Document.Parsed {
  const doc = parseDocument(text, {
    lineCounter: lines,
    version: "1.2",
    schema: "core",
    merge: false,
    uniqueKeys: true,
    prettyErrors: false,
  });
  const [error] = doc.errors;
  if (error) {
    const message = error.message.split(" at line ")[0] ?? error.message;
    throw new InvalidValueError(`the pin cannot be read as YAML: ${message}`, {
      where: where(error.pos[0]),
      hint: "fix the YAML first; the version is set only in a file that parses",
    });
  }
  return doc;
}

/** Where the top-level `version` value is written: [start, end) offsets in the text. */
function versionValueRange(
  doc: Document.Parsed,
  where: (offset: number) => SourceLocation,
): [number, number] {
  const root = doc.contents;
  if (!isMap(root)) {
    throw new InvalidValueError(
      "the pin has no top-level `version` key: the document is not a mapping of fields",
      { where: where(root?.range?.[0] ?? 0), hint: VERSION_HINT },
    );
  }
  const pair = root.items.find((item) => isScalar(item.key) && item.key.value === "version");
  if (!pair) {
    throw new InvalidValueError("the pin has no top-level `version` key", {
      where: where(root.range?.[0] ?? 0),
      hint: VERSION_HINT,
    });
  }
  const value = pair.value;
  const keyStart = isScalar(pair.key) ? (pair.key.range?.[0] ?? 0) : 0;
  if (!isScalar(value) || !value.range) {
    throw new InvalidValueError(
      "`version` must be a single value, but it is a mapping, a list or an alias",
      { where: where(keyStart), hint: VERSION_HINT },
    );
  }
  if (value.type === Scalar.BLOCK_LITERAL || value.type === Scalar.BLOCK_FOLDED) {
    throw new InvalidValueError("`version` is a block scalar (| or >), which is not set in place", {
      where: where(value.range[0]),
      hint: VERSION_HINT,
    });
  }
  if (value.tag !== undefined && value.tag !== STRING_TAG) {
    const tag = value.tag.replace("tag:yaml.org,2002:", "!!");
    throw new InvalidValueError(`\`version\` has the tag ${tag}, but a version is a string`, {
      where: where(value.range[0]),
      hint: `remove the tag: ${VERSION_HINT}`,
    });
  }
  return [value.range[0], value.range[1]];
}

/**
 * Puts `value` in place of text[start, end). An empty value (`version:` with nothing after it)
 * gets the spaces it needs to stay apart from the colon and from a comment that follows.
 */
function splice(text: string, start: number, end: number, value: string): string {
  const before = start === end && !/[\s[{,]$/.test(text.slice(0, start)) ? " " : "";
  const after = start === end && text.charAt(end) === "#" ? " " : "";
  return `${text.slice(0, start)}${before}${value}${after}${text.slice(end)}`;
}

/**
 * Reads the result back: a tag in front of the value (`!!int`) could make the new text mean
 * something else, and a pin must never be written wrong.
 */
function confirmVersion(text: string, version: string, where: SourceLocation): void {
  const doc = parseDocument(text, { version: "1.2", schema: "core", merge: false });
  if (doc.errors.length === 0 && isMap(doc.contents) && doc.get("version") === version) return;
  throw new InvalidValueError("`version` cannot be set in place: the new value reads differently", {
    where,
    hint: `remove any tag from the value and write version: "${version}" by hand`,
  });
}
