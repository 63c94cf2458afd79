import { resolve } from "node:path";
import { Command } from "commander";
import { notJudgedLocally } from "../../promote/local-rules.js";
import { connectGitHub, type Io, jsonOption, repoOption, resolveRoot, rootOption } from "../io.js";

export function deployCommand(io: Io): Command {
  return new Command("deploy")
    .description(
      "deploy the environment's pinned version: verify, backup, migrate, apply, health; on failure roll back and revert the pin",
    )
    .argument("<environment>", "the environment, such as production-canary")
    .option(
      "--previous <version>",
      "the version to roll back to, one the environment ran before (default: the pin's previous version in git)",
    )
    .option("--github", "report a GitHub deployment and open the revert PR there (GITHUB_TOKEN)")
    .option(
      "--backup-dir <dir>",
      "where the pre-update backup goes; it keeps the environment's newest rollback.keepVersions backups (default: $RUNNER_TEMP/pinline-backups, else pinline-backups in a 0700 folder of your own under the temp folder)",
    )
    .addOption(repoOption())
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (
        environment: string,
        options: {
          previous?: string;
          github?: boolean;
          backupDir?: string;
          repo?: string;
          root?: string;
          json?: boolean;
        },
      ) => {
        const root = resolveRoot(options);
        const { deployEnvironment } = await import("../../deploy/deploy-environment.js");
        const forge = options.github ? await connectGitHub(io, root, options.repo) : undefined;
        const report = await deployEnvironment({
          root,
          environment,
          previous: options.previous,
          backupDir: options.backupDir ? resolve(options.backupDir) : undefined,
          forge,
          log: (line) => (options.json ? io.err(`${line}\n`) : io.out(`${line}\n`)),
        });
        process.exitCode = report.outcome === "success" ? 0 : 1;
        if (options.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
      },
    );
}

export function revertCommand(io: Io): Command {
  return new Command("revert")
    .description("open the PR that restores the environment's previous pin (a manual rollback)")
    .argument("<environment>", "the environment, such as production-canary")
    .option(
      "--to <version>",
      "the version to restore: one the environment ran among its last rollback.keepVersions versions (default: the newest of them)",
    )
    .option("--reason <text>", "why, for the PR body", "manual rollback")
    .option(
      "--local",
      "commit the revert in the local checkout instead of opening a PR, if the policy allows it (below)",
    )
    .option("--base <branch>", "the branch the PR targets", "main")
    .addOption(repoOption())
    .addOption(rootOption())
    .addOption(jsonOption())
    .addHelpText(
      "after",
      `\nWith --local there is no gate, so the gate's rules judge the revert first, as pinline plan
does offline; a failing rule refuses it (exit 1) and says what to do. Not judged, because a
checkout cannot answer them (a revert needs no soak, stage order or window):
  ${notJudgedLocally()}\n`,
    )
    .action(
      async (
        environment: string,
        options: {
          to?: string;
          reason: string;
          local?: boolean;
          base: string;
          repo?: string;
          root?: string;
          json?: boolean;
        },
      ) => {
        const root = resolveRoot(options);
        const { revertEnvironment } = await import("../../deploy/revert-environment.js");
        const result = await revertEnvironment({
          root,
          environment,
          to: options.to,
          reason: options.reason,
          connect: options.local ? undefined : () => connectGitHub(io, root, options.repo),
          base: options.base,
        });
        if (options.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
        else io.out(`${result.summary}\n`);
      },
    );
}
