import { Command, InvalidArgumentError } from "commander";
import { UsageError } from "../../core/errors.js";
import { type Io, jsonOption, repoOption, resolveRoot, rootOption, table } from "../io.js";

export function setupCommand(io: Io): Command {
  const github = new Command("github")
    .description(
      "apply the one-time GitHub settings: the ruleset requiring pinline/gate and validate, the environments with their branch policies, the labels, Pages; lists the secrets still to set",
    )
    .option("--dry-run", "show each change, apply none")
    .option("--gate-app <slug>", "the gate App, whose pinline/gate check the ruleset requires")
    .option("--gate-app-id <id>", "the gate App's id instead of its slug", (value) => {
      const id = Number(value);
      if (!Number.isInteger(id) || id < 1) throw new InvalidArgumentError("expected an App id");
      return id;
    })
    .addOption(repoOption())
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        dryRun?: boolean;
        gateApp?: string;
        gateAppId?: number;
        repo?: string;
        root?: string;
        json?: boolean;
      }) => {
        if (!options.gateApp && !options.gateAppId) {
          throw new UsageError("which App writes pinline/gate?", {
            hint: "pass --gate-app <slug> (or --gate-app-id <id>): the ruleset requires the check from that App only",
          });
        }
        const root = resolveRoot(options);
        const token = process.env.GITHUB_TOKEN || process.env.GH_TOKEN;
        if (!token) {
          throw new UsageError("no GitHub token", {
            hint: "set GITHUB_TOKEN (or GH_TOKEN) to a repository admin's token, such as GH_TOKEN=$(gh auth token)",
          });
        }
        const [{ resolveRepository }, { createOctokit }, { loadTree }, { pinsOf }, setup] =
          await Promise.all([
            import("../../github/connect-forge.js"),
            import("../../github/create-octokit.js"),
            import("../../repo/load-tree.js"),
            import("../../init/check-workflows.js"),
            import("../../setup/github-setup.js"),
          ]);
        const pins = pinsOf(await loadTree(root));
        if (!pins) {
          throw new UsageError("a pin does not validate, so its environment cannot be set up", {
            hint: "run pinline validate and fix it first",
          });
        }
        const repository = resolveRepository(root, options.repo);
        const octokit = createOctokit({ token, log: (m) => io.err(`pinline: ${m}\n`) });
        const plan = await setup.planGitHubSetup({
          octokit,
          repository,
          pins,
          gateApp: options.gateAppId ? { id: options.gateAppId } : { slug: options.gateApp ?? "" },
        });
        const row = (c: (typeof plan.changes)[number]) => [c.action, c.kind, c.name, c.details];
        if (options.dryRun || options.json) {
          if (options.json) {
            const changes = plan.changes.map(({ apply: _apply, ...change }) => change);
            io.out(
              `${JSON.stringify({ ...plan, changes, dryRun: Boolean(options.dryRun) }, null, 2)}\n`,
            );
            if (options.dryRun) return;
          } else {
            io.out(`pinline setup github --dry-run: ${plan.repository} (nothing is changed)\n\n`);
            io.out(table([["action", "kind", "name", "what"], ...plan.changes.map(row)]));
          }
        }
        if (!options.dryRun) {
          if (!options.json) io.out(`pinline setup github: ${plan.repository}\n`);
          await setup.applyGitHubSetup(plan, (change) => {
            if (!options.json)
              io.out(
                `  ${change.action === "create" ? "created" : "updated"} ${change.kind} ${change.name}\n`,
              );
          });
          const unchanged = plan.changes.filter((c) => !c.apply).length;
          if (!options.json) io.out(`  ${unchanged} already as they should be\n`);
        }
        if (options.json) return;
        if (plan.missing.length === 0) {
          io.out("\nEvery secret and variable the workflows read is set.\n");
          return;
        }
        io.out("\nStill to set (names only; pinline never reads their values):\n");
        plan.missing.forEach((item, index) => {
          io.out(
            `${index + 1}. ${item.kind} ${item.name} in ${item.environment}: ${item.command}\n`,
          );
        });
      },
    );
  return new Command("setup")
    .description("one-time setup of the repository's host")
    .addCommand(github);
}
