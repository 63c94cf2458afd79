import type { ReleaseVerification } from "../trust/verify-release.js";
import { cell } from "./markdown.js";

/** The job summary of `verify`: the verdict, each signature, each artifact. */
export function renderVerificationSummary(result: ReleaseVerification): string {
  const { signatures } = result;
  const lines = [
    `## pinline verify ${result.version}: ${result.ok ? "✅ trusted" : "❌ not trusted"}`,
    "",
    `${cell(result.summary)}. Threshold ${signatures.threshold}, from ${result.thresholdFrom}.`,
    "",
    "| | key | signer | created | reason |",
    "|---|---|---|---|---|",
    ...signatures.signatures.map(
      (s) =>
        `| ${s.verdict === "valid" ? "✅" : "❌"} | \`${s.keyFingerprint ?? s.signingKeyId}\` | ${cell(s.userId ?? "(not in keys/)")} | ${s.created?.toISOString() ?? "?"} | ${cell(s.reason)} |`,
    ),
    "",
  ];
  if (result.files.length > 0) {
    lines.push(
      "| | file | sha256 | reason |",
      "|---|---|---|---|",
      ...result.files.map(
        (f) =>
          `| ${f.verdict === "valid" ? "✅" : "❌"} | \`${cell(f.file)}\` | \`${f.sha256.slice(0, 16)}\` | ${cell(f.reason)} |`,
      ),
      "",
    );
  }
  if (result.artifacts) {
    lines.push(
      "| | component | file | bytes | sha256 | reason |",
      "|---|---|---|---:|---|---|",
      ...result.artifacts.map(
        (a) =>
          `| ${a.verdict === "valid" ? "✅" : a.verdict === "missing" ? "➖" : "❌"} | ${a.component} | \`${cell(a.path)}\` | ${a.actualSize ?? "-"} | \`${a.actualSha256?.slice(0, 16) ?? "-"}\` | ${cell(a.reason)} |`,
      ),
      "",
    );
  }
  return lines.join("\n");
}
