/**
 * The trusted keys: every public key in every armored block of every keys/*.asc, with every
 * revocation found there applied, and nothing else (DESIGN §6). Blocks are located and inspected
 * as `pinline validate` does (src/repo/check-keys.ts), then read with openpgp. A block that
 * cannot be used is an error at its BEGIN line and contributes nothing; a file that holds a
 * private key contributes no key at all; the rest still load. Callers decide what an error
 * costs: `keyringErrors` lists the problems that must fail a verification.
 */
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import * as openpgp from "openpgp";
import {
  type ArmoredBlock,
  inspectBlock,
  type KeyFileProblem,
  keyFileProblems,
  locateArmoredBlocks,
} from "../repo/check-keys.js";
import { IrregularFileError, irregularReason, readRegularFile } from "../repo/read-regular-file.js";
import {
  ANY_TIME,
  hexId,
  REVOCATION_CONFIG,
  TRUST_CONFIG,
  TRUST_FULL_CONFIG,
} from "./key-policy.js";

const { enums } = openpgp;

export interface TrustedKey {
  /** The file it came from, as labelled by loadKeyring's caller (the first, if several). */
  file: string;
  key: openpgp.PublicKey;
  /** The primary key's fingerprint, uppercase hex. */
  fingerprint: string;
}

export interface KeyringProblem {
  file: string;
  /** 1-based line of the block it concerns (its BEGIN line); absent when it is the whole file. */
  line?: number;
  /** An error means keys/ is not what its authors meant: a verification must not pass over it. */
  severity: "error" | "warning";
  /**
   * Without the file name, with what to do in parentheses: "holds a PRIVATE key: only public
   * keys belong in keys/, … (remove it, …)".
   */
  reason: string;
}

export interface Keyring {
  keys: TrustedKey[];
  problems: KeyringProblem[];
}

/** What one key file holds, read with openpgp; revocations are applied by the caller. */
export interface KeyFileContents {
  keys: openpgp.PublicKey[];
  /** Key revocation signatures that stand alone (revocation certificates), by BEGIN line. */
  revocations: { line: number; signature: openpgp.SignaturePacket }[];
  problems: KeyFileProblem[];
  /** The BEGIN line of its first private key block, if it holds one: then no key of it counts. */
  privateKeyAt: number | undefined;
}

/**
 * When two files hold the same key, their signatures are merged (so a revocation in either one
 * counts). Every cryptographically valid signature is kept; the policy is applied when the key
 * is used, not here.
 */
const MERGE_CONFIG = REVOCATION_CONFIG;

/** The packets a key block may hold, as openpgp's PacketList.fromBinary wants them. */
const KEY_PACKETS = Object.fromEntries(
  [
    openpgp.PublicKeyPacket,
    openpgp.PublicSubkeyPacket,
    openpgp.SecretKeyPacket,
    openpgp.SecretSubkeyPacket,
    openpgp.UserIDPacket,
    openpgp.UserAttributePacket,
    openpgp.SignaturePacket,
  ].map((packet) => [(packet as unknown as { tag: number }).tag, packet]),
) as unknown as Parameters<typeof openpgp.PacketList.fromBinary>[1];

/** The problems that must fail a verification: keys/ holds something its authors did not mean. */
export function keyringErrors(problems: readonly KeyringProblem[]): KeyringProblem[] {
  return problems.filter((problem) => problem.severity === "error");
}

/** `keys/a.asc:12: holds a PRIVATE key: …`, the form every pinline location is printed in. */
export function describeKeyringProblem(problem: KeyringProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return `${where}: ${problem.reason}`;
}

/**
 * Reads every `*.asc` in `keysDir` (in name order; a missing folder holds no keys). A file may
 * hold several blocks and a block several keys; the same key in two files is one key; a
 * revocation certificate in any file applies to its key wherever that key is.
 */
export async function loadKeyring(
  keysDir: string,
  fileLabel: (absolutePath: string) => string = (path) => `${basename(keysDir)}/${basename(path)}`,
): Promise<Keyring> {
  const files: { file: string; contents: KeyFileContents }[] = [];
  const unread: KeyringProblem[] = [];
  for (const name of await listArmoredFiles(keysDir)) {
    const path = join(keysDir, name);
    let bytes: Buffer | undefined;
    try {
      bytes = readRegularFile(path);
    } catch (error) {
      if (!(error instanceof IrregularFileError)) throw error;
      // A link (wherever it points), FIFO or device is never read, and keys/ is not sound.
      unread.push({
        file: fileLabel(path),
        severity: "error",
        reason: irregularReason(error.kind),
      });
      continue;
    }
    if (bytes)
      files.push({ file: fileLabel(path), contents: await readKeyFile(bytes.toString("utf8")) });
  }
  const keyring = await assembleKeyring(files);
  return { ...keyring, problems: [...unread, ...keyring.problems] };
}

/**
 * The keyring of key files already read: their keys merged by fingerprint (a file that holds a
 * private key contributes none), then every revocation certificate applied to its key.
 */
export async function assembleKeyring(
  files: readonly { file: string; contents: KeyFileContents }[],
): Promise<Keyring> {
  const byFingerprint = new Map<string, TrustedKey>();
  const problems: KeyringProblem[] = [];
  for (const { file, contents } of files) {
    problems.push(...contents.problems.map((problem) => toKeyringProblem(file, problem)));
    if (contents.privateKeyAt === undefined) await mergeKeys(byFingerprint, contents.keys, file);
  }
  for (const { file, contents } of files) {
    for (const { signature, line } of contents.revocations) {
      const problem = await applyRevocation(byFingerprint, signature, line);
      if (problem) problems.push(toKeyringProblem(file, problem));
    }
  }
  return { keys: [...byFingerprint.values()], problems };
}

/**
 * Every block of a key file: its public keys, its revocation certificates, and what is wrong
 * with it, each problem at the line of the block it concerns.
 */
export async function readKeyFile(text: string): Promise<KeyFileContents> {
  const located = locateArmoredBlocks(text);
  const contents: KeyFileContents = {
    keys: [],
    revocations: [],
    problems: [...located.problems],
    privateKeyAt: undefined,
  };
  for (const block of located.blocks) {
    const inspected = inspectBlock(block);
    if (inspected.problems.length > 0) {
      contents.problems.push(...inspected.problems);
      if (inspected.holdsPrivateKey) contents.privateKeyAt ??= block.line;
      continue;
    }
    const read = await readBlock(block);
    contents.problems.push(...read.problems);
    if (read.keys.some((key) => key.isPrivate())) {
      contents.problems.push(keyFileProblems.privateKey(block.line));
      contents.privateKeyAt ??= block.line;
      continue;
    }
    contents.keys.push(...(read.keys as openpgp.PublicKey[]));
    contents.revocations.push(
      ...read.revocations.map((signature) => ({ line: block.line, signature })),
    );
  }
  return contents;
}

interface ReadBlock {
  keys: openpgp.Key[];
  revocations: openpgp.SignaturePacket[];
  /** An error means the block contributes nothing. */
  problems: KeyFileProblem[];
}

/**
 * One block through openpgp: the keys it holds and the revocation signatures before them. A
 * packet openpgp cannot read (an unsupported version or algorithm) is an error where a key or
 * revocation should be, and a warning inside a key that was read (openpgp drops it).
 */
async function readBlock(block: ArmoredBlock): Promise<ReadBlock> {
  const unreadable = (why: string): ReadBlock => ({
    keys: [],
    revocations: [],
    problems: [keyFileProblems.unreadable(block.line, why)],
  });
  try {
    const { data } = await openpgp.unarmor(block.text, TRUST_FULL_CONFIG);
    const bytes = data as Uint8Array;
    const packets = await openpgp.PacketList.fromBinary(bytes, KEY_PACKETS, TRUST_FULL_CONFIG);
    const [firstKey] = packets.indexOfTag(enums.packet.publicKey, enums.packet.secretKey);
    const loose = packets.slice(0, firstKey ?? packets.length);
    const odd = loose.find((packet) => !isKeyRevocation(packet));
    if (odd) return unreadable(`openpgp cannot read its packet of type ${tagOf(odd)}`);
    if (firstKey === undefined)
      return { keys: [], revocations: loose.filter(isKeyRevocation), problems: [] };
    const keys = await openpgp.readKeys({ binaryKeys: bytes, config: TRUST_CONFIG });
    const skipped = packets.filter((packet) => packet instanceof openpgp.UnparseablePacket);
    return {
      keys,
      revocations: loose.filter(isKeyRevocation),
      problems: skipped.map((packet) => ({
        line: block.line,
        severity: "warning",
        reason: `openpgp cannot read a packet of type ${tagOf(packet)} in this block (an unsupported version or algorithm), and ignores it`,
        hint: "if it is a signing subkey, its signatures will not count",
      })),
    };
  } catch (error) {
    return unreadable((error as Error).message);
  }
}

/** A packet's type: its class's tag, or the tag of a packet openpgp could not parse. */
function tagOf(packet: openpgp.AnyPacket): number {
  return packet instanceof openpgp.UnparseablePacket
    ? packet.tag
    : (packet.constructor as unknown as { tag: number }).tag;
}

function isKeyRevocation(packet: openpgp.AnyPacket): packet is openpgp.SignaturePacket {
  return (
    packet instanceof openpgp.SignaturePacket &&
    packet.signatureType === enums.signature.keyRevocation
  );
}

async function mergeKeys(
  byFingerprint: Map<string, TrustedKey>,
  keys: readonly openpgp.PublicKey[],
  file: string,
): Promise<void> {
  for (const key of keys) {
    const fingerprint = key.getFingerprint().toUpperCase();
    const known = byFingerprint.get(fingerprint);
    if (known) known.key = await known.key.update(key, ANY_TIME, MERGE_CONFIG);
    else byFingerprint.set(fingerprint, { file, key, fingerprint });
  }
}

/**
 * Applies a revocation certificate to the trusted key that made it. A certificate for no trusted
 * key, or one its key did not make, is a problem: it revokes nothing, and its author meant it to.
 */
async function applyRevocation(
  byFingerprint: Map<string, TrustedKey>,
  signature: openpgp.SignaturePacket,
  line: number,
): Promise<KeyFileProblem | undefined> {
  const trusted = [...byFingerprint.values()].find((t) =>
    signature.issuerKeyID.equals(t.key.getKeyID()),
  );
  if (!trusted) return keyFileProblems.revokesUnknownKey(line, hexId(signature.issuerKeyID));
  try {
    trusted.key = await withRevocation(trusted.key, signature);
    return undefined;
  } catch (error) {
    return {
      line,
      severity: "error",
      reason: `holds a revocation certificate that names key ${trusted.fingerprint} but does not verify against it (openpgp: ${(error as Error).message}): it revokes nothing`,
      hint: "make the certificate with that key's own private key: gpg --output revoke.asc --gen-revoke <fingerprint>",
    };
  }
}

/**
 * The key with a revocation signature it made, as if the certificate had been imported (what
 * openpgp's applyRevocationCertificate does, but for a signature already read). Throws when the
 * signature does not verify against the key; its date and hash are not judged here.
 */
async function withRevocation(
  key: openpgp.PublicKey,
  signature: openpgp.SignaturePacket,
): Promise<openpgp.PublicKey> {
  const primary = key.keyPacket;
  await signature.verify(
    primary,
    enums.signature.keyRevocation,
    { key: primary },
    ANY_TIME,
    false,
    REVOCATION_CONFIG,
  );
  // A key's own revocations come right after its primary key packet.
  const packets = key.toPacketList();
  packets.splice(1, 0, signature);
  return new openpgp.PublicKey(packets);
}

function toKeyringProblem(file: string, problem: KeyFileProblem): KeyringProblem {
  return {
    file,
    ...(problem.line === undefined ? {} : { line: problem.line }),
    severity: problem.severity,
    reason: problem.hint ? `${problem.reason} (${problem.hint})` : problem.reason,
  };
}

async function listArmoredFiles(keysDir: string): Promise<string[]> {
  try {
    const entries = await readdir(keysDir, { withFileTypes: true });
    return entries
      .filter((entry) => !entry.isDirectory() && entry.name.endsWith(".asc"))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
