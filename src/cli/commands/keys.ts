import { Command } from "commander";
import { type Io, jsonOption, resolveRoot, rootOption, table } from "../io.js";

export function keysCommand(io: Io): Command {
  const keys = new Command("keys").description(
    "the trusted public keys of release signers (keys/)",
  );
  keys
    .command("add")
    .description("check a public key (algorithm, size, expiry, revocation) and add it to keys/")
    .argument("<file>", "an ASCII-armored public key")
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(async (file: string, options: { root?: string; json?: boolean }) => {
      const { addKey } = await import("../../trust/manage-keys.js");
      const result = await addKey({ root: resolveRoot(options), file });
      if (options.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
      else if (result.added)
        io.out(
          `added ${result.key.fingerprint} (${result.key.userIds[0] ?? "no user id"}) as ${result.file}\n`,
        );
      else
        io.out(`${result.key.fingerprint} is already trusted (${result.file}); nothing changed\n`);
    });
  keys
    .command("list")
    .description(
      "fingerprints, user ids, expiry and revocation of the keys in keys/; exits 1 when keys/ holds a private key or a block that cannot be used",
    )
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(async (options: { root?: string; json?: boolean }) => {
      const { listKeys } = await import("../../trust/manage-keys.js");
      const { formatDay } = await import("../../trust/key-policy.js");
      const { describeKeyringProblem, keyringErrors } = await import("../../trust/keyring.js");
      const listed = await listKeys(resolveRoot(options));
      // keys/ that holds a private key, an unreadable block or a stray revocation is broken.
      process.exitCode = keyringErrors(listed.problems).length > 0 ? 1 : 0;
      if (options.json) {
        io.out(`${JSON.stringify(listed, null, 2)}\n`);
        return;
      }
      io.out(
        table([
          ["fingerprint", "user id", "algorithm", "created", "expires", "revoked", "can sign"],
          ...listed.keys.map((k) => [
            k.fingerprint,
            k.userIds[0] ?? "",
            k.algorithm,
            formatDay(k.created),
            k.expires instanceof Date ? formatDay(k.expires) : k.expires,
            k.revoked ? `${formatDay(k.revoked.date)} (${k.revoked.reason})` : "no",
            k.problem ? `no: ${k.problem}` : "yes",
          ]),
        ]),
      );
      for (const problem of listed.problems)
        io.err(`pinline: ${problem.severity}: ${describeKeyringProblem(problem)}\n`);
    });
  return keys;
}
