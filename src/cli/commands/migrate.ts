import { basename, resolve } from "node:path";
import { Command, Option } from "commander";
import { redactUrl, resolveDatabaseUrl } from "../../repo/database-url.js";
import { type Io, jsonOption, positiveInteger, resolveRoot, rootOption } from "../io.js";

export function migrateCommand(io: Io): Command {
  return new Command("migrate")
    .description(
      "apply (or roll back) the database migrations up to a release, under an advisory lock",
    )
    .requiredOption("--release <dir>", "the target release folder, such as releases/2.4.1")
    .option("--database-url <url>", "the database (better: --environment, or DATABASE_URL)")
    .option(
      "--environment <name>",
      "take the database URL from the variable the environment's pin names",
    )
    .option("--dry-run", "print the plan (files, order, transactional or not); change nothing")
    .option(
      "--repair",
      "clear the dirty rows a failed non-transactional migration left, after fixing it by hand",
    )
    .addOption(
      new Option("--lock-wait <ms>", "wait this long for another run's lock").argParser(
        positiveInteger,
      ),
    )
    .addOption(
      new Option(
        "--lock-timeout <ms>",
        "give up a statement waiting this long for a table lock (then retry)",
      )
        .argParser(positiveInteger)
        .default(1000),
    )
    .addOption(
      new Option("--statement-timeout <ms>", "abort a statement running this long").argParser(
        positiveInteger,
      ),
    )
    .option(
      "--history-schema <schema>",
      "the schema that holds pinline_schema_migrations (default: the one that already does, whatever the search_path)",
    )
    .option(
      "--unsigned",
      "run releases whose signatures do not verify (development only): files are still checked against their manifest's sha256",
    )
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        release: string;
        unsigned?: boolean;
        historySchema?: string;
        databaseUrl?: string;
        environment?: string;
        dryRun?: boolean;
        repair?: boolean;
        lockWait?: number;
        lockTimeout: number;
        statementTimeout?: number;
        root?: string;
        json?: boolean;
      }) => {
        const root = resolveRoot(options);
        const database = resolveDatabaseUrl({
          root,
          url: options.databaseUrl,
          environment: options.environment,
          env: process.env,
        });
        const target = basename(resolve(options.release));
        if (!options.json)
          io.err(
            `pinline migrate: ${redactUrl(database.url)} (from ${database.source}) → ${target}\n`,
          );
        // Loaded on use, like the other verbs that need more than validate does (pg here).
        const { migrate } = await import("../../db/run-migration.js");
        const { releaseVerifier } = await import("../../trust/verify-release.js");
        if (options.unsigned) {
          io.err(
            "pinline migrate: warning: --unsigned: signatures are not checked, only each file against its manifest's sha256\n",
          );
        }
        const result = await migrate({
          root,
          target,
          databaseUrl: database.url,
          dryRun: options.dryRun === true,
          repair: options.repair === true,
          lockTimeoutMs: options.lockTimeout,
          ...(options.lockWait !== undefined ? { lockWaitMs: options.lockWait } : {}),
          ...(options.statementTimeout !== undefined
            ? { statementTimeoutMs: options.statementTimeout }
            : {}),
          appliedBy: process.env.GITHUB_ACTOR ?? process.env.USER ?? "pinline",
          ...(options.unsigned ? {} : { verifyRelease: releaseVerifier(root) }),
          ...(options.historySchema ? { history: { schema: options.historySchema } } : {}),
          ...(options.json ? {} : { onProgress: (event) => io.err(`  ${event.message}\n`) }),
        });
        if (options.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
        else io.out(`${result.summary}\n`);
      },
    );
}
