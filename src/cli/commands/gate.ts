import { Command, Option } from "commander";
import {
  connectGitHub,
  type Io,
  jsonOption,
  positiveInteger,
  repoOption,
  resolveRoot,
  rootOption,
} from "../io.js";
import { printVerdicts, verdictLine } from "../print-verdicts.js";

export function gateCommand(io: Io): Command {
  return new Command("gate")
    .description("judge a promotion PR against every rule and report the pinline/gate check run")
    .addOption(
      new Option("--pr <number>", "the pull request")
        .argParser(positiveInteger)
        .makeOptionMandatory(),
    )
    .option(
      "--protected-branch <branch...>",
      "branches (or globs) a PR may pass into (default: the repository's default branch)",
    )
    .option(
      "--configuration-path <glob...>",
      "more paths whose changes need configuration approvals (the gate's own code)",
    )
    .addOption(repoOption())
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        pr: number;
        protectedBranch?: string[];
        configurationPath?: string[];
        repo?: string;
        root?: string;
        json?: boolean;
      }) => {
        const root = resolveRoot(options);
        const { gatePullRequest } = await import("../../gate/evaluate-pull-request.js");
        const forge = await connectGitHub(io, root, options.repo);
        const run = await gatePullRequest({
          root,
          forge,
          number: options.pr,
          protectedBranches: options.protectedBranch,
          configurationPaths: options.configurationPath,
        });
        process.exitCode = run.report.status === "fail" ? 1 : 0;
        if (options.json) {
          io.out(`${JSON.stringify(run, null, 2)}\n`);
          return;
        }
        io.out(
          `PR #${run.pullRequest.number} (${run.pullRequest.headSha.slice(0, 7)}): ${run.report.status}\n`,
        );
        for (const problem of run.report.problems) io.out(`  ✗ ${problem}\n`);
        for (const evaluation of run.report.evaluations) {
          io.out(
            `\n${evaluation.environment}: ${evaluation.from} → ${evaluation.to}: ${verdictLine(evaluation)}\n`,
          );
          io.out(printVerdicts(evaluation));
        }
        if (run.report.configuration) {
          io.out(`\nconfiguration change: ${run.report.configuration.status}\n`);
          for (const change of run.report.configuration.changes) {
            io.out(`  ${change.file}: ${change.description}\n`);
          }
          io.out(printVerdicts(run.report.configuration));
        }
      },
    );
}
