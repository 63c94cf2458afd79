import { resolve } from "node:path";
import * as core from "@actions/core";
import { describeFailure } from "../github/describe-github-error.js";
import { signRelease } from "../trust/sign-release.js";
import { actionRoot, maskLines } from "./shared/workspace.js";

/**
 * actions/sign: signs releases/<version>/release.yaml with the key from a secret and adds the
 * signature to release.yaml.asc. The key and passphrase are masked line by line before anything
 * else runs, so no log line can show them. A signer whose key keys/ does not trust still signs,
 * with a warning annotation and a warning in the summary.
 */
async function run(): Promise<void> {
  const armoredPrivateKey = core.getInput("private-key", { required: true });
  maskLines(armoredPrivateKey);
  const passphrase = core.getInput("passphrase");
  if (passphrase) core.setSecret(passphrase);

  const root = actionRoot();
  const signed = await signRelease({
    root,
    releaseDir: resolve(root, core.getInput("release", { required: true })),
    armoredPrivateKey,
    ...(passphrase ? { passphrase } : {}),
    keySource: {
      key: "the private-key input",
      howToGivePassphrase: "set the passphrase input to a secret that holds its passphrase",
      passphrase: "the passphrase input",
    },
  });
  core.setOutput("signature-file", signed.file);
  core.setOutput("signatures", signed.signatures);
  core.setOutput("signer", signed.signer.fingerprint);
  for (const warning of signed.warnings) core.warning(warning, { title: "pinline sign" });
  const summary = core.summary.addHeading("pinline sign", 2);
  for (const warning of signed.warnings) summary.addRaw(`> [!WARNING]\n> ${warning}\n\n`);
  await summary
    .addTable([
      [
        { data: "signature file", header: true },
        { data: "signed by", header: true },
        { data: "signatures in the file", header: true },
      ],
      [
        signed.file,
        `${signed.signer.fingerprint} ${signed.signer.userId ?? ""}`,
        String(signed.signatures),
      ],
    ])
    .write();
}

run().catch((error: unknown) => {
  core.setFailed(describeFailure(error) ?? String(error));
});
