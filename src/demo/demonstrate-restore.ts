/**
 * The demo's restore: the pre-update backup of the failed deploy goes into a scratch database
 * on the same server — migrated to the backup's schema version first when it is a COPY archive
 * (which restores data, not schema) — and every application table is compared with the live
 * database's: its row count, and a digest of all its rows (each row's text, sorted).
 */
import { readBackupMetadata } from "../backup/backup-metadata.js";
import { qualifiedName, readDataLayout } from "../backup/read-data-layout.js";
import { restoreBackup } from "../backup/restore-backup.js";
import { migrate } from "../db/run-migration.js";
import type { DeployReport } from "../deploy/deploy-report.js";
import { withClient } from "./embedded-postgres.js";

export interface RestoreShown {
  ok: boolean;
  lines: string[];
}

interface TableContent {
  rows: number;
  /** md5 of every row's text form, sorted: equal digests, equal rows. */
  digest: string;
}

/** "diagnostics" → its rows' count and digest, for every application table. */
async function tableContents(url: string): Promise<Map<string, TableContent>> {
  return withClient(url, async (client) => {
    await client.query("SELECT pg_catalog.set_config('search_path', '', false)");
    const contents = new Map<string, TableContent>();
    for (const table of (await readDataLayout(client)).tables) {
      const { rows } = await client.query<{ n: string; digest: string }>(
        `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS digest
           FROM ${qualifiedName(client, table)} t`,
      );
      contents.set(table.name, { rows: Number(rows[0]?.n ?? 0), digest: rows[0]?.digest ?? "" });
    }
    return contents;
  });
}

export async function demonstrateRestore(input: {
  report: DeployReport | undefined;
  root: string;
  /** The live database. */
  databaseUrl: string;
  /** An empty scratch database on the same server. */
  scratchUrl: string;
}): Promise<RestoreShown> {
  const backup = input.report?.backup;
  if (!backup?.file || !backup.holdsData) {
    return { ok: false, lines: ["✗ the deploy took no backup that holds data"] };
  }
  const { metadata } = readBackupMetadata(backup.file);
  const lines: string[] = [];
  if (metadata.method === "copy-archive" && metadata.schemaVersion) {
    await migrate({
      root: input.root,
      target: metadata.schemaVersion,
      databaseUrl: input.scratchUrl,
    });
    lines.push(`scratch database migrated to ${metadata.schemaVersion}, the backup's schema`);
  }
  const result = await restoreBackup({ file: backup.file, databaseUrl: input.scratchUrl });
  lines.push(`$ pinline restore ${backup.file} --database-url <scratch>`, `  ${result.summary}`);
  const [live, restored] = [
    await tableContents(input.databaseUrl),
    await tableContents(input.scratchUrl),
  ];
  const names = [...new Set([...live.keys(), ...restored.keys()])].sort();
  const width = Math.max(...names.map((n) => n.length), 5);
  lines.push(`${"table".padEnd(width)}  live  restored`);
  let ok = names.length > 0;
  for (const name of names) {
    const [a, b] = [live.get(name), restored.get(name)];
    const same = a !== undefined && a.rows === b?.rows && a.digest === b.digest;
    ok &&= same;
    lines.push(
      `${name.padEnd(width)}  ${String(a?.rows ?? "—").padStart(4)}  ${String(b?.rows ?? "—").padStart(8)}  ${same ? "✓ same rows" : "✗ differs"}`,
    );
  }
  lines.push(
    ok
      ? "✓ every table holds the same rows as the live database"
      : "✗ the restored tables differ from the live database",
  );
  return { ok, lines };
}
