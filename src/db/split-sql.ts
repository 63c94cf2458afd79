/**
 * A small SQL tokenizer: enough to split a migration into statements the way psql does and to
 * see which statements cannot run inside a transaction block, never a parser. It skips what can
 * hide a keyword or a semicolon — `--` and nested `/* *\/` comments, '...' and E'...' strings,
 * $tag$...$tag$ bodies and "quoted identifiers" — so a CONCURRENTLY inside any of those does not
 * count, and a semicolon inside them does not end a statement.
 */

export type TokenKind = "word" | "quoted-identifier" | "string" | "number" | "symbol";

export interface SqlToken {
  kind: TokenKind;
  /** The source text of the token (for words: as written; compare with `upper`). */
  text: string;
  /** Upper-cased text of a word; the text itself for other kinds. */
  upper: string;
  start: number;
  end: number;
}

export interface SqlStatement {
  /** The statement as written, from its first token to its last, without the semicolon. */
  text: string;
  /** Offsets into the scanned text. */
  start: number;
  end: number;
  /** 1-based line of the statement's first token. */
  line: number;
  tokens: SqlToken[];
}

export interface SqlScan {
  statements: SqlStatement[];
  /**
   * Whether the text ends between statements: the last one has its semicolon, and no string,
   * comment, parenthesis or BEGIN ATOMIC body is left open, so SQL appended after a newline is
   * read as statements of its own.
   */
  closed: boolean;
  /** A comment, string or quoted identifier that never ends, if any. */
  unterminated?: { what: string; line: number; offset: number };
}

/** The first line that lets a migration run outside a transaction. */
export const NO_TRANSACTION_MARKER = "-- pinline:no-transaction";

const MARKER_LINE = /^--\s*pinline:no-transaction\s*$/;
const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/** Splits SQL text into statements at semicolons outside comments, strings and bodies. */
export function splitStatements(sql: string): SqlScan {
  const statements: SqlStatement[] = [];
  let tokens: SqlToken[] = [];
  let parens = 0;
  let blocks = 0;
  const lines = lineStarts(sql);

  const finish = () => {
    const first = tokens[0];
    const last = tokens.at(-1);
    if (first && last) {
      statements.push({
        text: sql.slice(first.start, last.end),
        start: first.start,
        end: last.end,
        line: lineOf(lines, first.start),
        tokens,
      });
    }
    tokens = [];
    parens = 0;
    blocks = 0;
  };

  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && next === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol === -1 ? n : eol + 1;
    } else if (c === "/" && next === "*") {
      const end = skipBlockComment(sql, i);
      if (end === -1) return unterminated(statements, "/* comment", sql, i, lines, tokens);
      i = end;
    } else if (c === "'") {
      const previous = tokens.at(-1);
      const escapes = previous?.kind === "word" && previous.end === i && previous.upper === "E";
      const end = skipQuoted(sql, i, "'", escapes);
      if (end === -1) return unterminated(statements, "quoted string", sql, i, lines, tokens);
      tokens.push(token("string", sql, i, end));
      i = end;
    } else if (c === '"') {
      const end = skipQuoted(sql, i, '"', false);
      if (end === -1) return unterminated(statements, "quoted identifier", sql, i, lines, tokens);
      tokens.push(token("quoted-identifier", sql, i, end));
      i = end;
    } else if (c === "$" && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      const tag = (DOLLAR_TAG.exec(sql.slice(i, i + 64)) as RegExpExecArray)[0];
      const close = sql.indexOf(tag, i + tag.length);
      if (close === -1) return unterminated(statements, `${tag} body`, sql, i, lines, tokens);
      tokens.push(token("string", sql, i, close + tag.length));
      i = close + tag.length;
    } else if (WORD_START.test(c)) {
      let end = i + 1;
      while (end < n && WORD_PART.test(sql[end] as string)) end++;
      const word = token("word", sql, i, end);
      tokens.push(word);
      blocks += blockChange(tokens, word, blocks);
      i = end;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(next ?? ""))) {
      let end = i + 1;
      while (end < n && /[0-9A-Za-z_.]/.test(sql[end] as string)) end++;
      tokens.push(token("number", sql, i, end));
      i = end;
    } else if (c === ";" && parens === 0 && blocks === 0) {
      finish();
      i++;
    } else {
      if (c === "(") parens++;
      if (c === ")" && parens > 0) parens--;
      tokens.push(token("symbol", sql, i, i + 1));
      i++;
    }
  }
  const closed = tokens.length === 0;
  finish();
  return { statements, closed };
}

/**
 * Inside CREATE FUNCTION/PROCEDURE with a SQL-standard body (BEGIN ATOMIC ... END), semicolons
 * do not end the statement; psql counts BEGIN/CASE against END the same way.
 */
function blockChange(tokens: readonly SqlToken[], word: SqlToken, depth: number): number {
  // Only these words count; looking at the statement's start for every word would be wasted.
  if (word.upper !== "BEGIN" && word.upper !== "CASE" && word.upper !== "END") return 0;
  if (!isRoutineDefinition(tokens)) return 0;
  if (word.upper === "BEGIN") return 1;
  if (word.upper === "CASE" && depth > 0) return 1;
  if (word.upper === "END" && depth > 0) return -1;
  return 0;
}

function isRoutineDefinition(tokens: readonly SqlToken[]): boolean {
  const words = tokens.slice(0, 5).map((t) => (t.kind === "word" ? t.upper : ""));
  if (words[0] !== "CREATE") return false;
  const kind = words[1] === "OR" && words[2] === "REPLACE" ? words[3] : words[1];
  return kind === "FUNCTION" || kind === "PROCEDURE";
}

function token(kind: TokenKind, sql: string, start: number, end: number): SqlToken {
  const text = sql.slice(start, end);
  return { kind, text, upper: kind === "word" ? text.toUpperCase() : text, start, end };
}

/** Returns the offset after the comment, or -1. Block comments nest in PostgreSQL. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith("/*", i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith("*/", i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return -1;
}

/** Returns the offset after the closing quote (a doubled quote is part of the text), or -1. */
function skipQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === "\\") {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return -1;
}

function unterminated(
  statements: SqlStatement[],
  what: string,
  sql: string,
  offset: number,
  lines: readonly number[],
  tokens: SqlToken[],
): SqlScan {
  const first = tokens[0];
  const start = first?.start ?? offset;
  statements.push({
    text: sql.slice(start).trimEnd(),
    start,
    end: sql.length,
    line: lineOf(lines, start),
    tokens,
  });
  return {
    statements,
    closed: false,
    unterminated: { what, line: lineOf(lines, offset), offset },
  };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] as number) <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

/** 1-based line and column of a 0-based offset (columns count characters, as PostgreSQL does). */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  const starts = lineStarts(text);
  const line = lineOf(starts, offset);
  const lineStart = starts[line - 1] ?? 0;
  return { line, column: [...text.slice(lineStart, offset)].length + 1 };
}

/** Whether the file's first line is the `-- pinline:no-transaction` marker. */
export function hasNoTransactionMarker(text: string): boolean {
  const firstLine = text.replace(/^\uFEFF/, "").split("\n", 1)[0] ?? "";
  return MARKER_LINE.test(firstLine.replace(/\r$/, ""));
}

/** The 1-based line of a marker that is present but not on the first line, if any. */
export function misplacedMarkerLine(text: string): number | undefined {
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    if (MARKER_LINE.test((lines[i] ?? "").replace(/\r$/, "").trim())) return i + 1;
  }
  return undefined;
}

/**
 * What makes a statement impossible inside a transaction block ("CREATE INDEX CONCURRENTLY",
 * "VACUUM", ...), or undefined when it can run in one. Only keywords count: words inside
 * comments, strings, bodies and quoted identifiers are not keywords.
 */
export function nonTransactionalReason(statement: SqlStatement): string | undefined {
  const words = statement.tokens.map((t) => (t.kind === "word" ? t.upper : t.text));
  const [first, second, third, fourth] = words;
  const has = (word: string) => words.includes(word);
  switch (first) {
    case "CREATE":
      if (second === "INDEX" && third === "CONCURRENTLY") return "CREATE INDEX CONCURRENTLY";
      if (second === "UNIQUE" && third === "INDEX" && fourth === "CONCURRENTLY") {
        return "CREATE UNIQUE INDEX CONCURRENTLY";
      }
      if (second === "DATABASE") return "CREATE DATABASE";
      if (second === "TABLESPACE") return "CREATE TABLESPACE";
      return undefined;
    case "DROP":
      if (second === "INDEX" && third === "CONCURRENTLY") return "DROP INDEX CONCURRENTLY";
      if (second === "DATABASE") return "DROP DATABASE";
      if (second === "TABLESPACE") return "DROP TABLESPACE";
      return undefined;
    case "REINDEX": {
      if (has("CONCURRENTLY")) return "REINDEX ... CONCURRENTLY";
      if (has("DATABASE")) return "REINDEX DATABASE";
      return has("SYSTEM") ? "REINDEX SYSTEM" : undefined;
    }
    case "VACUUM":
      return "VACUUM";
    case "ALTER":
      if (second === "SYSTEM") return "ALTER SYSTEM";
      if (second === "TABLE" && has("DETACH") && has("PARTITION") && has("CONCURRENTLY")) {
        return "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY";
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Transaction control that would break "one migration and its history row in one transaction"
 * (a COMMIT in the file would commit half of it), or undefined.
 */
export function transactionControl(statement: SqlStatement): string | undefined {
  const [first, second] = statement.tokens.map((t) => (t.kind === "word" ? t.upper : t.text));
  switch (first) {
    case "BEGIN":
    case "COMMIT":
    case "END":
    case "ABORT":
      return first;
    case "START":
      return second === "TRANSACTION" ? "START TRANSACTION" : undefined;
    case "ROLLBACK":
      return second === "TO" ? undefined : "ROLLBACK";
    case "PREPARE":
      return second === "TRANSACTION" ? "PREPARE TRANSACTION" : undefined;
    default:
      return undefined;
  }
}

/** The table (as written, for to_regclass) and index name of a CREATE INDEX CONCURRENTLY. */
export interface ConcurrentIndex {
  table: string;
  /** The index's name as PostgreSQL stores it (unquoted, case-folded), when the statement names one. */
  index?: string;
}

/** For CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] [name] ON [ONLY] table ...: what it builds. */
export function concurrentIndexOf(statement: SqlStatement): ConcurrentIndex | undefined {
  const reason = nonTransactionalReason(statement);
  if (reason !== "CREATE INDEX CONCURRENTLY" && reason !== "CREATE UNIQUE INDEX CONCURRENTLY") {
    return undefined;
  }
  const tokens = statement.tokens;
  let i = tokens.findIndex((t) => t.upper === "CONCURRENTLY") + 1;
  const at = (k: number) => tokens[k]?.upper;
  if (at(i) === "IF" && at(i + 1) === "NOT" && at(i + 2) === "EXISTS") i += 3;
  let index: string | undefined;
  if (at(i) !== "ON") {
    const name = qualifiedName(tokens, i);
    if (!name) return undefined;
    index = name.last;
    i = name.next;
  }
  if (at(i) !== "ON") return undefined;
  i++;
  if (at(i) === "ONLY") i++;
  const table = qualifiedName(tokens, i);
  if (!table) return undefined;
  return index === undefined ? { table: table.text } : { table: table.text, index };
}

function qualifiedName(
  tokens: readonly SqlToken[],
  start: number,
): { text: string; last: string; next: number } | undefined {
  const parts: SqlToken[] = [];
  let i = start;
  for (;;) {
    const part = tokens[i];
    if (!part || (part.kind !== "word" && part.kind !== "quoted-identifier")) break;
    parts.push(part);
    i++;
    if (tokens[i]?.text !== ".") break;
    i++;
  }
  const last = parts.at(-1);
  if (!last) return undefined;
  const stored =
    last.kind === "quoted-identifier" ? last.text.slice(1, -1).replaceAll('""', '"') : last.text;
  return {
    text: parts.map((p) => p.text).join("."),
    last: last.kind === "word" ? stored.toLowerCase() : stored,
    next: i,
  };
}
