import * as openpgp from "openpgp";
import { beforeAll, describe, expect, it } from "vitest";
import {
  algorithmProblem,
  checkSignerKey,
  describeKey,
  findSubkeyProblem,
  TRUST_CONFIG,
} from "./key-policy.js";

const { enums } = openpgp;

const CREATED = new Date("2024-01-01T00:00:00Z");
const REVOKED = new Date("2024-02-01T00:00:00Z");
const LATER = new Date("2024-06-01T00:00:00Z");

async function makeKey(name: string, keyExpirationTime?: number) {
  return openpgp.generateKey({
    userIDs: [{ name, email: `${name}@example.org` }],
    date: CREATED,
    ...(keyExpirationTime ? { keyExpirationTime } : {}),
    format: "object",
  });
}

let plain: Awaited<ReturnType<typeof makeKey>>;
let expiring: Awaited<ReturnType<typeof makeKey>>;

beforeAll(async () => {
  [plain, expiring] = await Promise.all([makeKey("alice"), makeKey("bob", 30 * 24 * 3600)]);
});

async function revoked(flag: openpgp.enums.reasonForRevocation): Promise<openpgp.PublicKey> {
  const { publicKey } = await openpgp.revokeKey({
    key: plain.privateKey,
    reasonForRevocation: { flag },
    date: REVOKED,
    format: "object",
  });
  return publicKey;
}

describe("TRUST_CONFIG", () => {
  it("states the rules: RSA from 2048 bits, no MD5/RIPEMD/SHA-1, no DSA/ElGamal", () => {
    expect(TRUST_CONFIG.minRSABits).toBe(2048);
    for (const hashes of [
      TRUST_CONFIG.rejectHashAlgorithms,
      TRUST_CONFIG.rejectMessageHashAlgorithms,
    ]) {
      expect([...hashes].sort()).toEqual(
        [enums.hash.md5, enums.hash.sha1, enums.hash.ripemd].sort(),
      );
    }
    expect([...TRUST_CONFIG.rejectPublicKeyAlgorithms].sort()).toEqual(
      [enums.publicKey.dsa, enums.publicKey.elgamal].sort(),
    );
  });
});

describe("algorithmProblem", () => {
  for (const { info, problem } of [
    { info: { algorithm: "dsa", bits: 3072 }, problem: "DSA keys are not accepted" },
    {
      info: { algorithm: "elgamal", bits: 4096 },
      problem: "ElGamal keys are not accepted (ElGamal cannot sign)",
    },
    {
      info: { algorithm: "rsaEncryptSign", bits: 1024 },
      problem: "RSA key of 1024 bits (at least 2048 required)",
    },
    {
      info: { algorithm: "rsaSign", bits: 2047 },
      problem: "RSA key of 2047 bits (at least 2048 required)",
    },
    { info: { algorithm: "rsaEncryptSign", bits: 2048 }, problem: undefined },
    { info: { algorithm: "eddsaLegacy", curve: "ed25519Legacy" }, problem: undefined },
    { info: { algorithm: "ed25519" }, problem: undefined },
  ] as { info: openpgp.AlgorithmInfo; problem: string | undefined }[]) {
    it(`${problem ? "refuses" : "accepts"} ${info.algorithm} ${info.bits ?? info.curve ?? ""}`, () => {
      expect(algorithmProblem(info)).toBe(problem);
    });
  }
});

describe("describeKey", () => {
  it("describes a key that never expires", async () => {
    const description = await describeKey(plain.publicKey);
    expect(description).toEqual({
      fingerprint: plain.publicKey.getFingerprint().toUpperCase(),
      keyId: plain.publicKey.getKeyID().toHex().toUpperCase(),
      userIds: ["alice <alice@example.org>"],
      created: CREATED,
      expires: "never",
      revoked: undefined,
      algorithm: "Ed25519 (legacy EdDSA)",
    });
    expect(description.fingerprint).toMatch(/^[0-9A-F]{40}$/);
  });

  it("gives the expiry date of an expiring key", async () => {
    expect((await describeKey(expiring.publicKey)).expires).toEqual(
      new Date("2024-01-31T00:00:00Z"),
    );
  });

  it("tells a hard revocation from a soft one", async () => {
    expect(
      (await describeKey(await revoked(enums.reasonForRevocation.keyCompromised))).revoked,
    ).toEqual({ date: REVOKED, reason: "key compromised", hard: true });
    expect((await describeKey(await revoked(enums.reasonForRevocation.noReason))).revoked).toEqual({
      date: REVOKED,
      reason: "no reason given",
      hard: true,
    });
    expect(
      (await describeKey(await revoked(enums.reasonForRevocation.keyRetired))).revoked,
    ).toEqual({
      date: REVOKED,
      reason: "key retired",
      hard: false,
    });
  });
});

describe("checkSignerKey", () => {
  it("accepts a valid Ed25519 key", async () => {
    expect(await checkSignerKey(plain.publicKey, LATER)).toBeUndefined();
  });

  it("refuses a key that has expired", async () => {
    expect(await checkSignerKey(expiring.publicKey, LATER)).toBe("expired on 2024-01-31");
    expect(
      await checkSignerKey(expiring.publicKey, new Date("2024-01-15T00:00:00Z")),
    ).toBeUndefined();
  });

  it("refuses a compromised key whatever the date, a retired one only from its revocation", async () => {
    const compromised = await revoked(enums.reasonForRevocation.keyCompromised);
    const retired = await revoked(enums.reasonForRevocation.keyRetired);
    const before = new Date("2024-01-15T00:00:00Z");
    expect(await checkSignerKey(compromised, before)).toBe(
      "revoked on 2024-02-01 (key compromised)",
    );
    expect(await checkSignerKey(retired, before)).toBeUndefined();
    expect(await checkSignerKey(retired, LATER)).toBe("revoked on 2024-02-01 (key retired)");
  });

  it("refuses a key at a date before it was created", async () => {
    expect(await checkSignerKey(plain.publicKey, new Date("2023-12-01T00:00:00Z"))).toBe(
      "was created on 2024-01-01T00:00:00Z, after 2023-12-01T00:00:00Z",
    );
  });
});

describe("findSubkeyProblem", () => {
  const DAY = 24 * 3600;
  let withSubkeys: Awaited<ReturnType<typeof makeKey>>;
  beforeAll(async () => {
    withSubkeys = await openpgp.generateKey({
      userIDs: [{ name: "sam", email: "sam@example.org" }],
      date: CREATED,
      subkeys: [{ sign: true, keyExpirationTime: 30 * DAY }, { sign: true }, {}],
      format: "object",
    });
  });
  const subkey = (key: openpgp.PublicKey | openpgp.PrivateKey, index: number) =>
    key.subkeys[index] as openpgp.Subkey;

  it("accepts a signing subkey within its validity", async () => {
    const key = withSubkeys.publicKey;
    expect(
      await findSubkeyProblem(subkey(key, 0), new Date("2024-01-15T00:00:00Z")),
    ).toBeUndefined();
    expect(await findSubkeyProblem(subkey(key, 1), LATER)).toBeUndefined();
  });

  it("says when a subkey expired, and refuses one not yet created", async () => {
    expect(await findSubkeyProblem(subkey(withSubkeys.publicKey, 0), LATER)).toEqual({
      kind: "expired",
      reason: "expired on 2024-01-31",
    });
    expect(
      await findSubkeyProblem(subkey(withSubkeys.publicKey, 1), new Date("2023-12-01T00:00:00Z")),
    ).toMatchObject({ kind: "not-yet-created" });
  });

  it("refuses an encryption subkey as a signer", async () => {
    expect(await findSubkeyProblem(subkey(withSubkeys.publicKey, 2), LATER)).toEqual({
      kind: "no-signing-key",
      reason: "is not allowed to sign (its key flags say so)",
    });
  });

  it("says when a subkey was revoked: a retired one from its date, a compromised one always", async () => {
    const revokeSubkey = async (flag: openpgp.enums.reasonForRevocation) => {
      const copy = await openpgp.readPrivateKey({ armoredKey: withSubkeys.privateKey.armor() });
      copy.subkeys[1] = await subkey(copy, 1).revoke(
        copy.keyPacket as openpgp.SecretKeyPacket,
        { flag },
        REVOKED,
      );
      return subkey(copy.toPublic(), 1);
    };
    const before = new Date("2024-01-15T00:00:00Z");
    const retired = await revokeSubkey(enums.reasonForRevocation.keyRetired);
    expect(await findSubkeyProblem(retired, before)).toBeUndefined();
    expect(await findSubkeyProblem(retired, LATER)).toMatchObject({
      kind: "revoked",
      reason: "was revoked on 2024-02-01 (key retired)",
    });
    const compromised = await revokeSubkey(enums.reasonForRevocation.keyCompromised);
    expect(await findSubkeyProblem(compromised, before)).toMatchObject({
      kind: "revoked",
      reason: "was revoked on 2024-02-01 (key compromised)",
      revocation: { hard: true },
    });
  });
});
