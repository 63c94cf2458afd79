#!/usr/bin/env node
// Switches the version a running cm-service serves: what the example pins' deploy command does.
//
//   node examples/cm-service/set-version.mjs <url> <version>
//
// Exit codes: 0 the service now runs the version; 1 it refused or could not be reached;
// 2 wrong arguments.
const [url, version] = process.argv.slice(2);

if (!url || !version || process.argv.length > 4) {
  process.stderr.write("usage: set-version.mjs <url> <version>\n");
  process.exit(2);
}

const endpoint = `${url.replace(/\/+$/, "")}/admin/version`;
try {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ version }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 200) {
    let detail = text.trim();
    try {
      detail = JSON.parse(text).error ?? detail;
    } catch {}
    process.stderr.write(
      `set-version: ${endpoint} answered ${response.status} ${response.statusText}: ${detail}\n`,
    );
    process.exit(1);
  }
  const { previous } = JSON.parse(text);
  process.stdout.write(`${url} now runs ${version} (was ${previous})\n`);
} catch (error) {
  const cause = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(error);
  process.stderr.write(`set-version: cannot reach ${endpoint}: ${cause}\n`);
  process.exit(1);
}
