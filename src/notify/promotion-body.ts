/**
 * The body of a promotion PR: what moves where, the upgrade path, and the changelog of every
 * release the environment gains — what an approver needs to judge it — plus a hidden marker
 * that lets update-check find and refresh the PR instead of opening another.
 */
import type { ReleaseManifest } from "../core/schema-types.js";
import { cell } from "./markdown.js";

export interface PromotionBodyInput {
  environment: string;
  file: string;
  from: string;
  to: string;
  /** Versions installed in order, ending with `to`. */
  path: readonly string[];
  /** The releases the environment gains, oldest first: from < version <= to, on its channel. */
  releases: readonly ReleaseManifest[];
  /** How to see what the gate will judge: a command, or a link to the plan. */
  planCommand: string;
  /** When update-check last looked at this environment. */
  checkedAt?: Date | undefined;
  /** Who asked for it: "update-check" or the user running promote. */
  openedBy: string;
}

const MARKER = /<!-- pinline:promotion ([^>]*) -->/;

export interface PromotionMarker {
  environment: string;
  version: string;
  checkedAt?: Date | undefined;
}

export function renderMarker(marker: PromotionMarker): string {
  const checked = marker.checkedAt ? ` checked-at=${marker.checkedAt.toISOString()}` : "";
  return `<!-- pinline:promotion environment=${marker.environment} version=${marker.version}${checked} -->`;
}

/** The marker of a promotion PR body, or undefined when the body has none. */
export function readMarker(body: string): PromotionMarker | undefined {
  const match = MARKER.exec(body);
  if (!match) return undefined;
  const fields = new Map(
    (match[1] ?? "").split(/\s+/).flatMap((pair) => {
      const at = pair.indexOf("=");
      return at > 0 ? [[pair.slice(0, at), pair.slice(at + 1)] as const] : [];
    }),
  );
  const environment = fields.get("environment");
  const version = fields.get("version");
  if (!environment || !version) return undefined;
  const checked = fields.get("checked-at");
  const checkedAt = checked ? new Date(checked) : undefined;
  return {
    environment,
    version,
    checkedAt: checkedAt && !Number.isNaN(checkedAt.getTime()) ? checkedAt : undefined,
  };
}

const SECTIONS = [
  ["breaking", "⚠️ Breaking"],
  ["features", "✨ Features"],
  ["fixes", "🐛 Fixes"],
  ["security", "🔒 Security"],
] as const;

function renderRelease(release: ReleaseManifest): string[] {
  const flags = [
    release.mandatory ? "**mandatory**" : "",
    release.releaseNotes ? `[release notes](${release.releaseNotes})` : "",
  ].filter(Boolean);
  const lines = [`#### ${release.version}${flags.length > 0 ? ` — ${flags.join(", ")}` : ""}`, ""];
  for (const [key, title] of SECTIONS) {
    const items = release.changelog?.[key] ?? [];
    if (items.length === 0) continue;
    lines.push(`**${title}**`, "", ...items.map((item) => `- ${item}`), "");
  }
  if (lines.length === 2) lines.push("_No changelog._", "");
  return lines;
}

export function renderPromotionTitle(environment: string, version: string): string {
  return `Promote ${environment} to ${version}`;
}

export function renderPromotionBody(input: PromotionBodyInput): string {
  const direct = input.path.length <= 1;
  const lines = [
    renderMarker({ environment: input.environment, version: input.to, checkedAt: input.checkedAt }),
    `Moves **${input.environment}** from \`${input.from}\` to \`${input.to}\` by changing \`version\` in \`${input.file}\`.`,
    "",
    "| | |",
    "|---|---|",
    `| Environment | ${cell(input.environment)} |`,
    `| From | ${cell(input.from)} |`,
    `| To | ${cell(input.to)} |`,
    `| Upgrade path | ${direct ? "direct" : cell([input.from, ...input.path].join(" → "))} |`,
    `| Opened by | ${cell(input.openedBy)} |`,
    "",
    "The `pinline/gate` check on this PR judges every policy rule (approvals, soak, stage order, blocked versions, channel, upgrade path, signatures, compliance checks, compatibility, maintenance window) and says what is still missing.",
    `To see the same judgement locally: \`${input.planCommand}\`.`,
    "",
    `### Changelog (${input.releases.length} release${input.releases.length === 1 ? "" : "s"})`,
    "",
  ];
  for (const release of input.releases) lines.push(...renderRelease(release));
  return lines.join("\n");
}
