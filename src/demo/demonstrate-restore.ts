/**
 * The demo's restore: the pre-update backup of the failed deploy goes into a scratch database
 * on the same server — migrated to the backup's schema version first when it is a COPY archive
 * (which restores data, not schema) — and every application table's row count is compared with
 * the live database's.
 */
import pg from "pg";
import { readBackupMetadata } from "../backup/backup-metadata.js";
import { qualifiedName, readDataLayout } from "../backup/read-data-layout.js";
import { restoreBackup } from "../backup/restore-backup.js";
import { migrate } from "../db/run-migration.js";
import type { DeployReport } from "../deploy/deploy-report.js";

export interface RestoreShown {
  ok: boolean;
  lines: string[];
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** "public.diagnostics" → its row count, for every application table. */
async function rowCounts(url: string): Promise<Map<string, number>> {
  return withClient(url, async (client) => {
    await client.query("SELECT pg_catalog.set_config('search_path', '', false)");
    const counts = new Map<string, number>();
    for (const table of (await readDataLayout(client)).tables) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${qualifiedName(client, table)}`,
      );
      counts.set(table.name, Number(rows[0]?.n ?? 0));
    }
    return counts;
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
  const [live, restored] = [await rowCounts(input.databaseUrl), await rowCounts(input.scratchUrl)];
  const names = [...new Set([...live.keys(), ...restored.keys()])].sort();
  const width = Math.max(...names.map((n) => n.length), 5);
  lines.push(`${"table".padEnd(width)}  live  restored`);
  let ok = names.length > 0;
  for (const name of names) {
    const [a, b] = [live.get(name), restored.get(name)];
    const same = a !== undefined && a === b;
    ok &&= same;
    lines.push(
      `${name.padEnd(width)}  ${String(a ?? "—").padStart(4)}  ${String(b ?? "—").padStart(8)}  ${same ? "✓" : "✗"}`,
    );
  }
  lines.push(
    ok
      ? "✓ every table and its row count match the live database"
      : "✗ the restored tables differ from the live database",
  );
  return { ok, lines };
}
