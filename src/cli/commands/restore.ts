import { Command } from "commander";
import { UsageError } from "../../core/errors.js";
import { resolveDatabaseUrl } from "../../repo/database-url.js";
import { confirmed } from "../confirm.js";
import { type Io, jsonOption, resolveRoot, rootOption } from "../io.js";

export function restoreCommand(io: Io): Command {
  return new Command("restore")
    .description(
      "restore a pre-update backup (its .json beside it): verified by sha256, then pg_restore or pinline's COPY archive, all or nothing",
    )
    .argument("<backup-file>", "the backup, such as pinline-backups/production-canary-2.4.2-….dump")
    .option("--database-url <url>", "the database to restore into")
    .option(
      "--environment <name>",
      "restore into the environment's database (the variable its pin's database.urlEnv names); the backup must be that environment's",
    )
    .option("--yes", "do not ask: the restore replaces the database's data")
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (
        file: string,
        options: {
          databaseUrl?: string;
          environment?: string;
          yes?: boolean;
          root?: string;
          json?: boolean;
        },
      ) => {
        if (!options.databaseUrl && !options.environment) {
          throw new UsageError("restore needs the database to restore into", {
            hint: "pass --database-url <url> or --environment <name>",
          });
        }
        const database = resolveDatabaseUrl({
          root: resolveRoot(options),
          url: options.databaseUrl,
          environment: options.environment,
          env: process.env,
        });
        const { restoreBackup } = await import("../../backup/restore-backup.js");
        const result = await restoreBackup({
          file,
          databaseUrl: database.url,
          environment: options.environment,
          confirm: ({ backup, database }) =>
            confirmed({
              yes: options.yes === true,
              consequence: `restoring ${backup} would replace the data of ${database}`,
              question: `Restore ${backup} into ${database}? Its data is replaced.`,
            }),
        });
        if (options.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
        else io.out(`${result.summary}\n`);
      },
    );
}
