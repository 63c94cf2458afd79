import { availableParallelism } from "node:os";
import { relative, resolve } from "node:path";
import { Command, Option } from "commander";
import { formatFinding } from "../../repo/findings.js";
import { validateTree } from "../../repo/validate-tree.js";
import { type Io, jsonOption, plural, positiveInteger, resolveRoot, rootOption } from "../io.js";

export function validateCommand(io: Io): Command {
  return new Command("validate")
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
      const root = resolveRoot(options);
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
            `${plural(report.errors, "error")}, ${plural(report.warnings, "warning")}\n`,
        );
      }
      process.exitCode = report.errors > 0 ? 1 : 0;
    });
}
