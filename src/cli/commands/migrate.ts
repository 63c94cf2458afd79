import { basename, resolve } from "node:path";
import { Command, Option } from "commander";
import { RefusedError, UsageError } from "../../core/errors.js";
import { redactUrl, resolveDatabaseUrl } from "../../repo/database-url.js";
import { confirmed } from "../confirm.js";
import { type Io, jsonOption, positiveInteger, resolveRoot, rootOption } from "../io.js";

interface MigrateOptions {
  release?: string;
  baseline?: string;
  status?: boolean;
  yes?: boolean;
  unsigned?: boolean;
  historySchema?: string;
  databaseUrl?: string;
  environment?: string;
  dryRun?: boolean;
  repair?: boolean;
  lockWait?: number;
  lockTimeout: number;
  statementTimeout?: number;
  recoveryWait?: number;
  root?: string;
  json?: boolean;
}

/** --release, --baseline and --status are three ways to use the verb: exactly one of them. */
function modeOf(options: MigrateOptions): "release" | "baseline" | "status" {
  const given = (["release", "baseline", "status"] as const).filter(
    (m) => options[m] !== undefined,
  );
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0
        ? "say what to do: --release <dir> (migrate to it), --baseline <version> (adopt an existing database) or --status"
        : `--${given.join(" and --")} cannot be combined`,
      { hint: "pinline migrate --help" },
    );
  }
  const mode = given[0] as "release" | "baseline" | "status";
  if (mode !== "release" && (options.dryRun || options.repair)) {
    throw new UsageError(`--${mode} cannot be combined with --dry-run or --repair`);
  }
  return mode;
}

export function migrateCommand(io: Io): Command {
  return new Command("migrate")
    .description(
      "apply (or roll back) the database migrations up to a release, under an advisory lock",
    )
    .option(
      "--release <dir>",
      "the target release folder, such as releases/2.4.1 (none: undo every migration, asks first)",
    )
    .option(
      "--baseline <version>",
      "adopt an existing database: record that it has the schema of this release, running nothing (refused when it has a history)",
    )
    .option(
      "--status",
      "show the database's version, its history, the files pending and any drift from the verified manifests (exit 1 on drift)",
    )
    .option("--yes", "do not ask before --release none")
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
    .addOption(
      new Option(
        "--recovery-wait <ms>",
        "after the server went away mid-run, how long to reconnect to tell which migrations were lost (default 30000)",
      ).argParser(positiveInteger),
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
    .action(async (options: MigrateOptions) => {
      const mode = modeOf(options);
      const root = resolveRoot(options);
      const database = resolveDatabaseUrl({
        root,
        url: options.databaseUrl,
        environment: options.environment,
        env: process.env,
      });
      const target = options.release === undefined ? undefined : basename(resolve(options.release));
      if (!options.json) {
        io.err(
          `pinline migrate: ${redactUrl(database.url)} (from ${database.source}) ${mode === "release" ? `→ ${target}` : mode === "baseline" ? `baseline at ${options.baseline}` : "status"}\n`,
        );
      }
      // Loaded on use, like the other verbs that need more than validate does (pg here).
      const { releaseVerifier } = await import("../../trust/verify-release.js");
      if (options.unsigned) {
        io.err(
          "pinline migrate: warning: --unsigned: signatures are not checked, only each file against its manifest's sha256\n",
        );
      }
      const verifyRelease = options.unsigned ? undefined : releaseVerifier(root);
      const history = options.historySchema ? { schema: options.historySchema } : undefined;
      const appliedBy = process.env.GITHUB_ACTOR ?? process.env.USER ?? "pinline";

      if (mode === "status") {
        const { migrationStatus, renderStatus } = await import("../../db/migration-status.js");
        const status = await migrationStatus({
          root,
          databaseUrl: database.url,
          history,
          verifyRelease,
        });
        io.out(options.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
        process.exitCode = status.ok ? 0 : 1;
        return;
      }
      if (mode === "baseline") {
        const { baselineDatabase } = await import("../../db/baseline-database.js");
        const result = await baselineDatabase({
          root,
          version: options.baseline as string,
          databaseUrl: database.url,
          appliedBy,
          ...(history ? { history } : {}),
          ...(options.lockWait !== undefined ? { lockWaitMs: options.lockWait } : {}),
          ...(verifyRelease ? { verifyRelease } : {}),
        });
        io.out(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.summary}\n`);
        return;
      }
      const { migrate, EMPTY_DATABASE } = await import("../../db/run-migration.js");
      if (target === EMPTY_DATABASE && !options.dryRun && !options.repair) {
        const where = redactUrl(database.url);
        const yes = await confirmed({
          yes: options.yes === true,
          consequence: `--release none rolls back every migration of ${where}, dropping what they created`,
          question: `Roll back every migration of ${where}, dropping what they created?`,
        });
        if (!yes) throw new RefusedError("not confirmed: nothing was changed");
      }
      const result = await migrate({
        root,
        target: target as string,
        databaseUrl: database.url,
        dryRun: options.dryRun === true,
        repair: options.repair === true,
        lockTimeoutMs: options.lockTimeout,
        ...(options.lockWait !== undefined ? { lockWaitMs: options.lockWait } : {}),
        ...(options.statementTimeout !== undefined
          ? { statementTimeoutMs: options.statementTimeout }
          : {}),
        ...(options.recoveryWait !== undefined ? { recoveryWaitMs: options.recoveryWait } : {}),
        appliedBy,
        ...(verifyRelease ? { verifyRelease } : {}),
        ...(history ? { history } : {}),
        ...(options.json ? {} : { onProgress: (event) => io.err(`  ${event.message}\n`) }),
      });
      if (options.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
      else io.out(`${result.summary}\n`);
    });
}
