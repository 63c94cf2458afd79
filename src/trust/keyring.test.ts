import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeKey } from "./key-policy.js";
import { loadKeyring } from "./keyring.js";

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

beforeAll(async () => {
  [alice, bob] = await Promise.all([makeKey("alice"), makeKey("bob")]);
});

const fingerprintOf = (key: openpgp.Key) => key.getFingerprint().toUpperCase();

describe("loadKeyring", () => {
  it("holds no keys when keys/ does not exist", async () => {
    expect(await loadKeyring(join(root, "missing"))).toEqual({ keys: [], problems: [] });
  });

  it("reads every .asc, including a file that holds several public keys", async () => {
    const both = new Uint8Array([...alice.publicKey.write(), ...bob.publicKey.write()]);
    writeFileSync(join(keysDir, "team.asc"), openpgp.armor(enums.armor.publicKey, both));
    writeFileSync(join(keysDir, "README.md"), "not a key");
    const { keys, problems } = await loadKeyring(keysDir);
    expect(problems).toEqual([]);
    expect(keys.map((k) => [k.file, k.fingerprint])).toEqual([
      ["keys/team.asc", fingerprintOf(alice.publicKey)],
      ["keys/team.asc", fingerprintOf(bob.publicKey)],
    ]);
  });

  it("reports a private key in keys/ and does not trust it", async () => {
    writeFileSync(join(keysDir, "alice.asc"), alice.privateKey.armor());
    const { keys, problems } = await loadKeyring(keysDir);
    expect(keys).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.file).toBe("keys/alice.asc");
    expect(problems[0]?.reason).toMatch(/^holds a PRIVATE key: only public keys belong in keys\/ /);
  });

  it("reports unreadable armor with openpgp's message, and still loads the other files", async () => {
    writeFileSync(
      join(keysDir, "broken.asc"),
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64",
    );
    writeFileSync(join(keysDir, "empty.asc"), "");
    writeFileSync(join(keysDir, "bob.asc"), bob.publicKey.armor());
    const { keys, problems } = await loadKeyring(
      keysDir,
      (path) => `custom:${path.slice(root.length)}`,
    );
    expect(keys.map((k) => k.fingerprint)).toEqual([fingerprintOf(bob.publicKey)]);
    expect(problems).toEqual([
      {
        file: "custom:/keys/broken.asc",
        reason: "is not a readable OpenPGP public key: Misformed armored text",
      },
      {
        file: "custom:/keys/empty.asc",
        reason: "is empty: it should hold an ASCII-armored public key",
      },
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
