/**
 * Who runs a migration, for the history's applied_by column (the database role is added by the
 * server): "alice@runner-7" — the GitHub actor in a workflow, else the local user, and the host.
 * Pure: the caller passes its environment and hostname, so nothing in src/db reads process.env.
 */
export function describeOperator(
  env: Readonly<Record<string, string | undefined>>,
  hostname: string,
): string | undefined {
  const who = env.GITHUB_ACTOR || env.USER || env.USERNAME;
  const where = hostname.trim();
  if (who && where) return `${who}@${where}`;
  return who || where || undefined;
}
