// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${version} is pinline's deploy-time placeholder, shown as text
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Command } from "commander";
import { UsageError } from "../../core/errors.js";
import { packageRoot } from "../../demo/package-root.js";
import type { ActionsReference } from "../../init/render-workflows.js";
import type { InitAnswers } from "../../init/scaffold-repository.js";
import { type Io, jsonOption, plural } from "../io.js";
import { PINLINE_VERSION } from "../version.js";

/** Where pinline's actions are published (`uses: <this>/actions/<name>@<ref>`). */
export const PINLINE_ACTIONS_REPOSITORY = "pinline-dev/pinline";

interface InitOptions {
  product?: string;
  stages?: string;
  production?: string;
  currentVersion?: string;
  artifacts?: string;
  artifactUrl?: string;
  key?: string;
  passphraseEnv?: string;
  releaseManagers?: string;
  developers?: string;
  owners?: string;
  actionsRepo?: string;
  actionsRef?: string;
  actionsSha?: string;
  defaultBranch?: string;
  databaseSecretPrefix?: string;
  deployCommand?: string;
  healthUrl?: string;
  slack?: string;
  teams?: string;
  email?: string;
  force?: boolean;
  check?: boolean;
  workflows?: boolean;
  yes?: boolean;
  root?: string;
  json?: boolean;
}

const list = (text: string | undefined): string[] | undefined =>
  text === undefined
    ? undefined
    : text
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);

/** The GitHub owner of the origin remote, for default approvers (@owner/release-managers). */
function originOwner(root: string): string | undefined {
  try {
    const url = execFileSync("git", ["-C", root, "remote", "get-url", "origin"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return /github\.com[:/]([\w.-]+)\/[\w.-]+?(?:\.git)?$/.exec(url)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * What the release workflow wrote into the package (pinline-release.json): the repository,
 * tag and commit it was built from. Absent in a checkout.
 */
function packagedRelease(): { repository: string; tag: string; commit: string } | undefined {
  try {
    const release = JSON.parse(readFileSync(join(packageRoot(), "pinline-release.json"), "utf8"));
    const ok =
      /^[\w.-]+\/[\w.-]+$/.test(release.repository) &&
      /^v\d+\.\d+\.\d+$/.test(release.tag) &&
      /^[0-9a-f]{40}$/.test(release.commit);
    return ok ? release : undefined;
  } catch {
    return undefined;
  }
}

function actionsReference(options: InitOptions): ActionsReference {
  const released = packagedRelease();
  if (released && !options.actionsRepo && !options.actionsRef && !options.actionsSha) {
    // A released package knows its commit: pinned to it, with the tag as the comment.
    return {
      kind: "remote",
      repository: released.repository,
      ref: released.commit,
      comment: released.tag,
    };
  }
  const repository = `${options.actionsRepo ?? released?.repository ?? PINLINE_ACTIONS_REPOSITORY}`;
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) {
    throw new UsageError(`--actions-repo ${repository} is not OWNER/NAME`);
  }
  const tag = options.actionsRef ?? `v${PINLINE_VERSION}`;
  if (options.actionsSha) {
    if (!/^[0-9a-f]{40}$/.test(options.actionsSha)) {
      throw new UsageError(`--actions-sha ${options.actionsSha} is not a full commit SHA`, {
        hint: "pass the 40-digit commit the tag points at (git ls-remote https://github.com/<repo> <tag>)",
      });
    }
    return { kind: "remote", repository, ref: options.actionsSha, comment: tag };
  }
  return { kind: "remote", repository, ref: tag };
}

/** Asks for what the flags did not say, when a person is at the terminal. */
async function ask(io: Io, options: InitOptions, owner: string | undefined): Promise<InitOptions> {
  // Lines are read from one iterator, which buffers: answers typed (or pasted) ahead are kept.
  const prompt = createInterface({ input: process.stdin, terminal: false });
  const lines = prompt[Symbol.asyncIterator]();
  const question = async (text: string, fallback?: string) => {
    io.err(`${text}${fallback ? ` [${fallback}]` : ""}: `);
    const next = await lines.next();
    if (next.done) {
      throw new UsageError("the input ended before every question was answered", {
        hint: "answer at the terminal, or pass the answers as flags with --yes (pinline init --help)",
      });
    }
    return String(next.value).trim() || fallback;
  };
  try {
    const filled = { ...options };
    filled.product ??= await question("Product name (such as Acme Billing)");
    filled.stages ??= await question("Rollout stages, in order", "dev,staging,production");
    filled.currentVersion ??= await question("The version your environments run today", "1.0.0");
    filled.artifacts ??= await question("Folder with that version's files (empty: later)");
    if (filled.artifacts) {
      filled.artifactUrl ??= await question(
        "Where they are published ({file}, {component}, {version})",
      );
    }
    const team = owner ? `@${owner}` : undefined;
    filled.releaseManagers ??= await question(
      "Who approves production (users, @org/team)",
      team ? `${team}/release-managers` : undefined,
    );
    filled.developers ??= await question(
      "Who approves pre-production",
      team ? `${team}/developers` : undefined,
    );
    filled.deployCommand ??= await question("The command that deploys ${version} (empty: later)");
    io.err("\n");
    return filled;
  } finally {
    prompt.close();
  }
}

export function initCommand(io: Io): Command {
  return new Command("init")
    .description(
      "scaffold a pinline repository for your product: schemas, policies, one pin per stage, keys/, CODEOWNERS, the first release and the workflows for these pins",
    )
    .option("--product <name>", 'the product, such as "Acme Billing"')
    .option(
      "--stages <list>",
      "the rollout stages in order, one environment each (default dev,staging,production)",
    )
    .option(
      "--production <list>",
      "the stages the production policy governs (default: prod*, else the last)",
    )
    .option(
      "--current-version <version>",
      "the version your environments run today (default 1.0.0)",
    )
    .option(
      "--artifacts <dir>",
      "that version's files, one per component: init describes it as the first release",
    )
    .option(
      "--artifact-url <template>",
      "where they are published: {file}, {component} and {version} are replaced",
    )
    .option(
      "--key <file>",
      "an armored private key: its public key goes to keys/ and it signs the first release",
    )
    .option("--passphrase-env <var>", "environment variable that holds the key's passphrase")
    .option("--release-managers <list>", "who approves production promotions (users, @org/team)")
    .option("--developers <list>", "who approves pre-production promotions")
    .option("--owners <list>", "code owners of policies/ and keys/ (default: the release managers)")
    .option(
      "--actions-repo <owner/name>",
      `where pinline's actions come from (default ${PINLINE_ACTIONS_REPOSITORY})`,
    )
    .option(
      "--actions-ref <ref>",
      `the tag the workflows use (default v${PINLINE_VERSION}, this pinline's)`,
    )
    .option(
      "--actions-sha <sha>",
      "pin pinline's actions to this commit, with the tag as a comment",
    )
    .option("--default-branch <name>", "the branch promotions merge into (default main)")
    .option(
      "--database-secret-prefix <prefix>",
      "each pin's database secret is <prefix><STAGE> (default <PRODUCT>_DB_URL_)",
    )
    .option("--deploy-command <command>", "deploy.command of every pin (${version} is substituted)")
    .option("--health-url <url>", "health.ready of every pin; {environment} is replaced")
    .option("--slack <secret>", "the secret holding production's Slack webhook URL")
    .option("--teams <secret>", "the secret holding production's Teams webhook URL")
    .option("--email <list>", "addresses production's deploys are mailed to")
    .option("--force", "overwrite files that exist and differ")
    .option("--workflows", "only write the generated workflows again, for the pins as they are now")
    .option("--check", "fail when the generated workflows no longer match the pins")
    .option("--yes", "ask nothing: take the flags and defaults")
    .option("--root <dir>", "the repository (default: the current directory)")
    .addOption(jsonOption())
    .action(async (given: InitOptions) => {
      const root = resolve(given.root ?? process.cwd());
      if (given.check) {
        const { checkInitWorkflows } = await import("../../init/run-init.js");
        const { formatFinding } = await import("../../repo/findings.js");
        const result = await checkInitWorkflows(root);
        process.exitCode = result.ok ? 0 : 1;
        if (given.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
        else {
          for (const finding of result.findings) io.out(`${formatFinding(finding)}\n`);
          io.out(
            result.ok
              ? "pinline init --check: the workflows match the pins\n"
              : `pinline init --check: ${plural(result.errors, "error")}: the workflows no longer match the pins\n`,
          );
        }
        return;
      }
      if (given.workflows) {
        const { writeInitWorkflows } = await import("../../init/run-init.js");
        const overrides = {
          ...(given.actionsRef || given.actionsRepo || given.actionsSha
            ? { actions: actionsReference(given) }
            : {}),
          ...(given.defaultBranch ? { defaultBranch: given.defaultBranch } : {}),
        };
        const result = await writeInitWorkflows(root, overrides);
        if (given.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
        else {
          for (const file of result.written) io.out(`wrote ${file}\n`);
          io.out(`${result.written.length} written, ${result.unchanged.length} unchanged\n`);
        }
        return;
      }
      const owner = originOwner(root);
      const interactive = Boolean(process.stdin.isTTY) && !given.yes && !given.json;
      const options = interactive ? await ask(io, given, owner) : given;
      const team = owner ? `@${owner}` : undefined;
      const releaseManagers =
        list(options.releaseManagers) ?? (team ? [`${team}/release-managers`] : undefined);
      const developers = list(options.developers) ?? (team ? [`${team}/developers`] : undefined);
      if (!options.product) {
        throw new UsageError("which product is this repository for?", {
          hint: 'pass --product "Acme Billing"',
        });
      }
      if (
        !releaseManagers ||
        releaseManagers.length === 0 ||
        !developers ||
        developers.length === 0
      ) {
        throw new UsageError(
          "who approves promotions? origin is not a GitHub repository to guess a team from",
          {
            hint: "pass --release-managers and --developers (users or @org/team)",
          },
        );
      }
      const answers: InitAnswers = {
        product: options.product,
        stages: list(options.stages || "dev,staging,production") ?? [],
        production: list(options.production),
        version: options.currentVersion || "1.0.0",
        developers,
        releaseManagers,
        owners: list(options.owners) ?? releaseManagers,
        actions: actionsReference(options),
        defaultBranch: options.defaultBranch || "main",
        databaseSecretPrefix: options.databaseSecretPrefix,
        deployCommand: options.deployCommand || undefined,
        healthUrl: options.healthUrl,
        notify: {
          ...(options.slack ? { slack: options.slack } : {}),
          ...(options.teams ? { teams: options.teams } : {}),
          ...(options.email ? { email: list(options.email) ?? [] } : {}),
        },
      };
      let passphrase: string | undefined;
      if (options.passphraseEnv) {
        passphrase = process.env[options.passphraseEnv];
        if (passphrase === undefined) {
          throw new UsageError(`${options.passphraseEnv} is not set`, {
            hint: "export the key's passphrase in it, or leave out --passphrase-env",
          });
        }
      }
      const { runInit } = await import("../../init/run-init.js");
      const report = await runInit({
        root,
        answers,
        force: options.force ?? false,
        artifactsDir: options.artifacts || undefined,
        artifactUrl: options.artifactUrl || undefined,
        signingKeyFile: options.key,
        passphrase,
      });
      if (options.json) {
        io.out(`${JSON.stringify({ ok: true, ...report }, null, 2)}\n`);
        return;
      }
      io.out(`pinline init: ${answers.product} in ${root}\n`);
      for (const file of report.written) io.out(`  wrote     ${file}\n`);
      for (const file of report.unchanged) io.out(`  unchanged ${file}\n`);
      io.out("\nWhat pinline cannot do from the repository — your checklist:\n");
      for (const item of report.checklist) io.out(`${item}\n`);
    });
}
