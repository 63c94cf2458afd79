import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shippedFileDigest } from "../../src/repo/shipped-file-digest.js";
import { repoRoot } from "./example-repo.js";

/** A release of a test repository: its migrations and rollbacks, by file name, in order. */
export interface TestRelease {
  version: string;
  from?: string;
  migrations: Record<string, string>;
  rollback: Record<string, string>;
}

/**
 * Writes a pinline repository holding exactly these releases (schema-valid manifests, the SQL
 * files in migrations/ and rollback/), for tests that need migrations of their own.
 */
export function migrationRepo(releases: readonly TestRelease[]): string {
  const root = mkdtempSync(join(tmpdir(), "pinline-migrations-"));
  cpSync(join(repoRoot, "schemas"), join(root, "schemas"), { recursive: true });
  for (const release of releases) {
    const dir = join(root, "releases", release.version);
    mkdirSync(join(dir, "migrations"), { recursive: true });
    mkdirSync(join(dir, "rollback"), { recursive: true });
    for (const [name, sql] of Object.entries(release.migrations))
      writeFileSync(join(dir, "migrations", name), sql);
    for (const [name, sql] of Object.entries(release.rollback))
      writeFileSync(join(dir, "rollback", name), sql);
    writeFileSync(
      join(dir, "release.yaml"),
      [
        "# yaml-language-server: $schema=../../schemas/release.schema.json",
        `version: "${release.version}"`,
        "channel: stable",
        'releaseDate: "2024-01-01T00:00:00Z"',
        "components:",
        `  backend: { version: "${release.version}", artifact: "ghcr.io/acme/test:${release.version}", sha256: "${"0".repeat(64)}", size: 0 }`,
        "database:",
        ...(release.from ? [`  from: "${release.from}"`] : []),
        `  migrations: [${listed("migrations", release.migrations)}]`,
        `  rollback: [${listed("rollback", release.rollback)}]`,
        "",
      ].join("\n"),
    );
  }
  return root;
}

/** A manifest list: each file with the sha256 of the text written for it. */
function listed(folder: string, files: Record<string, string>): string {
  return Object.entries(files)
    .map(([name, sql]) => `{ file: ${folder}/${name}, sha256: "${shippedFileDigest(sql)}" }`)
    .join(", ");
}
