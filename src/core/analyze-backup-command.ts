/**
 * What a pin's `database.backup.command` becomes (DESIGN §2 step 2): the same analysis as
 * deploy.command (analyze-deploy-command.ts) — split as a shell splits, placeholders substituted
 * inside the arguments, no shell — with its own placeholders, and problems that name it.
 */
import {
  analyzeDeployCommand,
  type DeployCommandAnalysis,
  type DeployVariables,
} from "./analyze-deploy-command.js";

/** What pinline sets for the backup before a deploy of `version` over `from`. */
export function backupVariables(input: {
  environment: string;
  version: string;
  from: string;
  dir: string;
}): DeployVariables {
  return {
    environment: input.environment,
    version: input.version,
    from: input.from,
    dir: input.dir,
  };
}

/** As analyzeDeployCommand; every problem's message starts with "database.backup.command". */
export function analyzeBackupCommand(
  command: string,
  variables: DeployVariables,
): DeployCommandAnalysis {
  const analysis = analyzeDeployCommand(command, variables);
  return {
    args: analysis.args,
    problems: analysis.problems.map((problem) => ({
      ...problem,
      message: problem.message.replace(/^deploy\.command/, "database.backup.command"),
    })),
  };
}
