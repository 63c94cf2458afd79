import { availableParallelism } from "node:os";
import { relative, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import packageJson from "../../package.json" with { type: "json" };
import { exitCodeOf, PinlineError } from "../core/errors.js";
import { findRoot } from "../repo/find-root.js";
import { formatFinding } from "../repo/findings.js";
import { validateTree } from "../repo/validate-tree.js";

/**
 * `pinline <verb>`: the same logic as the actions, for engineers at a terminal and for
 * scripts (`--json`). Exit codes: 0 ok, 1 the check failed or was refused, 2 usage error.
 */
export function buildProgram(io: { out: (s: string) => void; err: (s: string) => void }): Command {
  const program = new Command("pinline")
    .description("GitOps update lifecycle: releases, policies and environment pins in git")
    .version(packageJson.version)
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const rootOption = () =>
    new Option("--root <dir>", "the repository (default: the one around the current directory)");
  const jsonOption = () => new Option("--json", "machine-readable output on stdout");

  program
    .command("validate")
    .description(
      "check every release, policy and environment against its schema and the cross-file rules",
    )
    .addOption(rootOption())
    .addOption(jsonOption())
    .addOption(
      new Option("--jobs <n>", "threads that read release folders (large trees only)")
        .argParser(positiveInteger)
        .default(availableParallelism(), "the number of CPUs"),
    )
    .action(async (options: { root?: string; json?: boolean; jobs: number }) => {
      const root = options.root ? resolve(options.root) : findRoot(process.cwd());
      const report = await validateTree(root, { jobs: options.jobs });
      if (options.json) {
        const { tree: _tree, ...plain } = report;
        io.out(`${JSON.stringify({ ok: report.errors === 0, ...plain }, null, 2)}\n`);
      } else {
        const shown = (file: string) => relative(process.cwd(), resolve(root, file)) || file;
        for (const finding of report.findings) {
          io.out(`${formatFinding({ ...finding, file: shown(finding.file) })}\n`);
        }
        const { files, releases, policies, environments } = report.counts;
        io.out(
          `pinline validate: ${files} files (${releases} releases, ${policies} policies, ${environments} environments): ` +
            `${report.errors} error${report.errors === 1 ? "" : "s"}, ${report.warnings} warning${report.warnings === 1 ? "" : "s"}\n`,
        );
      }
      process.exitCode = report.errors > 0 ? 1 : 0;
    });

  return program;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError("expected a whole number of 1 or more");
  return n;
}

/** Runs the CLI and returns its exit code; errors are printed, never thrown. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const io = {
    out: (s: string) => process.stdout.write(s),
    err: (s: string) => process.stderr.write(s),
  };
  try {
    await buildProgram(io).parseAsync(argv, { from: "user" });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; anything else commander refuses is a usage error.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof PinlineError) {
      io.err(`pinline: error: ${error.describe()}\n`);
      return exitCodeOf(error);
    }
    io.err(
      `pinline: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
