import { readFileSync } from "node:fs";
import { Command } from "commander";
import { UsageError } from "../../core/errors.js";
import { type Io, jsonOption, plural, resolveRoot, rootOption } from "../io.js";

export function signCommand(io: Io): Command {
  return new Command("sign")
    .description(
      "sign a release manifest (release.yaml) into release.yaml.asc; a second signer appends",
    )
    .argument("<release-dir>", "the release folder, such as releases/2.4.1")
    .requiredOption("--key <file>", "the signer's ASCII-armored private key")
    .option("--passphrase-env <var>", "environment variable that holds the key's passphrase")
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (
        releaseDir: string,
        options: { key: string; passphraseEnv?: string; root?: string; json?: boolean },
      ) => {
        const root = resolveRoot(options);
        const armoredPrivateKey = readKeyFile(options.key);
        const passphrase = readPassphrase(options.passphraseEnv, options.key);
        // Loaded on use: OpenPGP is most of the bundle, and `pinline validate` needs none of it.
        const { signRelease } = await import("../../trust/sign-release.js");
        const signed = await signRelease({
          root,
          releaseDir,
          armoredPrivateKey,
          ...(passphrase !== undefined ? { passphrase } : {}),
          keySource: {
            key: options.key,
            howToGivePassphrase:
              "pass --passphrase-env VAR naming an environment variable that holds its passphrase",
            passphrase: `the passphrase in $${options.passphraseEnv ?? "VAR"}`,
          },
        });
        for (const warning of signed.warnings) io.err(`pinline: warning: ${warning}\n`);
        if (options.json) io.out(`${JSON.stringify({ ok: true, ...signed }, null, 2)}\n`);
        else io.out(`signed: ${signed.file} now holds ${plural(signed.signatures, "signature")}\n`);
      },
    );
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new UsageError(`cannot read the key file ${path}: ${(cause as Error).message}`);
  }
}

/** The passphrase comes from the environment, never from the command line (shell history). */
function readPassphrase(variable: string | undefined, keyFile: string): string | undefined {
  if (variable === undefined) return undefined;
  const value = process.env[variable];
  if (value === undefined) {
    throw new UsageError(`--passphrase-env names ${variable}, which is not set`, {
      hint: `set ${variable} to the passphrase of the key in ${keyFile}, or leave out --passphrase-env for a key without one`,
    });
  }
  return value;
}
