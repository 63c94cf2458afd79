import { Command } from "commander";
import { connectGitHub, type Io, jsonOption, repoOption, resolveRoot, rootOption } from "../io.js";
import { printVerdicts, verdictLine } from "../print-verdicts.js";

export function planCommand(io: Io): Command {
  return new Command("plan")
    .description(
      "the upgrade path and every gate rule for moving an environment to a version, as the gate would judge it now",
    )
    .argument("<environment>", "the environment, such as production-canary")
    .option(
      "--to <version>",
      "the version to move to (default: what the update check would propose: the newest its channel and policy allow, or the first step towards it)",
    )
    .option(
      "--retry",
      "judge it as a promotion that tries the version again after it was reverted here",
    )
    .option(
      "--github",
      "also read deployments, check runs and the open promotion PR from GitHub (GITHUB_TOKEN)",
    )
    .addOption(repoOption())
    .option("--markdown", "print the check run's Markdown instead of a table")
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (
        environment: string,
        options: {
          to?: string;
          retry?: boolean;
          github?: boolean;
          repo?: string;
          markdown?: boolean;
          root?: string;
          json?: boolean;
        },
      ) => {
        const root = resolveRoot(options);
        const { planEnvironment } = await import("../../gate/plan-environment.js");
        const forge = options.github ? await connectGitHub(io, root, options.repo) : undefined;
        const result = await planEnvironment({
          root,
          environment,
          to: options.to,
          forge,
          retry: options.retry,
        });
        process.exitCode = result.evaluation?.status === "fail" ? 1 : 0;
        if (options.json) {
          io.out(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        if (!result.to || !result.evaluation) {
          io.out(`${result.upToDate ?? `${environment} runs ${result.from}: nothing to plan`}\n`);
          return;
        }
        if (options.markdown && result.report) {
          const { renderGateSummary } = await import("../../notify/gate-summary.js");
          io.out(`${renderGateSummary(result.report)}\n`);
          return;
        }
        io.out(
          `plan ${environment}: ${result.from} → ${result.to} (stage ${result.evaluation.stage})\n`,
        );
        io.out(`upgrade path: ${result.pathSummary}\n`);
        io.out(
          result.online
            ? `read from GitHub: deployments, check runs${result.pullRequest ? `, reviews of PR #${result.pullRequest}` : " (no open promotion PR)"}\n\n`
            : "offline: approvals and compliance checks need GitHub (--github)\n\n",
        );
        io.out(printVerdicts(result.evaluation));
        io.out(`\nverdict: ${verdictLine(result.evaluation)}\n`);
      },
    );
}
