import { relative } from "node:path";
import { Command } from "commander";
import { type Io, jsonOption, resolveRoot, rootOption } from "../io.js";

export function releaseCommand(io: Io): Command {
  const release = new Command("release").description("release manifests");
  release
    .command("create")
    .description("scaffold releases/<version>/ for a release PR, with checksums computed")
    .argument("<version>", 'the new version, such as "2.4.2" or "2.5.0-beta.4"')
    .option("--channel <channel>", "stable, beta, rc or nightly (must agree with the version)")
    .option("--artifacts <dir>", "the release's artifact files, one per component")
    .option(
      "--sql <dir>",
      "a folder with migrations/ and rollback/: its .sql files are copied in and listed with their sha256",
    )
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (
        version: string,
        options: {
          channel?: string;
          artifacts?: string;
          sql?: string;
          root?: string;
          json?: boolean;
        },
      ) => {
        const root = resolveRoot(options);
        const { createRelease } = await import("../../repo/create-release.js");
        const created = await createRelease({
          root,
          version,
          ...(options.channel ? { channel: options.channel } : {}),
          ...(options.artifacts ? { artifactsDir: options.artifacts } : {}),
          ...(options.sql ? { sqlDir: options.sql } : {}),
        });
        const file = relative(process.cwd(), created.file) || created.file;
        if (options.json)
          io.out(`${JSON.stringify({ ok: true, file, dir: created.dir }, null, 2)}\n`);
        else
          io.out(
            `created ${file}: fill in the changelog${options.sql ? "" : " and the database migrations (then pinline release hash)"}, then run pinline validate and sign it\n`,
          );
      },
    );
  release
    .command("hash")
    .description(
      "list every SQL file of a release in its manifest with its sha256 (run before pinline sign)",
    )
    .argument("<release-dir>", "the release folder, such as releases/2.4.1")
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(async (releaseDir: string, options: { root?: string; json?: boolean }) => {
      const root = resolveRoot(options);
      const { hashRelease } = await import("../../repo/hash-release.js");
      const hashed = await hashRelease({ root, releaseDir });
      if (options.json) {
        io.out(`${JSON.stringify({ ok: true, ...hashed }, null, 2)}\n`);
        return;
      }
      for (const f of hashed.files) {
        const note =
          f.change === "updated" ? `updated (was ${f.previous ?? "no sha256"})` : f.change;
        io.out(`${f.file}  ${f.sha256}  ${note}\n`);
      }
      if (!hashed.changed) {
        io.out(`${hashed.file}: every file is listed with its sha256; nothing changed\n`);
      } else if (hashed.signed) {
        io.out(
          `${hashed.file} updated: its signatures no longer match — sign it again (pinline sign ${relative(process.cwd(), releaseDir) || "."} --key <private key>)\n`,
        );
      } else {
        io.out(
          `${hashed.file} updated: sign it next (pinline sign ${relative(process.cwd(), releaseDir) || "."} --key <private key>)\n`,
        );
      }
    });
  return release;
}
