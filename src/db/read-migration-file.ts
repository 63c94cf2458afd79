/**
 * A migration or rollback file as the runner runs it: its text with line endings normalised,
 * its checksum, and whether it runs in a transaction. What is checksummed is exactly what runs.
 *
 * Line endings: CRLF counts as LF, in the checksum and in what is sent to the server, so a
 * checkout that converts line endings (git's autocrlf) does not make an applied file "changed".
 * Every other byte counts — a lone CR, a BOM, trailing spaces.
 */
import { join } from "node:path";
import { RefusedError, UsageError } from "../core/errors.js";
import { IrregularFileError, readRegularFile } from "../repo/read-regular-file.js";
import { normaliseLineEndings, shippedFileDigest } from "../repo/shipped-file-digest.js";
import type { Direction } from "./derive-schema-version.js";
import {
  nonTransactionalReason,
  type ParsedSql,
  parseSql,
  type SqlStatement,
  transactionControl,
} from "./parse-sql.js";
import type { ChainRelease } from "./read-release-chain.js";

/** The first line that lets a migration run outside a transaction. */
export const NO_TRANSACTION_MARKER = "-- pinline:no-transaction";

const MARKER_LINE = /^--\s*pinline:no-transaction\s*$/;

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
 * A refusal about one migration file. Its message names the file (and the line, where there is
 * one), so describe() does not print the location a second time; `where` is for annotations.
 */
export class MigrationFileError extends RefusedError {
  override name = "MigrationFileError";

  override describe(): string {
    return `${this.message}${this.hint ? ` (${this.hint})` : ""}`;
  }
}

export interface MigrationFile {
  release: string;
  folder: string;
  /** Relative to the release folder, as the manifest and the history name it. */
  file: string;
  /** Relative to the repository: "releases/2.4.1/migrations/2.4.0-2.4.1.sql". */
  path: string;
  direction: Direction;
  /** The text with CRLF normalised to LF. */
  text: string;
  /** sha256 hex of `text`'s bytes. */
  checksum: string;
  /** false when the first line is `-- pinline:no-transaction`. */
  transactional: boolean;
  statements: SqlStatement[];
  /**
   * The text ends between statements (see ParsedSql.closed): the history row and COMMIT can
   * follow it in the same query without changing how PostgreSQL reads the file.
   */
  closed: boolean;
  /** Why PostgreSQL's parser does not read the file, where; the server would refuse it too. */
  parseError?: ParsedSql["error"];
}

/** The digest a file's bytes have (the manifest's and the history's sha256). */
export const checksumOf = shippedFileDigest;

/** The repository path of a release's file: "releases/2.4.1/migrations/2.4.0-2.4.1.sql". */
export function pathOf(release: Pick<ChainRelease, "folder">, file: string): string {
  return `releases/${release.folder}/${file}`;
}

/**
 * Reads a file a release lists and refuses it unless its bytes hash to the sha256 its manifest
 * lists. Throws UsageError when it is missing from the folder.
 */
export function readMigrationFile(
  root: string,
  release: ChainRelease,
  file: string,
  direction: Direction,
): MigrationFile {
  const path = pathOf(release, file);
  const content = release.contents.has(file) ? readIfExists(join(root, path)) : undefined;
  if (!content) {
    throw new UsageError(
      `${path} does not exist, but releases/${release.folder}/release.yaml lists it`,
      { hint: "run pinline validate" },
    );
  }
  const bytes = normaliseLineEndings(content);
  const checksum = refuseUnlisted(release, file, shippedFileDigest(bytes));
  const text = bytes.toString("utf8");
  const scan = parseSql(text);
  return {
    release: release.version,
    folder: release.folder,
    file,
    path,
    direction,
    text,
    checksum,
    transactional: !hasNoTransactionMarker(text),
    statements: scan.statements,
    closed: scan.closed,
    ...(scan.error ? { parseError: scan.error } : {}),
  };
}

/**
 * The manifest's sha256 for the file, when the bytes hash to it. Refuses a file whose bytes
 * differ from what the (signed) manifest lists: nothing runs that was not signed.
 */
export function refuseUnlisted(release: ChainRelease, file: string, digest: string): string {
  const path = pathOf(release, file);
  const listed = release.sha256.get(file);
  if (listed === undefined) {
    throw new MigrationFileError(
      `${path} is not listed with a sha256 in releases/${release.folder}/release.yaml`,
      {
        where: { file: path },
        hint: `run pinline release hash releases/${release.folder}, then sign the release`,
      },
    );
  }
  if (listed !== digest) {
    throw new MigrationFileError(
      `${path} differs from the file its manifest lists: releases/${release.folder}/release.yaml gives sha256 ${listed}, the file hashes to ${digest}; nothing was run`,
      {
        where: { file: path },
        hint: `restore the file as it was signed (git checkout), or, for an intended change, run pinline release hash releases/${release.folder} and sign the release again`,
      },
    );
  }
  return listed;
}

/**
 * The file's bytes, or undefined when it does not exist. One read instead of a stat and a
 * read: a run reads every file it applies, and every applied file to verify its checksum. A
 * link, FIFO or device is refused without being read.
 */
export function readIfExists(path: string): Buffer | undefined {
  try {
    return readRegularFile(path);
  } catch (error) {
    if (error instanceof IrregularFileError) {
      throw new MigrationFileError(error.message, {
        where: { file: path },
        hint: "run pinline validate",
      });
    }
    throw error;
  }
}

/**
 * Refuses, before anything runs, a file that cannot run the way it is marked: a statement that
 * cannot run in a transaction without the marker; transaction control inside a transactional
 * file; an unterminated string or comment in a file that is split into statements.
 */
export function checkRunnable(migration: MigrationFile): void {
  const { path } = migration;
  if (migration.transactional) {
    for (const statement of migration.statements) {
      const reason = nonTransactionalReason(statement);
      if (reason) {
        const misplaced = misplacedMarkerLine(migration.text);
        throw new MigrationFileError(
          `${path} contains ${reason} on line ${statement.line} (${quoted(statement)}), which cannot run in a transaction: add \`${NO_TRANSACTION_MARKER}\` as its first line`,
          {
            where: { file: path, line: statement.line, column: 1 },
            hint:
              misplaced === undefined
                ? "the file then runs one statement at a time, outside a transaction; keep such files to the statements that need it"
                : `the marker is on line ${misplaced}; it counts only on the first line`,
          },
        );
      }
      const control = transactionControl(statement);
      if (control) {
        throw new MigrationFileError(
          `${path} contains ${control} on line ${statement.line} (${quoted(statement)}): pinline runs each migration and its history row in one transaction, which a ${control} in the file would break`,
          {
            where: { file: path, line: statement.line, column: 1 },
            hint: `remove the transaction control, or add \`${NO_TRANSACTION_MARKER}\` as the first line to run the file statement by statement`,
          },
        );
      }
    }
    return;
  }
  const problem = migration.parseError;
  if (problem) {
    // Run one statement at a time, a file that does not parse would stop half-way.
    throw new MigrationFileError(
      `${path} cannot be split into statements: ${problem.message} (line ${problem.line}, column ${problem.column}); nothing of it was run`,
      { where: { file: path, line: problem.line, column: problem.column } },
    );
  }
}

/** The statement as the refusal quotes it: its first line, shortened. */
function quoted(statement: SqlStatement): string {
  const [first = ""] = statement.text.split(/\r\n|\r|\n/, 1);
  const shown = first.length > 60 ? `${first.slice(0, 57)}...` : first;
  return `\`${shown}${first === statement.text ? "" : " ..."}\``;
}
