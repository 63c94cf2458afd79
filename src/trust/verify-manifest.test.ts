import * as openpgp from "openpgp";
import { beforeAll, describe, expect, it } from "vitest";
import { InvalidValueError } from "../core/errors.js";
import type { TrustedKey } from "./keyring.js";
import { signBytes } from "./sign-manifest.js";
import { verifyBytes } from "./verify-manifest.js";

const { enums } = openpgp;

const KEY_CREATED = new Date("2024-01-01T00:00:00Z");
const BEFORE_REVOCATION = new Date("2024-01-10T00:00:00Z");
const REVOKED = new Date("2024-02-01T00:00:00Z");
const SIGNED = new Date("2024-03-01T00:00:00Z");
const NOW = new Date("2024-06-01T00:00:00Z");
const THIRTY_DAYS = 30 * 24 * 3600;

const MANIFEST_TEXT = "version: 2.4.1\ncomponents:\n  api:\n    size: 10MiB\n";
const MANIFEST = new TextEncoder().encode(MANIFEST_TEXT);

const TAMPERED =
  "the signature does not match the manifest's bytes: the file changed after it was signed (a changed byte, a CRLF conversion or an added newline all count)";

interface TestKey {
  privateKey: openpgp.PrivateKey;
  publicKey: openpgp.PublicKey;
  fingerprint: string;
}

type KeyOptions = Omit<openpgp.KeyOptions, "userIDs" | "format">;

async function makeKey(name: string, options: KeyOptions = {}): Promise<TestKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    userIDs: [{ name, email: `${name}@example.org` }],
    date: KEY_CREATED,
    ...options,
    format: "object",
  });
  return { privateKey, publicKey, fingerprint: publicKey.getFingerprint().toUpperCase() };
}

const trusted = (key: openpgp.PublicKey): TrustedKey => ({
  file: "keys/test.asc",
  key,
  fingerprint: key.getFingerprint().toUpperCase(),
});

async function sign(
  signers: openpgp.PrivateKey | openpgp.PrivateKey[],
  options: { date?: Date; signingKeyIDs?: openpgp.KeyID[]; config?: openpgp.PartialConfig } = {},
): Promise<string> {
  return openpgp.sign({
    message: await openpgp.createMessage({ binary: MANIFEST }),
    signingKeys: signers,
    detached: true,
    date: options.date ?? SIGNED,
    ...(options.signingKeyIDs ? { signingKeyIDs: options.signingKeyIDs } : {}),
    ...(options.config ? { config: options.config } : {}),
  });
}

/**
 * A signature packet made by hand, for what openpgp.sign will not make: a SHA-1 hash, or a
 * signature by an expired key or subkey. openpgp's declarations type SignaturePacket.sign with a
 * Uint8Array and no config; it takes the literal data packet and a full config.
 */
async function signByHand(
  key: openpgp.PrivateKey | openpgp.Subkey,
  options: { date: Date; hash: openpgp.enums.hash },
): Promise<string> {
  const [literal] = (await openpgp.createMessage({ binary: MANIFEST })).packets;
  const packet = new openpgp.SignaturePacket();
  packet.signatureType = enums.signature.binary;
  packet.publicKeyAlgorithm = key.keyPacket.algorithm;
  packet.hashAlgorithm = options.hash;
  const signPacket = packet.sign as unknown as (...args: unknown[]) => Promise<void>;
  await signPacket.call(packet, key.keyPacket, literal, options.date, true, {
    ...openpgp.config,
    nonDeterministicSignaturesViaNotation: false,
  });
  const packets = new openpgp.PacketList<openpgp.SignaturePacket>();
  packets.push(packet);
  return new openpgp.Signature(packets).armor();
}

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);

function verify(
  armoredSignature: string,
  keys: TestKey[],
  options: { threshold?: number; bytes?: Uint8Array; now?: Date } = {},
) {
  return verifyBytes({
    bytes: options.bytes ?? MANIFEST,
    armoredSignature,
    keyring: keys.map((k) => trusted(k.publicKey)),
    threshold: options.threshold ?? 1,
    now: options.now ?? NOW,
  });
}

let alice: TestKey;
let bob: TestKey;
let impostor: TestKey;
let twoSubkeys: TestKey;
let expiring: TestKey;
let compromised: TestKey;
let superseded: TestKey;
let nistKey: TestKey;
let rsa1024: TestKey;
let expiringSubkey: TestKey;

beforeAll(async () => {
  [
    alice,
    bob,
    impostor,
    twoSubkeys,
    expiring,
    compromised,
    superseded,
    nistKey,
    rsa1024,
    expiringSubkey,
  ] = await Promise.all([
    makeKey("alice"),
    makeKey("bob"),
    makeKey("alice"), // same user ID as alice, different key
    makeKey("carol", { subkeys: [{ sign: true }, { sign: true }] }),
    makeKey("dave", { keyExpirationTime: THIRTY_DAYS }),
    makeKey("erin"),
    makeKey("frank"),
    makeKey("grace", { type: "ecc", curve: "nistP256" }),
    makeKey("heidi", { type: "rsa", rsaBits: 1024, config: { minRSABits: 1024 } }),
    makeKey("ivan", { subkeys: [{ sign: true, keyExpirationTime: THIRTY_DAYS }] }),
  ]);
});

async function revoke(key: TestKey, flag: openpgp.enums.reasonForRevocation, text?: string) {
  const { publicKey } = await openpgp.revokeKey({
    key: key.privateKey,
    reasonForRevocation: { flag, ...(text ? { string: text } : {}) },
    date: REVOKED,
    format: "object",
  });
  return { ...key, publicKey };
}

describe("verifyBytes: what counts", () => {
  it("accepts two distinct trusted keys against threshold 2", async () => {
    const result = await verify(await sign([alice.privateKey, bob.privateKey]), [alice, bob], {
      threshold: 2,
    });
    expect(result.ok).toBe(true);
    expect(result.reason).toBe("2 of 2 required signatures from distinct trusted keys");
    expect(result.validKeys.sort()).toEqual([alice.fingerprint, bob.fingerprint].sort());
    expect(result.signatures.map((s) => s.reason)).toEqual(["good signature", "good signature"]);
    const first = result.signatures.find((s) => s.keyFingerprint === alice.fingerprint);
    expect(first).toMatchObject({
      verdict: "valid",
      signingKeyId: alice.publicKey.getKeyID().toHex().toUpperCase(),
      userId: "alice <alice@example.org>",
      created: SIGNED,
    });
  });

  it("counts two signatures by one key once (1 of 2)", async () => {
    const result = await verify(await sign([alice.privateKey, alice.privateKey]), [alice], {
      threshold: 2,
    });
    expect(result.ok).toBe(false);
    expect(result.validKeys).toEqual([alice.fingerprint]);
    expect(result.signatures.map((s) => s.verdict)).toEqual(["valid", "valid"]);
    expect(result.reason).toBe(
      "only 1 of 2 required signatures from distinct trusted keys: 2 valid signatures come from 1 key, and each key counts once",
    );
  });

  it("counts signatures by two subkeys of one primary key once", async () => {
    const subkeyIds = twoSubkeys.privateKey.subkeys.map((s) => s.getKeyID());
    const armored = await sign([twoSubkeys.privateKey, twoSubkeys.privateKey], {
      signingKeyIDs: subkeyIds,
    });
    const result = await verify(armored, [twoSubkeys], { threshold: 2 });
    expect(result.ok).toBe(false);
    expect(result.signatures.map((s) => s.signingKeyId)).toEqual(
      subkeyIds.map((id) => id.toHex().toUpperCase()),
    );
    expect(result.signatures.map((s) => s.keyFingerprint)).toEqual([
      twoSubkeys.fingerprint,
      twoSubkeys.fingerprint,
    ]);
    expect(result.validKeys).toEqual([twoSubkeys.fingerprint]);
    expect(result.reason).toBe(
      "only 1 of 2 required signatures from distinct trusted keys: 2 valid signatures come from 1 key, and each key counts once",
    );
  });

  it("collects signers appended one after the other with signBytes", async () => {
    const first = await signBytes({
      bytes: MANIFEST,
      armoredPrivateKey: alice.privateKey.armor(),
      now: SIGNED,
    });
    const both = await signBytes({
      bytes: MANIFEST,
      armoredPrivateKey: bob.privateKey.armor(),
      existingSignature: first,
      now: SIGNED,
    });
    expect(both.match(/-----BEGIN PGP SIGNATURE-----/g)).toHaveLength(1);
    const result = await verify(both, [alice, bob], { threshold: 2 });
    expect(result.ok).toBe(true);
    expect(result.reason).toBe("2 of 2 required signatures from distinct trusted keys");
    expect(result.signatures.map((s) => s.keyFingerprint)).toEqual([
      alice.fingerprint,
      bob.fingerprint,
    ]);
  });

  it("reads signatures from concatenated armored blocks (cat a.asc b.asc)", async () => {
    const armored = `${await sign(alice.privateKey)}\n${await sign(bob.privateKey)}`;
    const result = await verify(armored, [alice, bob], { threshold: 2 });
    expect(result.ok).toBe(true);
    expect(result.signatures).toHaveLength(2);
  });

  it("accepts a signature dated within the 5-minute clock skew", async () => {
    const armored = await sign(alice.privateKey, { date: new Date(NOW.getTime() + 2 * 60_000) });
    const result = await verify(armored, [alice]);
    expect(result.ok).toBe(true);
    expect(result.signatures[0]?.reason).toBe("good signature");
  });

  it("accepts a key that expired after the signature was made", async () => {
    const armored = await sign(expiring.privateKey, { date: BEFORE_REVOCATION });
    const result = await verify(armored, [expiring]);
    expect(result.ok).toBe(true);
    expect(result.signatures[0]?.reason).toBe("good signature");
  });
});

describe("verifyBytes: tampering", () => {
  let armored: string;
  beforeAll(async () => {
    armored = await sign(alice.privateKey);
  });

  it("refuses a manifest with one byte changed", async () => {
    const result = await verify(armored, [alice], {
      bytes: bytesOf(MANIFEST_TEXT.replace("2.4.1", "2.4.2")),
    });
    expect(result.ok).toBe(false);
    expect(result.signatures[0]).toMatchObject({ verdict: "invalid", reason: TAMPERED });
    expect(result.reason).toBe(
      `only 0 of 1 required signature from distinct trusted keys: signature by ${alice.fingerprint}: ${TAMPERED}`,
    );
  });

  it("names every key of a tampered manifest in one reason, not once per signature", async () => {
    const result = await verify(await sign([alice.privateKey, bob.privateKey]), [alice, bob], {
      threshold: 2,
      bytes: bytesOf(MANIFEST_TEXT.replace("2.4.1", "2.4.2")),
    });
    expect(result.ok).toBe(false);
    const signers = result.signatures.map((s) => s.keyFingerprint).join(", ");
    expect(result.reason).toBe(
      `only 0 of 2 required signatures from distinct trusted keys: signatures by ${signers}: ${TAMPERED}`,
    );
  });

  it("refuses a manifest whose line endings were converted to CRLF", async () => {
    const result = await verify(armored, [alice], {
      bytes: bytesOf(MANIFEST_TEXT.replaceAll("\n", "\r\n")),
    });
    expect(result.ok).toBe(false);
    expect(result.signatures[0]).toMatchObject({ verdict: "invalid", reason: TAMPERED });
  });

  it("refuses a manifest with a trailing newline added", async () => {
    const result = await verify(armored, [alice], { bytes: bytesOf(`${MANIFEST_TEXT}\n`) });
    expect(result.ok).toBe(false);
    expect(result.signatures[0]).toMatchObject({ verdict: "invalid", reason: TAMPERED });
  });

  it("refuses a text-mode signature, which would not notice a CRLF conversion", async () => {
    const textMode = await openpgp.sign({
      message: await openpgp.createMessage({ text: MANIFEST_TEXT }),
      signingKeys: alice.privateKey,
      detached: true,
      date: SIGNED,
    });
    const result = await verify(textMode, [alice], {
      bytes: bytesOf(MANIFEST_TEXT.replaceAll("\n", "\r\n")),
    });
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      "a text-mode signature (gpg --textmode), which ignores line-ending changes: sign the exact bytes (binary mode)",
    );
  });
});

describe("verifyBytes: which keys are trusted", () => {
  it("refuses a signature by a key not in the keyring, even with a trusted key's user ID", async () => {
    const result = await verify(await sign(impostor.privateKey), [alice]);
    const id = impostor.publicKey.getKeyID().toHex().toUpperCase();
    expect(result.ok).toBe(false);
    expect(result.signatures[0]).toMatchObject({
      keyFingerprint: undefined,
      signingKeyId: id,
      userId: undefined,
      verdict: "invalid",
      reason: `signed by key ${id}, which is not in keys/`,
    });
    expect(result.reason).toBe(
      `only 0 of 1 required signature from distinct trusted keys: signed by key ${id}, which is not in keys/`,
    );
  });

  it("refuses a signature by a subkey added after the key was pinned in keys/", async () => {
    const extended = await alice.privateKey.addSubkey({ sign: true, date: REVOKED });
    const added = extended.subkeys.at(-1);
    if (!added) throw new Error("no subkey added");
    const armored = await sign(extended, { signingKeyIDs: [added.getKeyID()] });
    const result = await verify(armored, [alice]);
    const id = added.getKeyID().toHex().toUpperCase();
    expect(result.ok).toBe(false);
    expect(result.signatures[0]).toMatchObject({
      keyFingerprint: undefined,
      verdict: "invalid",
      reason: `signed by key ${id}, which is not in keys/`,
    });
  });
});

describe("verifyBytes: dates, expiry and revocation", () => {
  it("refuses a signature dated in the future", async () => {
    const armored = await sign(alice.privateKey, { date: new Date("2024-06-01T01:00:00Z") });
    const result = await verify(armored, [alice]);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      "dated 2024-06-01T01:00:00Z, in the future (now is 2024-06-01T00:00:00Z; at most 5 minutes of clock skew are allowed)",
    );
  });

  it("refuses a signature made after the key had expired", async () => {
    const armored = await signByHand(expiring.privateKey, {
      date: SIGNED,
      hash: enums.hash.sha256,
    });
    const result = await verify(armored, [expiring]);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      `key ${expiring.fingerprint} expired on 2024-01-31, before this signature was made on 2024-03-01T00:00:00Z`,
    );
  });

  it("refuses a key revoked as compromised, even for signatures made before the revocation", async () => {
    const armored = await sign(compromised.privateKey, { date: BEFORE_REVOCATION });
    const revoked = await revoke(compromised, enums.reasonForRevocation.keyCompromised);
    const result = await verify(armored, [revoked]);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      `key ${compromised.fingerprint} was revoked on 2024-02-01 (key compromised), which voids its signatures whatever their date`,
    );
  });

  it("refuses a signing subkey revoked as compromised, even for signatures made before", async () => {
    const copy = await openpgp.readPrivateKey({ armoredKey: twoSubkeys.privateKey.armor() });
    const [first] = copy.subkeys;
    if (!first) throw new Error("no subkey");
    const armored = await sign(copy, {
      date: BEFORE_REVOCATION,
      signingKeyIDs: [first.getKeyID()],
    });
    copy.subkeys[0] = await first.revoke(
      copy.keyPacket as openpgp.SecretKeyPacket,
      { flag: enums.reasonForRevocation.keyCompromised },
      REVOKED,
    );
    const result = await verify(armored, [{ ...twoSubkeys, publicKey: copy.toPublic() }]);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      `signed by subkey ${first.getKeyID().toHex().toUpperCase()}, which was revoked on 2024-02-01 (key compromised): a hard revocation voids its signatures whatever their date`,
    );
  });

  it("refuses a signature made by a retired subkey after its revocation, and accepts one made before", async () => {
    const copy = await openpgp.readPrivateKey({ armoredKey: twoSubkeys.privateKey.armor() });
    const [first] = copy.subkeys;
    if (!first) throw new Error("no subkey");
    const older = await sign(copy, { date: BEFORE_REVOCATION, signingKeyIDs: [first.getKeyID()] });
    const newer = await sign(copy, { date: SIGNED, signingKeyIDs: [first.getKeyID()] });
    copy.subkeys[0] = await first.revoke(
      copy.keyPacket as openpgp.SecretKeyPacket,
      { flag: enums.reasonForRevocation.keyRetired, string: "moved to a token" },
      REVOKED,
    );
    const keyring = [{ ...twoSubkeys, publicKey: copy.toPublic() }];
    const before = await verify(older, keyring);
    expect(before.signatures[0]?.reason).toBe("good signature");
    expect(before.ok).toBe(true);
    const after = await verify(newer, keyring);
    expect(after.ok).toBe(false);
    expect(after.signatures[0]?.reason).toBe(
      `signed by subkey ${first.getKeyID().toHex().toUpperCase()}, which was revoked on 2024-02-01 (key retired: moved to a token), before the signature was made on 2024-03-01T00:00:00Z`,
    );
  });

  it("refuses a signature made by a subkey after it expired, and accepts one made before", async () => {
    const [subkey] = expiringSubkey.privateKey.subkeys;
    if (!subkey) throw new Error("no subkey");
    const id = subkey.getKeyID().toHex().toUpperCase();
    const before = await verify(
      await sign(expiringSubkey.privateKey, {
        date: BEFORE_REVOCATION,
        signingKeyIDs: [subkey.getKeyID()],
      }),
      [expiringSubkey],
    );
    expect(before.signatures[0]).toMatchObject({ signingKeyId: id, reason: "good signature" });
    const after = await verify(
      await signByHand(subkey, { date: SIGNED, hash: enums.hash.sha256 }),
      [expiringSubkey],
    );
    expect(after.ok).toBe(false);
    expect(after.signatures[0]).toMatchObject({
      keyFingerprint: expiringSubkey.fingerprint,
      signingKeyId: id,
      reason: `signed by subkey ${id}, which expired on 2024-01-31, before the signature was made on 2024-03-01T00:00:00Z`,
    });
  });

  it("accepts a superseded key's signatures made before the revocation and refuses later ones", async () => {
    const older = await sign(superseded.privateKey, { date: BEFORE_REVOCATION });
    const newer = await sign(superseded.privateKey, { date: SIGNED });
    const revoked = await revoke(superseded, enums.reasonForRevocation.keySuperseded, "new key");
    const before = await verify(older, [revoked]);
    const after = await verify(newer, [revoked]);
    expect(before.ok).toBe(true);
    expect(before.signatures[0]?.reason).toBe("good signature");
    expect(after.ok).toBe(false);
    expect(after.signatures[0]?.reason).toBe(
      `key ${superseded.fingerprint} was revoked on 2024-02-01 (key superseded: new key), before this signature was made on 2024-03-01T00:00:00Z`,
    );
  });
});

describe("verifyBytes: weak algorithms", () => {
  it("refuses a SHA-1 signature", async () => {
    const armored = await signByHand(nistKey.privateKey, { date: SIGNED, hash: enums.hash.sha1 });
    const result = await verify(armored, [nistKey]);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      "made with SHA1, a hash algorithm that is not accepted (SHA-256 or stronger is required)",
    );
  });

  it("refuses a signature by an RSA-1024 key", async () => {
    const armored = await sign(rsa1024.privateKey, { config: { minRSABits: 1024 } });
    const result = await verify(armored, [rsa1024]);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      `key ${rsa1024.fingerprint}: RSA key of 1024 bits (at least 2048 required)`,
    );
  });
});

describe("verifyBytes: unreadable input", () => {
  async function expectInvalid(attempt: Promise<unknown>, message: string): Promise<void> {
    await expect(attempt).rejects.toBeInstanceOf(InvalidValueError);
    await expect(attempt).rejects.toThrow(message);
  }

  it("throws on truncated armor", async () => {
    const armored = await sign(alice.privateKey);
    await expectInvalid(
      verify(armored.slice(0, armored.length / 2), [alice]),
      "truncated or damaged signature (openpgp: Misformed armored text)",
    );
  });

  it("throws on a .asc that holds a public key, not a signature", async () => {
    await expectInvalid(
      verify(alice.publicKey.armor(), [alice]),
      "not a detached signature: the armor holds a public key",
    );
  });

  it("throws on an empty signature file", async () => {
    await expectInvalid(verify("\n", [alice]), "the signature file is empty");
  });

  it("throws on a threshold below 1", async () => {
    await expectInvalid(
      verify(await sign(alice.privateKey), [alice], { threshold: 0 }),
      "the signature threshold must be a whole number of at least 1, not 0",
    );
  });
});
