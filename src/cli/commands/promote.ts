import { Command } from "commander";
import { notJudgedLocally } from "../../promote/local-rules.js";
import { connectGitHub, type Io, jsonOption, repoOption, resolveRoot, rootOption } from "../io.js";

export function promoteCommand(io: Io): Command {
  return new Command("promote")
    .description("open (or update) the promotion PR that moves an environment's pin to a version")
    .argument("<environment>", "the environment, such as production-canary")
    .argument("<version>", "the version to promote to, such as 2.4.1")
    .option(
      "--local",
      "commit the pin change in the local checkout instead of opening a PR, if the policy allows it (below)",
    )
    .option("--base <branch>", "the branch the PR targets", "main")
    .option(
      "--retry",
      "try a version again after it was reverted there (its commit carries Pinline-Retry)",
    )
    .addOption(repoOption())
    .addOption(rootOption())
    .addOption(jsonOption())
    .addHelpText(
      "after",
      `\nWith --local there is no gate, so the gate's rules judge the change first, as pinline plan
does offline; a failing rule refuses it (exit 1) and says what to do. Not judged, because a
checkout cannot answer them:
  ${notJudgedLocally()}\n`,
    )
    .action(
      async (
        environment: string,
        version: string,
        options: {
          local?: boolean;
          base: string;
          retry?: boolean;
          repo?: string;
          root?: string;
          json?: boolean;
        },
      ) => {
        const root = resolveRoot(options);
        if (options.local) {
          const { promoteLocally } = await import("../../promote/commit-promotion.js");
          const { describeJudgement } = await import("../../promote/judge-locally.js");
          const result = await promoteLocally({
            root,
            environment,
            version,
            retry: options.retry,
          });
          if (options.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
          else
            io.out(
              `${result.file}: ${result.from} → ${result.to} (commit ${result.commit.slice(0, 7)})\n${describeJudgement(result)}\n`,
            );
          return;
        }
        const { openPromotion } = await import("../../promote/open-promotion.js");
        const forge = await connectGitHub(io, root, options.repo);
        const result = await openPromotion({
          root,
          forge,
          environment,
          version,
          base: options.base,
          retry: options.retry,
        });
        if (options.json) {
          io.out(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        const path =
          result.path.length > 1 ? ` (path ${[result.from, ...result.path].join(" → ")})` : "";
        io.out(
          `${result.action} PR #${result.pullRequest.number}: ${environment} ${result.from} → ${result.to}${path}\n${result.pullRequest.htmlUrl}\n`,
        );
      },
    );
}
