import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkKeys } from "../repo/check-keys.js";
import { describeKey } from "./key-policy.js";
import { type KeyringProblem, keyringErrors, loadKeyring } from "./keyring.js";

const { enums } = openpgp;

let root: string;
let keysDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "pinline-keyring-"));
  keysDir = join(root, "keys");
  mkdirSync(keysDir);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

async function makeKey(name: string) {
  return openpgp.generateKey({
    userIDs: [{ name, email: `${name}@example.org` }],
    date: new Date("2024-01-01T00:00:00Z"),
    format: "object",
  });
}

let alice: Awaited<ReturnType<typeof makeKey>>;
let bob: Awaited<ReturnType<typeof makeKey>>;
let carol: Awaited<ReturnType<typeof makeKey>>;

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([makeKey("alice"), makeKey("bob"), makeKey("carol")]);
});

const fingerprintOf = (key: openpgp.Key) => key.getFingerprint().toUpperCase();
const keyIdOf = (key: openpgp.Key) => key.getKeyID().toHex().toUpperCase();
const linesOf = (text: string) => text.trimEnd().split("\n").length;

/** A revocation certificate as `gpg --gen-revoke` writes one: a key revocation, no key. */
async function revocationCertificate(
  key: openpgp.PrivateKey,
  flag: openpgp.enums.reasonForRevocation = enums.reasonForRevocation.keyCompromised,
): Promise<string> {
  const { publicKey } = await openpgp.revokeKey({
    key,
    reasonForRevocation: { flag },
    date: new Date("2024-02-01T00:00:00Z"),
    format: "object",
  });
  const certificate = await publicKey.getRevocationCertificate(new Date("2024-03-01T00:00:00Z"));
  if (typeof certificate !== "string") throw new Error("no revocation certificate");
  return certificate;
}

/** What validate reports for the same folder: the same problems at the same lines. */
function validateSays(): { file: string; line: number; severity: string; message: string }[] {
  return checkKeys(root).map((f) => ({
    file: f.file,
    line: f.line,
    severity: f.severity,
    message: f.message,
  }));
}

const asFindings = (problems: KeyringProblem[]) =>
  problems.map((p) => ({
    file: p.file,
    line: p.line ?? 1,
    severity: p.severity,
    message: p.reason.replace(/ \([^()]*(?:\([^()]*\)[^()]*)*\)$/, ""),
  }));

describe("loadKeyring: every block of every file", () => {
  it("holds no keys when keys/ does not exist", async () => {
    expect(await loadKeyring(join(root, "missing"))).toEqual({ keys: [], problems: [] });
  });

  it("trusts both keys of one block, and ignores files that are not .asc", async () => {
    const both = new Uint8Array([...alice.publicKey.write(), ...bob.publicKey.write()]);
    writeFileSync(join(keysDir, "team.asc"), openpgp.armor(enums.armor.publicKey, both));
    writeFileSync(join(keysDir, "README.md"), "not a key");
    const { keys, problems } = await loadKeyring(keysDir);
    expect(problems).toEqual([]);
    expect(keys.map((k) => [k.file, k.fingerprint])).toEqual([
      ["keys/team.asc", fingerprintOf(alice.publicKey)],
      ["keys/team.asc", fingerprintOf(bob.publicKey)],
    ]);
    expect(validateSays()).toEqual([]);
  });

  it("trusts a key in the second block of a file like the one in the first", async () => {
    writeFileSync(
      join(keysDir, "team.asc"),
      `${alice.publicKey.armor()}\n${bob.publicKey.armor()}`,
    );
    const { keys, problems } = await loadKeyring(keysDir);
    expect(problems).toEqual([]);
    expect(keys.map((k) => k.fingerprint)).toEqual([
      fingerprintOf(alice.publicKey),
      fingerprintOf(bob.publicKey),
    ]);
  });

  it("counts the same key in two files once, keeping a revocation found in either", async () => {
    const { publicKey: revoked } = await openpgp.revokeKey({
      key: alice.privateKey,
      reasonForRevocation: { flag: enums.reasonForRevocation.keyCompromised },
      date: new Date("2024-02-01T00:00:00Z"),
      format: "object",
    });
    writeFileSync(join(keysDir, "a-alice.asc"), alice.publicKey.armor());
    writeFileSync(join(keysDir, "b-alice-revoked.asc"), revoked.armor());
    const { keys, problems } = await loadKeyring(keysDir);
    expect(problems).toEqual([]);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.file).toBe("keys/a-alice.asc");
    expect((await describeKey(keys[0]?.key as openpgp.PublicKey)).revoked).toMatchObject({
      reason: "key compromised",
      hard: true,
    });
  });
});

describe("loadKeyring: revocation certificates", () => {
  it("applies a revocation certificate appended to the key's file", async () => {
    const key = alice.publicKey.armor();
    const certificate = await revocationCertificate(alice.privateKey);
    expect(certificate).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    writeFileSync(join(keysDir, "alice.asc"), `${key}\n${certificate}`);
    const { keys, problems } = await loadKeyring(keysDir);
    expect(problems).toEqual([]);
    expect(keys.map((k) => k.fingerprint)).toEqual([fingerprintOf(alice.publicKey)]);
    expect((await describeKey(keys[0]?.key as openpgp.PublicKey)).revoked).toEqual({
      date: new Date("2024-02-01T00:00:00Z"),
      reason: "key compromised",
      hard: true,
    });
    expect(validateSays()).toEqual([]);
  });

  it("applies a revocation certificate kept in a file of its own", async () => {
    writeFileSync(join(keysDir, "alice.asc"), alice.publicKey.armor());
    writeFileSync(
      join(keysDir, "alice-revoked.asc"),
      await revocationCertificate(alice.privateKey, enums.reasonForRevocation.keyRetired),
    );
    const { keys, problems } = await loadKeyring(keysDir);
    expect(problems).toEqual([]);
    expect((await describeKey(keys[0]?.key as openpgp.PublicKey)).revoked).toMatchObject({
      reason: "key retired",
      hard: false,
    });
  });

  it("reports a revocation certificate for a key that is not in keys/, at its line", async () => {
    const key = bob.publicKey.armor();
    writeFileSync(
      join(keysDir, "bob.asc"),
      `${key}\n${await revocationCertificate(carol.privateKey)}`,
    );
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys.map((k) => k.fingerprint)).toEqual([fingerprintOf(bob.publicKey)]);
    expect(problems).toEqual([
      {
        file: "keys/bob.asc",
        line: linesOf(key) + 2,
        severity: "error",
        reason: `holds a revocation certificate for key ${keyIdOf(carol.publicKey)}, which is not among the trusted keys in keys/ (add the public key it revokes beside it, or remove the certificate)`,
      },
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });

  it("reports a damaged revocation certificate, which revokes nothing", async () => {
    const certificate = await revocationCertificate(alice.privateKey);
    const { data } = await openpgp.unarmor(certificate);
    const bytes = new Uint8Array(data as Uint8Array);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
    const damaged = openpgp.armor(enums.armor.publicKey, bytes);
    writeFileSync(join(keysDir, "alice.asc"), `${alice.publicKey.armor()}${damaged}`);
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keyringErrors(problems)).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: "keys/alice.asc", severity: "error" });
    expect(problems[0]?.reason).toMatch(
      new RegExp(
        `^holds a revocation certificate that names key ${fingerprintOf(alice.publicKey)} but does not verify against it \\(openpgp: .+\\): it revokes nothing`,
      ),
    );
    expect((await describeKey(keys[0]?.key as openpgp.PublicKey)).revoked).toBeUndefined();
  });

  it("does not read a certificate disabled by gpg's ':' before -----BEGIN, and says so", async () => {
    const certificate = await revocationCertificate(alice.privateKey);
    const key = alice.publicKey.armor();
    const note = "This is a revocation certificate for the OpenPGP key:\n\n";
    writeFileSync(join(keysDir, "alice.asc"), `${key}\n${note}:${certificate}`);
    const { keys, problems } = await loadKeyring(keysDir);
    expect((await describeKey(keys[0]?.key as openpgp.PublicKey)).revoked).toBeUndefined();
    const at = linesOf(key) + 2;
    expect(problems.map((p) => [p.line, p.severity, p.reason.split(" (")[0]])).toEqual([
      [at, "warning", "text outside the armored blocks is ignored"],
      [at + 2, "error", 'this block is not read: ":" comes before its -----BEGIN marker'],
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });
});

describe("loadKeyring: what is refused", () => {
  it("refuses a private key after a public block: no key of that file counts, the others do", async () => {
    const key = bob.publicKey.armor();
    writeFileSync(join(keysDir, "bob.asc"), `${key}\n${bob.privateKey.armor()}`);
    writeFileSync(join(keysDir, "carol.asc"), carol.publicKey.armor());
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys.map((k) => k.fingerprint)).toEqual([fingerprintOf(carol.publicKey)]);
    expect(problems).toEqual([
      {
        file: "keys/bob.asc",
        line: linesOf(key) + 2,
        severity: "error",
        reason:
          "holds a PRIVATE key: only public keys belong in keys/, and no key of this file is trusted (remove it, export the public half with gpg --armor --export <fingerprint>, and treat the private key as leaked)",
      },
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });

  it("refuses a private key armored under a PUBLIC KEY BLOCK label", async () => {
    const relabelled = openpgp.armor(enums.armor.publicKey, alice.privateKey.write());
    writeFileSync(join(keysDir, "alice.asc"), relabelled);
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys).toEqual([]);
    expect(problems.map((p) => [p.line, p.severity, p.reason.split(":")[0]])).toEqual([
      [1, "error", "holds a PRIVATE key"],
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });

  it("reports a block that does not parse at its BEGIN line, and still loads the block before it", async () => {
    const key = alice.publicKey.armor();
    const lines = bob.publicKey.armor().split("\n");
    lines[3] = `!${(lines[3] as string).slice(1)}`;
    writeFileSync(join(keysDir, "team.asc"), `${key}${lines.join("\n")}`);
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys.map((k) => k.fingerprint)).toEqual([fingerprintOf(alice.publicKey)]);
    const at = linesOf(key) + 1;
    expect(problems).toEqual([
      {
        file: "keys/team.asc",
        line: at,
        severity: "error",
        reason: `is not a readable OpenPGP public key: line ${at + 3} is not base64 (export the key again with gpg --armor --export <fingerprint>)`,
      },
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });

  it("reports a block that holds a user id and no key", async () => {
    // Sound base64 and packet framing, but no key for the user id to belong to.
    const userId = openpgp.UserIDPacket.fromObject({ name: "nobody", email: "nobody@example.org" });
    const list = new openpgp.PacketList<openpgp.UserIDPacket>();
    list.push(userId);
    writeFileSync(join(keysDir, "odd.asc"), openpgp.armor(enums.armor.publicKey, list.write()));
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys).toEqual([]);
    expect(problems).toEqual([
      {
        file: "keys/odd.asc",
        line: 1,
        severity: "error",
        reason:
          "holds a packet of type 13 outside any key: only a key revocation certificate may stand alone (keys/ holds public keys and their revocation certificates only)",
      },
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });

  it("reports a key of a version openpgp cannot read, which would otherwise be dropped", async () => {
    // A version 9 public key packet: sound framing, but no OpenPGP version 9 exists.
    const packet = Uint8Array.of(0xc6, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8);
    writeFileSync(join(keysDir, "v9.asc"), openpgp.armor(enums.armor.publicKey, packet));
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys).toEqual([]);
    expect(problems.map((p) => [p.line, p.severity, p.reason.split(" (")[0]])).toEqual([
      [
        1,
        "error",
        "is not a readable OpenPGP public key: it holds a version 9 key, and only versions 4 and 6 are read",
      ],
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });

  it("reports cut short blocks, stray END lines, empty files and binary exports", async () => {
    const key = alice.publicKey.armor();
    const withoutEnd = key.replace("-----END PGP PUBLIC KEY BLOCK-----\n", "");
    writeFileSync(join(keysDir, "a-cut.asc"), withoutEnd);
    writeFileSync(join(keysDir, "b-end-only.asc"), key.split("\n").slice(2).join("\n"));
    writeFileSync(join(keysDir, "c-empty.asc"), "\n");
    writeFileSync(join(keysDir, "d-binary.asc"), bob.publicKey.write());
    writeFileSync(join(keysDir, "e-carol.asc"), carol.publicKey.armor());
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys.map((k) => k.fingerprint)).toEqual([fingerprintOf(carol.publicKey)]);
    expect(problems.map((p) => [p.file, p.line, p.severity, p.reason.split(" (")[0]])).toEqual([
      [
        "keys/a-cut.asc",
        1,
        "error",
        "-----BEGIN PGP PUBLIC KEY BLOCK----- has no -----END PGP PUBLIC KEY BLOCK----- line: the block is cut short",
      ],
      ["keys/b-end-only.asc", 1, "warning", "text outside the armored blocks is ignored"],
      [
        "keys/b-end-only.asc",
        linesOf(key) - 2,
        "error",
        "-----END PGP PUBLIC KEY BLOCK----- has no -----BEGIN line before it: the block is cut short",
      ],
      [
        "keys/c-empty.asc",
        undefined,
        "error",
        "is empty: it should hold an ASCII-armored public key",
      ],
      ["keys/d-binary.asc", 1, "error", "holds no ASCII-armored block"],
      ["keys/d-binary.asc", 1, "warning", "text outside the armored blocks is ignored"],
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });

  it("warns about text outside the blocks, and trusts the keys all the same", async () => {
    writeFileSync(
      join(keysDir, "alice.asc"),
      `Alice's release key, added 2024-01-01\n\n${alice.publicKey.armor()}`,
    );
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys).toHaveLength(1);
    expect(keyringErrors(problems)).toEqual([]);
    expect(problems).toEqual([
      {
        file: "keys/alice.asc",
        line: 1,
        severity: "warning",
        reason:
          "text outside the armored blocks is ignored (remove it: notes about the keys belong in keys/README.md)",
      },
    ]);
  });

  it("labels files as its caller asks", async () => {
    writeFileSync(join(keysDir, "empty.asc"), "");
    const { problems } = await loadKeyring(keysDir, (path) => `custom:${path.slice(root.length)}`);
    expect(problems.map((p) => p.file)).toEqual(["custom:/keys/empty.asc"]);
  });
});

describe("validate and the keyring agree", () => {
  it("on a revocation of a key whose file holds a private key: it revokes no trusted key", async () => {
    const key = bob.publicKey.armor();
    writeFileSync(join(keysDir, "bob.asc"), `${key}${bob.privateKey.armor()}`);
    writeFileSync(join(keysDir, "bob-revoked.asc"), await revocationCertificate(bob.privateKey));
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys).toEqual([]);
    expect(problems.map((p) => [p.file, p.line, p.reason.split(":")[0]])).toEqual([
      ["keys/bob.asc", linesOf(key) + 1, "holds a PRIVATE key"],
      [
        "keys/bob-revoked.asc",
        1,
        `holds a revocation certificate for key ${keyIdOf(bob.publicKey)}, which is not among the trusted keys in keys/ (add the public key it revokes beside it, or remove the certificate)`,
      ],
    ]);
    expect(validateSays()).toEqual(asFindings(problems));
  });
});
