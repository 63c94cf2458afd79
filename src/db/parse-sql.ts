/**
 * Migration files as PostgreSQL itself reads them: libpg_query (PostgreSQL's own parser,
 * compiled to WebAssembly by the `libpg-query` package) splits a file into statements and says
 * what each statement is. Nothing here guesses from keywords: a COMMIT hidden after a comment
 * that a lone CR ends, a parameter named `begin`, an E-string or a dollar-quoted body is seen
 * exactly as the server will see it — provided the server lexes with
 * standard_conforming_strings on, which the runner enforces for every query it sends.
 *
 * Offsets: libpg_query counts UTF-8 bytes; everything returned here counts JavaScript string
 * indices, so statements can be sliced from the text and located by line.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ParseResult, ScanResult } from "libpg-query";

type Parser = typeof import("libpg-query");

let parser: Parser | undefined;

/** Loads the parser (its WebAssembly) once; call before parseSql. */
export async function loadSqlParser(): Promise<void> {
  if (parser) return;
  (globalThis as { __pinlineWasmDir?: string }).__pinlineWasmDir = bundledWasmDirectory();
  const imported = await import("libpg-query");
  // A CommonJS package: bundled as ESM, its exports arrive as the namespace's default.
  const module =
    typeof imported.loadModule === "function"
      ? imported
      : (imported as unknown as { default: Parser }).default;
  await module.loadModule();
  parser = module;
}

/**
 * Bundled, the parser's WebAssembly is dist/libpg-query.wasm: beside this code (an action's
 * bundle) or one folder up (a CLI chunk). Unbundled, the package finds its own beside itself.
 */
function bundledWasmDirectory(): string | undefined {
  for (const folder of ["./", "../"]) {
    const url = new URL(`${folder}libpg-query.wasm`, import.meta.url);
    if (url.protocol === "file:" && existsSync(fileURLToPath(url))) {
      return fileURLToPath(new URL(folder, import.meta.url));
    }
  }
  return undefined;
}

/** A parse-tree node: `{ IndexStmt: { … } }`, as libpg_query's JSON gives it. */
export type SqlNode = Record<string, Record<string, unknown>>;

export interface SqlStatement {
  /** The statement as written, from its first token to its last, without the semicolon. */
  text: string;
  /** String offsets into the parsed text. */
  start: number;
  end: number;
  /** 1-based line of the statement's first token. */
  line: number;
  node: SqlNode;
}

export interface ParsedSql {
  statements: SqlStatement[];
  /**
   * Whether the text ends between statements: it parses, and its last token (comments aside)
   * is a semicolon, so SQL appended after a newline is read as statements of its own.
   */
  closed: boolean;
  /** Why the text does not parse, where. */
  error?: { message: string; line: number; column: number };
}

/** Parses SQL text into statements; a syntax error is reported, never thrown. */
export function parseSql(text: string): ParsedSql {
  if (!parser) throw new Error("parseSql before loadSqlParser");
  if (text.trim() === "") return { statements: [], closed: true }; // nothing for the parser
  const offsets = new ByteOffsets(text);
  let parsed: ParseResult;
  try {
    parsed = parser.parseSync(text);
  } catch (error) {
    const cursor = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails
      ?.cursorPosition;
    const at = offsets.toIndex(Math.max(0, cursor ?? 0)); // a 0-based byte offset here
    return {
      statements: [],
      closed: false,
      error: { message: (error as Error).message, ...positionOf(text, at) },
    };
  }
  // Without comments, whatever lies between statements is whitespace and semicolons, so the
  // statements' bounds need no second pass of the lexer (scanning costs more than parsing).
  const plain = !text.includes("--") && !text.includes("/*");
  const tokens = plain ? [] : scanTokens(parser, text, offsets);
  const statements: SqlStatement[] = [];
  for (const raw of parsed.stmts ?? []) {
    const from = offsets.toIndex(raw.stmt_location ?? 0);
    const to = raw.stmt_len
      ? offsets.toIndex((raw.stmt_location ?? 0) + raw.stmt_len)
      : text.length;
    const bounds = plain ? trimmed(text, from, to) : tokenBounds(tokens, from, to);
    if (!bounds || !raw.stmt) continue;
    statements.push({
      text: text.slice(bounds.start, bounds.end),
      start: bounds.start,
      end: bounds.end,
      line: positionOf(text, bounds.start).line,
      node: raw.stmt as unknown as SqlNode,
    });
  }
  const closed = plain
    ? text.trimEnd() === "" || text.trimEnd().endsWith(";")
    : tokens.length === 0 || tokens.at(-1)?.kind === ";";
  return { statements, closed };
}

/** A statement's range without the whitespace and semicolons around it (text without comments). */
function trimmed(
  text: string,
  from: number,
  to: number,
): { start: number; end: number } | undefined {
  let start = from;
  let end = to;
  while (start < end && /[\s;]/.test(text[start] as string)) start++;
  while (end > start && /[\s;]/.test(text[end - 1] as string)) end--;
  return start < end ? { start, end } : undefined;
}

/** A statement's range from its first token to its last, comments and semicolons left out. */
function tokenBounds(
  tokens: readonly Token[],
  from: number,
  to: number,
): { start: number; end: number } | undefined {
  const inside = tokens.filter((t) => t.start >= from && t.end <= to && t.kind !== ";");
  const first = inside[0];
  const last = inside.at(-1);
  return first && last ? { start: first.start, end: last.end } : undefined;
}

interface Token {
  start: number;
  end: number;
  /** ";" for a semicolon, "word" for anything else that is not a comment. */
  kind: ";" | "word";
}

/** The tokens of the text, comments left out. */
function scanTokens(from: Parser, text: string, offsets: ByteOffsets): Token[] {
  const scanned: ScanResult = from.scanSync(text);
  return scanned.tokens
    .filter((t) => t.tokenName !== "SQL_COMMENT" && t.tokenName !== "C_COMMENT")
    .map((t) => ({
      start: offsets.toIndex(t.start),
      end: offsets.toIndex(t.end),
      kind: t.tokenName === "ASCII_59" ? ";" : "word",
    }));
}

/** UTF-8 byte offsets → string indices (the identity for ASCII text). */
class ByteOffsets {
  private readonly index: Int32Array | undefined;

  constructor(text: string) {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes === text.length) return;
    this.index = new Int32Array(bytes + 1);
    let byte = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.codePointAt(i) as number;
      const width = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      for (let k = 0; k < width; k++) this.index[byte + k] = i;
      byte += width;
      if (code >= 0x10000) i++; // a surrogate pair is one code point
    }
    this.index[bytes] = text.length;
  }

  toIndex(byte: number): number {
    return this.index ? (this.index[Math.min(byte, this.index.length - 1)] ?? 0) : byte;
  }
}

/** 1-based line and column (in characters) of a string offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: [...text.slice(lineStart, offset)].length + 1 };
}

/** The one node of a statement, by its type: `kindOf({ IndexStmt: … })` is "IndexStmt". */
export function kindOf(node: SqlNode): string {
  return Object.keys(node)[0] ?? "";
}

const TRANSACTION_CONTROL: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: "BEGIN",
  TRANS_STMT_START: "START TRANSACTION",
  TRANS_STMT_COMMIT: "COMMIT",
  TRANS_STMT_ROLLBACK: "ROLLBACK",
  TRANS_STMT_SAVEPOINT: "SAVEPOINT",
  TRANS_STMT_RELEASE: "RELEASE SAVEPOINT",
  TRANS_STMT_ROLLBACK_TO: "ROLLBACK TO SAVEPOINT",
  TRANS_STMT_PREPARE: "PREPARE TRANSACTION",
  TRANS_STMT_COMMIT_PREPARED: "COMMIT PREPARED",
  TRANS_STMT_ROLLBACK_PREPARED: "ROLLBACK PREPARED",
};

/**
 * Transaction control, which would break "one migration and its history row in one
 * transaction" (a COMMIT commits half the file; a savepoint released or rolled back to by the
 * file leaves it in a state pinline did not set up), or undefined.
 */
export function transactionControl(statement: Pick<SqlStatement, "node">): string | undefined {
  const transaction = statement.node.TransactionStmt;
  if (!transaction) return undefined;
  return TRANSACTION_CONTROL[String(transaction.kind)] ?? "transaction control";
}

/**
 * What makes a statement impossible inside a transaction block ("CREATE INDEX CONCURRENTLY",
 * "VACUUM", …), or undefined when it can run in one.
 */
export function nonTransactionalReason(statement: Pick<SqlStatement, "node">): string | undefined {
  const kind = kindOf(statement.node);
  const body = statement.node[kind] ?? {};
  switch (kind) {
    case "IndexStmt":
      if (!body.concurrent) return undefined;
      return body.unique ? "CREATE UNIQUE INDEX CONCURRENTLY" : "CREATE INDEX CONCURRENTLY";
    case "DropStmt":
      return body.removeType === "OBJECT_INDEX" && body.concurrent
        ? "DROP INDEX CONCURRENTLY"
        : undefined;
    case "CreatedbStmt":
      return "CREATE DATABASE";
    case "DropdbStmt":
      return "DROP DATABASE";
    case "CreateTableSpaceStmt":
      return "CREATE TABLESPACE";
    case "DropTableSpaceStmt":
      return "DROP TABLESPACE";
    case "ReindexStmt": {
      const params = (body.params as { DefElem?: { defname?: string } }[] | undefined) ?? [];
      if (params.some((p) => p.DefElem?.defname === "concurrently"))
        return "REINDEX ... CONCURRENTLY";
      if (body.kind === "REINDEX_OBJECT_DATABASE") return "REINDEX DATABASE";
      return body.kind === "REINDEX_OBJECT_SYSTEM" ? "REINDEX SYSTEM" : undefined;
    }
    case "VacuumStmt":
      return body.is_vacuumcmd ? "VACUUM" : undefined;
    case "AlterSystemStmt":
      return "ALTER SYSTEM";
    case "AlterTableStmt": {
      const commands =
        (body.cmds as { AlterTableCmd?: Record<string, unknown> }[] | undefined) ?? [];
      const detach = commands.some((c) => {
        const command = c.AlterTableCmd;
        const partition = (command?.def as { PartitionCmd?: { concurrent?: boolean } } | undefined)
          ?.PartitionCmd;
        return command?.subtype === "AT_DetachPartition" && partition?.concurrent === true;
      });
      return detach ? "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY" : undefined;
    }
    default:
      return undefined;
  }
}

/** The table (qualified, for to_regclass) and index name of a CREATE INDEX CONCURRENTLY. */
export interface ConcurrentIndex {
  table: string;
  /** The index's name as PostgreSQL stores it, when the statement names one. */
  index?: string;
}

/** For CREATE [UNIQUE] INDEX CONCURRENTLY …: the index it builds and its table. */
export function concurrentIndexOf(
  statement: Pick<SqlStatement, "node">,
): ConcurrentIndex | undefined {
  const index = statement.node.IndexStmt;
  if (!index?.concurrent) return undefined;
  const relation = index.relation as { schemaname?: string; relname?: string } | undefined;
  if (!relation?.relname) return undefined;
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const table = [relation.schemaname, relation.relname]
    .filter((part): part is string => part !== undefined)
    .map(quote)
    .join(".");
  return typeof index.idxname === "string" ? { table, index: index.idxname } : { table };
}
