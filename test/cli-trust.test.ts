import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, describe, expect, it } from "vitest";
import {
  copyExample,
  edit,
  removeCopies,
  replaceOnce,
  repoRoot,
  runPinline,
} from "./harness/example-repo.js";

/**
 * sign, verify, keys and release create, run through the CLI bundle on copies of the example
 * repository, signed by its two example keys (policies/production.yaml wants 2 signatures).
 */
afterAll(removeCopies);

const KEY_1 = join(repoRoot, "examples/signing-keys/cm-diagnostics-example-1.private.asc");
const KEY_2 = join(repoRoot, "examples/signing-keys/cm-diagnostics-example-2.private.asc");
const FPR_1 = "EF13F75E36F1146F2C0430C21D01C25370214718";

describe("pinline verify", () => {
  it("trusts the example release 2.4.1: two good signatures from the two example keys", () => {
    const run = runPinline(["verify", "releases/2.4.1"]);
    expect(run.stdout.split("\n")[0]).toBe(
      "releases/2.4.1/release.yaml: verified: 2 of 2 required signatures from distinct trusted keys; 4 SQL files match the manifest",
    );
    expect(run.stdout).toContain("threshold 2 (from policies/production.yaml)");
    expect(run.stdout).toContain(`✓  ${FPR_1}  CM Diagnostics example release manager 1`);
    expect(run.code).toBe(0);
  });

  it("refuses 2.4.1 with one byte changed, naming the file and the reason", () => {
    const root = copyExample();
    edit(root, "releases/2.4.1/release.yaml", replaceOnce("Memory leak", "Memory leek"));
    const run = runPinline(["verify", "releases/2.4.1"], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stdout.split("\n")[0]).toMatch(
      /^releases\/2\.4\.1\/release\.yaml: error: only 0 of 2 required signatures from distinct trusted keys.*the signature does not match the manifest's bytes/,
    );
  });

  it("refuses a release without a signature file and says how to sign it", () => {
    const root = copyExample();
    rmSync(join(root, "releases/2.4.1/release.yaml.asc"));
    const run = runPinline(["verify", "releases/2.4.1"], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "pinline: error: releases/2.4.1/release.yaml: is not signed: releases/2.4.1/release.yaml.asc does not exist (sign it: pinline sign releases/2.4.1 --key <private key file>)",
    );
  });

  it("prints one verdict per signature with --json", () => {
    const run = runPinline(["verify", "releases/2.4.1", "--json"]);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      ok: true,
      version: "2.4.1",
      thresholdFrom: "policies/production.yaml",
    });
    expect(result.signatures.signatures).toHaveLength(2);
    expect(result.signatures.validKeys).toContain(FPR_1);
  });
});

describe("pinline sign", () => {
  it("collects two signers in one release.yaml.asc and refuses the same signer twice", () => {
    const root = copyExample();
    rmSync(join(root, "releases/2.4.0/release.yaml.asc"));
    const first = runPinline(["sign", "releases/2.4.0", "--key", KEY_1], { cwd: root });
    expect(first.stdout).toBe("signed: releases/2.4.0/release.yaml.asc now holds 1 signature\n");
    expect(first.code).toBe(0);
    const short = runPinline(["verify", "releases/2.4.0"], { cwd: root });
    expect(short.code).toBe(1);
    expect(short.stdout).toContain("only 1 of 2 required signatures");

    const again = runPinline(["sign", "releases/2.4.0", "--key", KEY_1], { cwd: root });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`already signed by ${FPR_1}`);

    const second = runPinline(["sign", "releases/2.4.0", "--key", KEY_2], { cwd: root });
    expect(second.stdout).toBe("signed: releases/2.4.0/release.yaml.asc now holds 2 signatures\n");
    expect(runPinline(["verify", "releases/2.4.0"], { cwd: root }).code).toBe(0);
  });

  it("unlocks an encrypted key with the passphrase from the environment, never from argv", async () => {
    const root = copyExample();
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Encrypted Signer", email: "encrypted@cm-diagnostics.example.com" }],
      passphrase: "correct horse battery staple",
      format: "armored",
    });
    const keyFile = join(root, "encrypted.private.asc");
    writeFileSync(keyFile, privateKey);
    writeFileSync(join(root, "keys/encrypted.asc"), publicKey);
    rmSync(join(root, "releases/2.5.0-nightly.20240315/release.yaml.asc"));

    const sign = (passphrase: string | undefined) =>
      runPinline(
        [
          "sign",
          "releases/2.5.0-nightly.20240315",
          "--key",
          keyFile,
          "--passphrase-env",
          "SIGNING_PASSPHRASE",
        ],
        { cwd: root, env: { SIGNING_PASSPHRASE: passphrase } },
      );

    const unset = sign(undefined);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("--passphrase-env names SIGNING_PASSPHRASE, which is not set");

    // What the refusals say is in test/sign-encrypted-key.test.ts, run in process.
    const wrong = sign("wrong");
    expect(wrong.code).toBe(1);
    expect(existsSync(join(root, "releases/2.5.0-nightly.20240315/release.yaml.asc"))).toBe(false);

    const signed = sign("correct horse battery staple");
    expect(signed.code).toBe(0);
    // The nightly only reaches pre-production, whose policy wants 1 signature.
    const verified = runPinline(["verify", "releases/2.5.0-nightly.20240315"], { cwd: root });
    expect(verified.stdout.split("\n")[0]).toBe(
      "releases/2.5.0-nightly.20240315/release.yaml: verified: 1 of 1 required signature from distinct trusted keys; 2 SQL files match the manifest",
    );
  });
});

describe("pinline keys", () => {
  it("lists the trusted keys with fingerprint, expiry and whether they can sign", () => {
    const run = runPinline(["keys", "list"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      /^fingerprint\s+user id\s+algorithm\s+created\s+expires\s+revoked\s+can sign$/,
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${FPR_1}\\s+CM Diagnostics example release manager 1 .*\\s2036-11-27\\s+no\\s+yes$`,
      ),
    );
  });

  it("adds a sound key once, and refuses private keys and weak keys", async () => {
    const root = copyExample();
    const sound = await openpgp.generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "New Signer", email: "new.signer@cm-diagnostics.example.com" }],
      format: "armored",
    });
    writeFileSync(join(root, "new.asc"), sound.publicKey);
    writeFileSync(join(root, "new.private.asc"), sound.privateKey);
    const added = runPinline(["keys", "add", "new.asc"], { cwd: root });
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(
      /^added [0-9A-F]{40} \(New Signer <new\.signer@cm-diagnostics\.example\.com>\) as keys\/new-signer-[0-9a-f]{8}\.asc\n$/,
    );
    const again = runPinline(["keys", "add", "new.asc"], { cwd: root });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("is already trusted");

    const secret = runPinline(["keys", "add", "new.private.asc"], { cwd: root });
    expect(secret.code).toBe(1);
    expect(secret.stderr).toContain("holds a PRIVATE key: keys/ holds public keys only");

    const weak = await openpgp.generateKey({
      type: "rsa",
      rsaBits: 1024,
      userIDs: [{ name: "Weak Signer", email: "weak@cm-diagnostics.example.com" }],
      format: "armored",
      config: { minRSABits: 1024 },
    });
    writeFileSync(join(root, "weak.asc"), weak.publicKey);
    const refused = runPinline(["keys", "add", "weak.asc"], { cwd: root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /refused [0-9A-F]{40} \(Weak Signer <weak@cm-diagnostics\.example\.com>\): .*1024/,
    );
  });
});

describe("pinline release create", () => {
  it("scaffolds a release with checksums that validate reports only as unsigned, then signs and verifies it with its artifacts", () => {
    const root = copyExample();
    const artifacts = join(root, "artifacts");
    mkdirSync(artifacts);
    writeFileSync(join(artifacts, "backend-2.4.2.tar"), "backend image bytes\n");
    writeFileSync(join(artifacts, "frontend-2.4.2.tgz"), "frontend bundle bytes\n");
    const created = runPinline(["release", "create", "2.4.2", "--artifacts", "artifacts"], {
      cwd: root,
    });
    expect(created.stderr).toBe("");
    expect(created.stdout).toContain("created releases/2.4.2/release.yaml");
    expect(created.code).toBe(0);
    const manifest = readFileSync(join(root, "releases/2.4.2/release.yaml"), "utf8");
    expect(manifest).toContain('from: "2.4.1"');

    // The artifacts' local file names stand where the published ones belong until replaced.
    const scaffolded = runPinline(["validate"], { cwd: root });
    expect(scaffolded.stdout).toMatch(/error: artifact "backend-2\.4\.2\.tar" is a bare file name/);
    expect(scaffolded.stdout).toMatch(
      /error: artifact "frontend-2\.4\.2\.tgz" is a bare file name/,
    );
    edit(root, "releases/2.4.2/release.yaml", (t) =>
      t
        .replace('"backend-2.4.2.tar"', '"ghcr.io/acme/backend:2.4.2"')
        .replace(
          '"frontend-2.4.2.tgz"',
          '"https://downloads.cm-diagnostics.example.com/frontend-2.4.2.tgz"',
        ),
    );

    const validated = runPinline(["validate"], { cwd: root });
    expect(validated.stdout.split("\n").filter((l) => l.includes(": error: "))).toEqual([
      expect.stringMatching(
        /^releases\/2\.4\.2\/release\.yaml:\d+:\d+: error: 2\.4\.2 is not signed/,
      ),
    ]);

    expect(runPinline(["sign", "releases/2.4.2", "--key", KEY_1], { cwd: root }).code).toBe(0);
    expect(runPinline(["sign", "releases/2.4.2", "--key", KEY_2], { cwd: root }).code).toBe(0);
    expect(runPinline(["validate"], { cwd: root }).code).toBe(0);
    const verified = runPinline(["verify", "releases/2.4.2", "--artifacts", "artifacts"], {
      cwd: root,
    });
    expect(verified.stdout.split("\n")[0]).toBe(
      "releases/2.4.2/release.yaml: verified: 2 of 2 required signatures from distinct trusted keys; 2 artifacts match",
    );
    expect(verified.code).toBe(0);

    writeFileSync(join(artifacts, "frontend-2.4.2.tgz"), "frontend bundle bytes!\n");
    const longer = runPinline(["verify", "releases/2.4.2", "--artifacts", "artifacts"], {
      cwd: root,
    });
    expect(longer.code).toBe(1);
    expect(longer.stdout.split("\n")[0]).toMatch(
      /^releases\/2\.4\.2\/release\.yaml: error: component frontend \(frontend-2\.4\.2\.tgz\): is longer than the manifest's size/,
    );
  });

  it("refuses a version that exists or does not sort after its channel's latest", () => {
    const root = copyExample();
    const exists = runPinline(["release", "create", "2.4.1"], { cwd: root });
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/2\.4\.1 already exists/);
    const older = runPinline(["release", "create", "2.3.5"], { cwd: root });
    expect(older.code).toBe(1);
    expect(older.stderr).toContain("2.4.1");
    expect(existsSync(join(root, "releases/2.3.5"))).toBe(false);
  });
});
