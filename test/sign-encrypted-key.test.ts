import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { copyExample, removeCopies } from "./harness/example-repo.js";
import { runPinlineInProcess } from "./harness/in-process.js";

/**
 * Signing with a passphrase-protected key, in process (the bundle in dist/ is built separately):
 * each refusal names what to pass where the key was given — `--passphrase-env VAR` at the
 * terminal, the `passphrase` input in actions/sign — and writes no signature.
 */
afterAll(removeCopies);

const PASSPHRASE = "correct horse battery staple";
const RELEASE = "releases/2.5.0-nightly.20240315";
const USER_ID = "Encrypted Signer <encrypted@cm-diagnostics.example.com>";

let key: { privateKey: string; publicKey: string; fingerprint: string };

beforeAll(async () => {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "Encrypted Signer", email: "encrypted@cm-diagnostics.example.com" }],
    passphrase: PASSPHRASE,
    format: "armored",
  });
  const fingerprint = (await openpgp.readKey({ armoredKey: publicKey }))
    .getFingerprint()
    .toUpperCase();
  key = { privateKey, publicKey, fingerprint };
});

/** A copy of the example repository that trusts the key, with the nightly left unsigned. */
function repository(): { root: string; dir: string; keyFile: string; signature: string } {
  const root = copyExample();
  const keyFile = join(root, "encrypted.private.asc");
  writeFileSync(keyFile, key.privateKey);
  writeFileSync(join(root, "keys/encrypted.asc"), key.publicKey);
  const signature = join(root, RELEASE, "release.yaml.asc");
  rmSync(signature);
  // Absolute: `pinline sign` reads a relative release folder from the current directory.
  return { root, dir: join(root, RELEASE), keyFile, signature };
}

const ENV = "PINLINE_TEST_SIGNING_PASSPHRASE";

afterEach(() => {
  delete process.env[ENV];
  vi.restoreAllMocks();
});

describe("pinline sign with an encrypted key", () => {
  it("without --passphrase-env, names the key and the file and says to pass --passphrase-env VAR", async () => {
    const { root, dir, keyFile, signature } = repository();
    const run = await runPinlineInProcess(["sign", dir, "--key", keyFile, "--root", root]);
    expect(run.stderr).toBe(
      `pinline: error: the key ${key.fingerprint} (${USER_ID}) in ${keyFile} is encrypted: pass --passphrase-env VAR naming an environment variable that holds its passphrase\n`,
    );
    expect(run.code).toBe(2);
    expect(existsSync(signature)).toBe(false);
  });

  it("with a wrong passphrase, says the passphrase in $VAR does not unlock the key", async () => {
    const { root, dir, keyFile, signature } = repository();
    process.env[ENV] = "wrong";
    const run = await runPinlineInProcess([
      "sign",
      dir,
      "--key",
      keyFile,
      "--passphrase-env",
      ENV,
      "--root",
      root,
    ]);
    expect(run.stderr).toBe(
      `pinline: error: the passphrase in $${ENV} does not unlock the key ${key.fingerprint} (${USER_ID}) in ${keyFile}\n`,
    );
    expect(run.code).toBe(1);
    expect(existsSync(signature)).toBe(false);
  });

  it("with --passphrase-env naming an unset variable, says that variable is not set", async () => {
    const { root, dir, keyFile, signature } = repository();
    const run = await runPinlineInProcess([
      "sign",
      dir,
      "--key",
      keyFile,
      "--passphrase-env",
      ENV,
      "--root",
      root,
    ]);
    expect(run.stderr).toBe(
      `pinline: error: --passphrase-env names ${ENV}, which is not set (set ${ENV} to the passphrase of the key in ${keyFile}, or leave out --passphrase-env for a key without one)\n`,
    );
    expect(run.code).toBe(2);
    expect(existsSync(signature)).toBe(false);
  });

  it("with the right passphrase in the variable, signs", async () => {
    const { root, dir, keyFile, signature } = repository();
    process.env[ENV] = PASSPHRASE;
    const run = await runPinlineInProcess([
      "sign",
      dir,
      "--key",
      keyFile,
      "--passphrase-env",
      ENV,
      "--root",
      root,
    ]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(`signed: ${RELEASE}/release.yaml.asc now holds 1 signature\n`);
    expect(run.code).toBe(0);
    expect(existsSync(signature)).toBe(true);
  });
});

describe("actions/sign with an encrypted key", () => {
  const INPUTS = ["INPUT_RELEASE", "INPUT_PRIVATE-KEY", "INPUT_PASSPHRASE", "INPUT_ROOT"];
  const scratch = mkdtempSync(join(tmpdir(), "pinline-sign-action-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  afterEach(() => {
    for (const name of [...INPUTS, "GITHUB_WORKSPACE", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
      delete process.env[name];
    process.exitCode = undefined;
  });

  /** Runs src/actions/sign.ts in process with these inputs; returns the message it fails with. */
  async function signAction(root: string, passphrase: string): Promise<string> {
    Object.assign(process.env, {
      INPUT_RELEASE: RELEASE,
      "INPUT_PRIVATE-KEY": key.privateKey,
      INPUT_PASSPHRASE: passphrase,
      INPUT_ROOT: ".",
      GITHUB_WORKSPACE: root,
      GITHUB_OUTPUT: join(scratch, "output"),
      GITHUB_STEP_SUMMARY: join(scratch, "summary"),
    });
    writeFileSync(join(scratch, "output"), "");
    writeFileSync(join(scratch, "summary"), "");
    const failed = new Promise<string>((resolve) => {
      vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
        const line = String(chunk);
        if (line.startsWith("::error::")) resolve(line.slice("::error::".length).trim());
        return true;
      });
    });
    vi.resetModules();
    await import("../src/actions/sign.js");
    const message = await failed;
    vi.restoreAllMocks();
    return message;
  }

  it("without the passphrase input, names the key and says to set the passphrase input", async () => {
    const { root, signature } = repository();
    expect(await signAction(root, "")).toBe(
      `the key ${key.fingerprint} (${USER_ID}) in the private-key input is encrypted: set the passphrase input to a secret that holds its passphrase`,
    );
    expect(process.exitCode).toBe(1);
    expect(existsSync(signature)).toBe(false);
  });

  it("with a wrong passphrase input, says the passphrase input does not unlock the key", async () => {
    const { root, signature } = repository();
    expect(await signAction(root, "wrong")).toBe(
      `the passphrase input does not unlock the key ${key.fingerprint} (${USER_ID}) in the private-key input`,
    );
    expect(existsSync(signature)).toBe(false);
  });
});
