import { Command } from "commander";
import { UsageError } from "../../core/errors.js";
import { type Io, jsonOption, resolveRoot, rootOption, table } from "../io.js";

export function verifyCommand(io: Io): Command {
  return new Command("verify")
    .description(
      "check a release's signatures against keys/ and the policy's threshold, then its artifacts",
    )
    .argument("<release-dir>", "the release folder, such as releases/2.4.1")
    .option("--artifacts <dir>", "local copies of the components, checked against size and sha256")
    .option("--fetch", "download the components published at https URLs and check them instead")
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (
        releaseDir: string,
        options: { artifacts?: string; fetch?: boolean; root?: string; json?: boolean },
      ) => {
        const root = resolveRoot(options);
        if (options.artifacts && options.fetch) {
          throw new UsageError("--artifacts and --fetch both name where the components come from", {
            hint: "pass one: --artifacts <dir> for local copies, --fetch to download them",
          });
        }
        const { verifyRelease } = await import("../../trust/verify-release.js");
        const result = await verifyRelease({
          root,
          releaseDir,
          ...(options.artifacts ? { artifactsDir: options.artifacts } : {}),
          ...(options.fetch ? { fetch: true } : {}),
        });
        process.exitCode = result.ok ? 0 : 1;
        if (options.json) {
          io.out(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        const { signatures } = result;
        io.out(`${result.file}: ${result.ok ? "verified" : "error"}: ${result.summary}\n`);
        io.out(`  threshold ${signatures.threshold} (from ${result.thresholdFrom})\n\n`);
        io.out(
          table([
            ["", "key", "signer", "created", "reason"],
            ...signatures.signatures.map((s) => [
              s.verdict === "valid" ? "✓" : "✗",
              s.keyFingerprint ?? s.signingKeyId,
              s.userId ?? "(unknown key)",
              s.created?.toISOString() ?? "?",
              s.reason,
            ]),
          ]),
        );
        if (result.files.length > 0) {
          io.out("\n");
          io.out(
            table([
              ["", "file", "sha256", "reason"],
              ...result.files.map((f) => [
                f.verdict === "valid" ? "✓" : "✗",
                f.file,
                `${f.sha256.slice(0, 12)}…`,
                f.reason,
              ]),
            ]),
          );
        }
        if (result.artifacts) {
          io.out("\n");
          io.out(
            table([
              ["", "component", "file", "size", "sha256", "reason"],
              ...result.artifacts.map((a) => [
                a.verdict === "valid" ? "✓" : "✗",
                a.component,
                a.path,
                String(a.actualSize ?? "-"),
                a.actualSha256 ? `${a.actualSha256.slice(0, 12)}…` : "-",
                a.reason,
              ]),
            ]),
          );
        }
        const { describeKeyringProblem } = await import("../../trust/keyring.js");
        for (const problem of result.keyProblems) {
          io.err(`pinline: ${problem.severity}: ${describeKeyringProblem(problem)}\n`);
        }
      },
    );
}
