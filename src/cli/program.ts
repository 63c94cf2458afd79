import { Command, CommanderError } from "commander";
import { exitCodeOf, PinlineError } from "../core/errors.js";
import { describeGitHubError } from "../github/describe-github-error.js";
import { checkCommand } from "./commands/check.js";
import { demoCommand } from "./commands/demo.js";
import { deployCommand, revertCommand } from "./commands/deploy.js";
import { feedCommand } from "./commands/feed.js";
import { gateCommand } from "./commands/gate.js";
import { initCommand } from "./commands/init.js";
import { keysCommand } from "./commands/keys.js";
import { migrateCommand } from "./commands/migrate.js";
import { planCommand } from "./commands/plan.js";
import { promoteCommand } from "./commands/promote.js";
import { releaseCommand } from "./commands/release.js";
import { restoreCommand } from "./commands/restore.js";
import { serveCommand } from "./commands/serve.js";
import { setupCommand } from "./commands/setup.js";
import { signCommand } from "./commands/sign.js";
import { validateCommand } from "./commands/validate.js";
import { verifyCommand } from "./commands/verify.js";
import type { Io } from "./io.js";
import { PINLINE_VERSION } from "./version.js";

/**
 * `pinline <verb>`: the same logic as the actions, for engineers at a terminal and for
 * scripts (`--json`). Exit codes: 0 ok, 1 the check failed or was refused, 2 usage error.
 */
export function buildProgram(io: Io): Command {
  const program = new Command("pinline")
    .description("GitOps update lifecycle: releases, policies and environment pins in git")
    .version(PINLINE_VERSION)
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const commands = [
    validateCommand(io),
    releaseCommand(io),
    signCommand(io),
    verifyCommand(io),
    keysCommand(io),
    migrateCommand(io),
    planCommand(io),
    promoteCommand(io),
    gateCommand(io),
    deployCommand(io),
    revertCommand(io),
    restoreCommand(io),
    demoCommand(io),
    initCommand(io),
    setupCommand(io),
    feedCommand(io),
    checkCommand(io),
    serveCommand(io),
  ];
  for (const command of commands) program.addCommand(command);
  // Sub-commands write where the program writes, and never exit the process themselves.
  const configure = (command: Command): void => {
    command
      .configureOutput({ writeOut: io.out, writeErr: io.err })
      .exitOverride()
      .showHelpAfterError();
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
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
    // pinline's own refusals, and GitHub's or the network's that reached the top unhandled.
    const known = error instanceof PinlineError ? error : describeGitHubError(error);
    if (known) {
      io.err(`pinline: error: ${known.describe()}\n`);
      return exitCodeOf(known);
    }
    io.err(
      `pinline: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
