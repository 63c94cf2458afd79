/**
 * keys/ as `pinline validate` sees it (DESIGN §6: every armored block of every key file read).
 * Each `keys/*.asc` is split into its armored blocks, and each block is read down to its packet
 * headers: a private key, a block that does not parse, a revocation certificate for a key that
 * is not there are errors at the block's BEGIN line. No OpenPGP library and no cryptography, so
 * validate stays cheap; the keyring (src/trust/keyring.ts) locates and inspects blocks with the
 * same functions, then reads them with openpgp and verifies what they claim.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { error, type Finding, type Severity, warning } from "./findings.js";
import { irregularKind, irregularReason } from "./read-regular-file.js";

/** One `-----BEGIN PGP …-----` … `-----END PGP …-----` block of a key file. */
export interface ArmoredBlock {
  /** 1-based line of its BEGIN line. */
  line: number;
  /** What its BEGIN line names: "PUBLIC KEY BLOCK", "PRIVATE KEY BLOCK", "SIGNATURE", ... */
  label: string;
  /** The block, BEGIN and END lines included, with "\n" line ends. */
  text: string;
}

/** What is wrong with (part of) a key file; `line` is 1-based, absent for the whole file. */
export interface KeyFileProblem {
  line?: number;
  severity: Severity;
  /** Without the file name: "holds a PRIVATE key: only public keys belong in keys/". */
  reason: string;
  /** What to do about it. */
  hint?: string;
}

export interface LocatedBlocks {
  blocks: ArmoredBlock[];
  problems: KeyFileProblem[];
}

/** A block read down to its packet headers. */
export interface BlockContents {
  problems: KeyFileProblem[];
  /** Key ids (16 uppercase hex digits) of the primary keys the block holds. */
  keyIds: string[];
  /** Issuer key ids of the key revocation signatures it holds outside any key. */
  revocations: string[];
  /** Whether it holds a private key: then no key of its file may be trusted. */
  holdsPrivateKey: boolean;
}

const REEXPORT = "export the key again with gpg --armor --export <fingerprint>";

/** The wording shared by validate and the keyring, so both say the same thing in the same place. */
export const keyFileProblems = {
  empty: (): KeyFileProblem => ({
    severity: "error",
    reason: "is empty: it should hold an ASCII-armored public key",
    hint: "export it with gpg --armor --export <fingerprint>, or remove the file",
  }),
  noBlock: (): KeyFileProblem => ({
    line: 1,
    severity: "error",
    reason: "holds no ASCII-armored block (-----BEGIN PGP PUBLIC KEY BLOCK-----)",
    hint: "export the key with gpg --armor --export <fingerprint>: a binary export is not read",
  }),
  privateKey: (line: number): KeyFileProblem => ({
    line,
    severity: "error",
    reason:
      "holds a PRIVATE key: only public keys belong in keys/, and no key of this file is trusted",
    hint: "remove it, export the public half with gpg --armor --export <fingerprint>, and treat the private key as leaked",
  }),
  unreadable: (line: number, why: string): KeyFileProblem => ({
    line,
    severity: "error",
    reason: `is not a readable OpenPGP public key: ${why}`,
    hint: REEXPORT,
  }),
  looseSignature: (line: number, what: string): KeyFileProblem => ({
    line,
    severity: "error",
    reason: `holds ${what} outside any key: only a key revocation certificate may stand alone`,
    hint: "keys/ holds public keys and their revocation certificates only",
  }),
  revokesUnknownKey: (line: number, keyId: string): KeyFileProblem => ({
    line,
    severity: "error",
    reason: `holds a revocation certificate for key ${keyId}, which is not among the trusted keys in keys/`,
    hint: "add the public key it revokes beside it, or remove the certificate",
  }),
};

const BEGIN = /^-----BEGIN PGP ([A-Z0-9 ,/]+)-----\s*$/;
const END = /^-----END PGP ([A-Z0-9 ,/]+)-----\s*$/;
/** An armor line that does not start its line: gpg's ":-----BEGIN" of a stored revocation. */
const DISPLACED_BEGIN = /^(.+?)-----BEGIN PGP ([A-Z0-9 ,/]+)-----\s*$/;

interface OpenBlock {
  line: number;
  label: string;
  /** Its BEGIN marker does not start the line: reported once, never read. */
  displaced: string | undefined;
  lines: string[];
}

/**
 * Splits a key file into its armored blocks. Reported: a BEGIN without its END, an END without
 * its BEGIN, a BEGIN marker that does not start its line (errors), and text outside the blocks
 * (a warning: it is ignored, but a reader may think it counts).
 */
export function locateArmoredBlocks(text: string): LocatedBlocks {
  if (text.trim() === "") return { blocks: [], problems: [keyFileProblems.empty()] };
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const blocks: ArmoredBlock[] = [];
  const problems: KeyFileProblem[] = [];
  let open: OpenBlock | undefined;
  let strayFrom: number | undefined;
  const closeStray = () => {
    if (strayFrom !== undefined) problems.push(strayText(strayFrom));
    strayFrom = undefined;
  };
  lines.forEach((content, index) => {
    const line = index + 1;
    const begin = BEGIN.exec(content);
    const displaced = begin ? undefined : DISPLACED_BEGIN.exec(content);
    const end = END.exec(content);
    if (open && (begin || displaced)) problems.push(unterminated(open, line));
    if (begin || displaced) {
      closeStray();
      const label = (begin?.[1] ?? displaced?.[2]) as string;
      open = { line, label, displaced: displaced?.[1], lines: [content] };
    } else if (open) {
      open.lines.push(content);
      if (end) {
        closeBlock(open, end[1] as string, line, blocks, problems);
        open = undefined;
      }
    } else if (end) {
      closeStray();
      problems.push({
        line,
        severity: "error",
        reason: `-----END PGP ${end[1]}----- has no -----BEGIN line before it: the block is cut short`,
        hint: REEXPORT,
      });
    } else if (content.trim() !== "") {
      strayFrom ??= line;
    }
  });
  closeStray();
  if (open) problems.push(unterminated(open));
  if (blocks.length === 0 && !problems.some((p) => p.severity === "error")) {
    problems.unshift(keyFileProblems.noBlock());
  }
  return { blocks, problems };
}

function closeBlock(
  open: OpenBlock,
  endLabel: string,
  endLine: number,
  blocks: ArmoredBlock[],
  problems: KeyFileProblem[],
): void {
  if (open.displaced !== undefined) {
    problems.push({
      line: open.line,
      severity: "error",
      reason: `this block is not read: "${open.displaced}" comes before its -----BEGIN marker (gpg puts a ':' there to disable the revocation certificates it stores)`,
      hint: "to apply it, delete what comes before -----BEGIN (and gpg's notes above it); otherwise remove the block",
    });
  } else if (endLabel !== open.label) {
    problems.push({
      line: open.line,
      severity: "error",
      reason: `-----BEGIN PGP ${open.label}----- ends with -----END PGP ${endLabel}----- (line ${endLine})`,
      hint: REEXPORT,
    });
  } else {
    blocks.push({ line: open.line, label: open.label, text: `${open.lines.join("\n")}\n` });
  }
}

function unterminated(open: OpenBlock, nextBegin?: number): KeyFileProblem {
  const where = nextBegin === undefined ? "" : ` before the next block (line ${nextBegin})`;
  return {
    line: open.line,
    severity: "error",
    reason: `-----BEGIN PGP ${open.label}----- has no -----END PGP ${open.label}----- line${where}: the block is cut short`,
    hint: REEXPORT,
  };
}

function strayText(line: number): KeyFileProblem {
  return {
    line,
    severity: "warning",
    reason: "text outside the armored blocks is ignored",
    hint: "remove it: notes about the keys belong in keys/README.md",
  };
}

const TAG = {
  signature: 2,
  secretKey: 5,
  publicKey: 6,
  secretSubkey: 7,
  marker: 10,
  trust: 12,
  userId: 13,
  publicSubkey: 14,
  userAttribute: 17,
  padding: 21,
} as const;

const KEY_PACKETS = new Set<number>([
  TAG.signature,
  TAG.publicKey,
  TAG.userId,
  TAG.publicSubkey,
  TAG.userAttribute,
]);
/** Packets every OpenPGP implementation must skip (tags from 40 are non-critical). */
const SKIPPED_PACKETS = new Set<number>([TAG.marker, TAG.trust, TAG.padding]);
const KEY_REVOCATION = 0x20;

interface Packet {
  tag: number;
  body: Uint8Array;
}

/**
 * What a block holds, from its armor and packet headers: its primary keys' ids and the key
 * revocations it carries outside a key. Problems: a private key, armor that is not a key,
 * damaged armor or packets, signatures that are neither part of a key nor a key revocation.
 */
export function inspectBlock(block: ArmoredBlock): BlockContents {
  const contents: BlockContents = {
    problems: [],
    keyIds: [],
    revocations: [],
    holdsPrivateKey: false,
  };
  const fail = (problem: KeyFileProblem): BlockContents => {
    contents.problems.push(problem);
    return contents;
  };
  const privateKey = (): BlockContents => {
    contents.holdsPrivateKey = true;
    return fail(keyFileProblems.privateKey(block.line));
  };
  if (block.label === "PRIVATE KEY BLOCK") return privateKey();
  if (block.label !== "PUBLIC KEY BLOCK" && block.label !== "SIGNATURE") {
    return fail({
      line: block.line,
      severity: "error",
      reason: `holds a PGP ${block.label}, not a public key`,
      hint: "keys/ holds public keys and their revocation certificates only",
    });
  }
  const bytes = dearmor(block);
  if (typeof bytes === "string") return fail(keyFileProblems.unreadable(block.line, bytes));
  const packets = splitPackets(bytes);
  if (typeof packets === "string") return fail(keyFileProblems.unreadable(block.line, packets));
  // A secret key under a PUBLIC KEY BLOCK label is still a private key.
  if (packets.some((p) => p.tag === TAG.secretKey || p.tag === TAG.secretSubkey)) {
    return privateKey();
  }
  const problem = contentProblem(packets, block.line);
  if (problem) return fail(problem);
  contents.revocations = loosePackets(packets).map((p) => issuerOf(p.body));
  contents.keyIds = packets.flatMap((p) => (p.tag === TAG.publicKey ? [keyIdOf(p.body)] : []));
  return contents;
}

/** The packets before the first primary key: in a key file, only key revocations belong there. */
function loosePackets<T extends { tag: number }>(packets: readonly T[]): readonly T[] {
  const firstKey = packets.findIndex((p) => p.tag === TAG.publicKey);
  return firstKey === -1 ? packets : packets.slice(0, firstKey);
}

/** Why the packets are not a sequence of public keys and key revocations, if they are not. */
function contentProblem(packets: readonly Packet[], line: number): KeyFileProblem | undefined {
  if (packets.length === 0) {
    return {
      line,
      severity: "error",
      reason: "holds no public key and no revocation certificate",
      hint: REEXPORT,
    };
  }
  const future = packets.find((p) => p.tag === TAG.publicKey && p.body[0] !== 4 && p.body[0] !== 6);
  if (future) {
    const why = `it holds a version ${future.body[0]} key, and only versions 4 and 6 are read`;
    return keyFileProblems.unreadable(line, why);
  }
  const foreign = packets.find((p) => !KEY_PACKETS.has(p.tag));
  if (foreign) return keyFileProblems.unreadable(line, `it holds a packet of type ${foreign.tag}`);
  const stray = loosePackets(packets).find(
    (p) => p.tag !== TAG.signature || signatureType(p.body) !== KEY_REVOCATION,
  );
  if (stray) {
    const what =
      stray.tag === TAG.signature
        ? `a signature of type 0x${signatureType(stray.body).toString(16).padStart(2, "0")}`
        : `a packet of type ${stray.tag}`;
    return keyFileProblems.looseSignature(line, what);
  }
  return undefined;
}

/** The armored data as bytes, or why it cannot be read (openpgp's rules: headers, blank line, base64). */
function dearmor(block: ArmoredBlock): Uint8Array | string {
  // Between the BEGIN and END lines; lines[k] is line block.line + 1 + k of the file.
  const lines = block.text.split("\n").slice(1, -2);
  let index = 0;
  while (index < lines.length && /^[^\s:]+: /.test(lines[index] as string)) index++;
  if ((lines[index] ?? "").trim() !== "") {
    return "a blank line must separate the armor headers from the data";
  }
  const body = lines.slice(index + 1).filter((l) => !/^=[A-Za-z0-9+/]{4}\s*$/.test(l));
  const bad = body.findIndex((l) => !/^[A-Za-z0-9+/]*={0,2}\s*$/.test(l));
  if (bad !== -1) return `line ${block.line + index + 2 + bad} is not base64`;
  const data = body.join("").replace(/\s/g, "");
  if (data.length % 4 !== 0) return "its base64 data is cut short";
  return new Uint8Array(Buffer.from(data, "base64"));
}

/** The packets of an OpenPGP binary, or why they cannot be split (RFC 9580 §4.2). */
function splitPackets(bytes: Uint8Array): Packet[] | string {
  const packets: Packet[] = [];
  let at = 0;
  while (at < bytes.length) {
    const header = readHeader(bytes, at);
    if (typeof header === "string") return header;
    const end = header.start + header.length;
    if (end > bytes.length) return "its last packet is cut short";
    if (header.tag < 40 && !SKIPPED_PACKETS.has(header.tag)) {
      packets.push({ tag: header.tag, body: bytes.subarray(header.start, end) });
    }
    at = end;
  }
  return packets;
}

function readHeader(
  bytes: Uint8Array,
  at: number,
): { tag: number; start: number; length: number } | string {
  const first = bytes[at] as number;
  if ((first & 0x80) === 0) return `byte ${at} does not start an OpenPGP packet`;
  if ((first & 0x40) === 0) {
    const tag = (first >> 2) & 0x0f;
    const size = [1, 2, 4, 0][first & 0x03] as number;
    const start = at + 1 + size;
    const length = size === 0 ? bytes.length - start : readNumber(bytes, at + 1, size);
    return { tag, start, length };
  }
  const tag = first & 0x3f;
  const l0 = bytes[at + 1] ?? 0;
  if (l0 < 192) return { tag, start: at + 2, length: l0 };
  if (l0 < 224)
    return { tag, start: at + 3, length: ((l0 - 192) << 8) + (bytes[at + 2] ?? 0) + 192 };
  if (l0 === 255) return { tag, start: at + 6, length: readNumber(bytes, at + 2, 4) };
  return "it uses partial packet lengths, which no key packet may";
}

/** A big-endian number of `size` bytes; 0 beyond the end (a cut short packet is found later). */
function readNumber(bytes: Uint8Array, at: number, size: number): number {
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + (bytes[at + i] ?? 0);
  return value;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex").toUpperCase();

/** A v4 key's id is the last 8 bytes of its SHA-1 fingerprint; a v6 key's the first 8 of SHA-256. */
function keyIdOf(body: Uint8Array): string {
  if (body[0] === 4) {
    const prefix = Uint8Array.of(0x99, body.length >> 8, body.length & 0xff);
    return hex(createHash("sha1").update(prefix).update(body).digest().subarray(12, 20));
  }
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(0x9b, 0);
  prefix.writeUInt32BE(body.length, 1);
  return hex(createHash("sha256").update(prefix).update(body).digest().subarray(0, 8));
}

function signatureType(body: Uint8Array): number {
  return (body[0] === 3 ? body[2] : body[1]) ?? -1;
}

/** The issuer's key id: from the issuer (16) or issuer fingerprint (33) subpacket; "unknown" without. */
function issuerOf(body: Uint8Array): string {
  if (body[0] === 3) return hex(body.subarray(7, 15));
  const countSize = body[0] === 6 ? 4 : 2;
  let at = 4;
  for (let area = 0; area < 2; area++) {
    const size = readNumber(body, at, countSize);
    const issuer = issuerIn(body.subarray(at + countSize, at + countSize + size));
    if (issuer) return issuer;
    at += countSize + size;
  }
  return "(unknown: the signature names no issuer)";
}

function issuerIn(area: Uint8Array): string | undefined {
  let at = 0;
  while (at < area.length) {
    const l0 = area[at] as number;
    const [size, length] =
      l0 < 192
        ? [1, l0]
        : l0 < 255
          ? [2, ((l0 - 192) << 8) + (area[at + 1] ?? 0) + 192]
          : [5, readNumber(area, at + 1, 4)];
    const type = (area[at + size] ?? 0) & 0x7f;
    const data = area.subarray(at + size + 1, at + size + length);
    if (type === 16) return hex(data);
    if (type === 33) return hex(data[0] === 4 ? data.subarray(13, 21) : data.subarray(1, 9));
    at += size + length;
  }
  return undefined;
}

/** The `*.asc` files of keys/, in name order; other files are warned about, never read. */
function listKeyFiles(keysDir: string): { keyFiles: string[]; findings: Finding[] } {
  const all = readdirSync(keysDir, { withFileTypes: true }).filter((e) => !e.isDirectory());
  // A link (wherever it points), FIFO or device is never read: a trusted key is a file in keys/.
  const irregular = all.filter((e) => irregularKind(e) !== undefined);
  const entries = all.filter((e) => irregularKind(e) === undefined);
  const keyFiles = entries.filter((e) => e.name.endsWith(".asc")).map((e) => e.name);
  const findings = irregular
    .map((e) =>
      error(
        "keys",
        { file: `keys/${e.name}`, line: 1, column: 1 },
        irregularReason(irregularKind(e) as string),
        "a trusted key is a file of its own in keys/: commit the exported key itself",
      ),
    )
    .concat(
      entries
        .filter(
          (e) => !e.name.endsWith(".asc") && !e.name.endsWith(".md") && !e.name.startsWith("."),
        )
        .map((e) =>
          warning(
            "keys",
            { file: `keys/${e.name}`, line: 1, column: 1 },
            "is not read: only keys/*.asc files hold trusted keys",
            "rename it to .asc if it is an ASCII-armored public key",
          ),
        ),
    );
  return { keyFiles: keyFiles.sort(), findings };
}

const toFinding = (file: string, problem: KeyFileProblem): Finding =>
  (problem.severity === "error" ? error : warning)(
    "keys",
    { file, line: problem.line ?? 1, column: 1 },
    problem.reason,
    problem.hint,
  );

/**
 * validate's rule "keys": every block of every keys/*.asc, at the line of its BEGIN, and files
 * in keys/ that are not read. The signatures in the keys are not verified here (no OpenPGP
 * library in validate): `pinline keys list` and `pinline verify` do, and also report a
 * revocation certificate its key did not make.
 */
export function checkKeys(root: string): Finding[] {
  const keysDir = join(root, "keys");
  if (!existsSync(keysDir)) return [];
  const { keyFiles, findings } = listKeyFiles(keysDir);
  const keyIds = new Set<string>();
  const revocations: { file: string; line: number; keyId: string }[] = [];
  for (const name of keyFiles) {
    const file = `keys/${name}`;
    const located = locateArmoredBlocks(readFileSync(join(keysDir, name), "utf8"));
    findings.push(...located.problems.map((p) => toFinding(file, p)));
    const blocks = located.blocks.map(inspectBlock);
    blocks.forEach((contents, index) => {
      const line = located.blocks[index]?.line ?? 1;
      findings.push(...contents.problems.map((p) => toFinding(file, p)));
      for (const keyId of contents.revocations) revocations.push({ file, line, keyId });
    });
    // As in the keyring: no key of a file that holds a private key is trusted.
    if (blocks.some((contents) => contents.holdsPrivateKey)) continue;
    for (const id of blocks.flatMap((contents) => contents.keyIds)) keyIds.add(id);
  }
  for (const revocation of revocations) {
    if (keyIds.has(revocation.keyId)) continue;
    findings.push(
      toFinding(
        revocation.file,
        keyFileProblems.revokesUnknownKey(revocation.line, revocation.keyId),
      ),
    );
  }
  return findings;
}
