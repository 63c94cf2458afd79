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
    .addOption(rootOption())
    .addOption(jsonOption())
    .action(
      async (
        version: string,
        options: { channel?: string; artifacts?: string; root?: string; json?: boolean },
      ) => {
        const root = resolveRoot(options);
        const { createRelease } = await import("../../repo/create-release.js");
        const created = await createRelease({
          root,
          version,
          ...(options.channel ? { channel: options.channel } : {}),
          ...(options.artifacts ? { artifactsDir: options.artifacts } : {}),
        });
        const file = relative(process.cwd(), created.file) || created.file;
        if (options.json)
          io.out(`${JSON.stringify({ ok: true, file, dir: created.dir }, null, 2)}\n`);
        else
          io.out(
            `created ${file}: fill in the changelog and the database migrations, then run pinline validate\n`,
          );
      },
    );
  return release;
}
