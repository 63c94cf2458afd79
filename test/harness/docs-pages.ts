/**
 * The documentation as data, for the tests that hold it to the code: every page (README.md and
 * docs/**), the blocks of program output they mark with `<!-- output: <id> -->`, their relative
 * links and their headings' anchors, and one way to normalise what changes from run to run.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./example-repo.js";

/** README.md and every Markdown file under docs/, relative to the repository. */
export function docPages(): string[] {
  const pages = ["README.md"];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) pages.push(path);
    }
  };
  walk("docs");
  return pages.sort();
}

export function readPage(page: string): string {
  return readFileSync(join(repoRoot, page), "utf8");
}

/** A block of program output a page shows, as the page shows it. */
export interface ShownOutput {
  id: string;
  page: string;
  /** 1-based line of the marker. */
  line: number;
  /** A fenced code block, or a blockquote (a check run rendered as Markdown). */
  kind: "fence" | "quote";
  /** The block's lines: a fence's content, a quote's lines without `> `. */
  text: string;
}

const MARKER = /^<!-- output: ([a-z0-9-]+) -->$/;

/** Every marked block of every page; a marker without a block after it is an error. */
export function shownOutputs(): ShownOutput[] {
  const shown: ShownOutput[] = [];
  for (const page of docPages()) {
    const lines = readPage(page).split("\n");
    lines.forEach((line, index) => {
      const id = MARKER.exec(line)?.[1];
      if (!id) return;
      let at = index + 1;
      while (lines[at] === "") at++;
      const first = lines[at] ?? "";
      if (first.startsWith("```")) {
        const end = lines.findIndex((l, i) => i > at && l.startsWith("```"));
        if (end < 0) throw new Error(`${page}:${index + 1}: the block of ${id} is not closed`);
        shown.push({
          id,
          page,
          line: index + 1,
          kind: "fence",
          text: lines.slice(at + 1, end).join("\n"),
        });
      } else if (first.startsWith(">")) {
        const quote: string[] = [];
        for (let i = at; (lines[i] ?? "").startsWith(">"); i++) {
          quote.push((lines[i] as string).replace(/^> ?/, ""));
        }
        shown.push({ id, page, line: index + 1, kind: "quote", text: quote.join("\n") });
      } else {
        throw new Error(`${page}:${index + 1}: ${id} marks no code block or quote`);
      }
    });
  }
  return shown;
}

/** The one block marked `id`; fails when there is none or more than one. */
export function shownOutput(id: string): ShownOutput {
  const found = shownOutputs().filter((block) => block.id === id);
  if (found.length !== 1) {
    throw new Error(`expected one block marked <!-- output: ${id} -->, found ${found.length}`);
  }
  return found[0] as ShownOutput;
}

/**
 * What changes from run to run, replaced by a placeholder, the same way on the page's side and
 * on the program's: short commit shas, timestamps and dates, durations, absolute paths (temp
 * folders, the reader's home), loopback ports. Trailing spaces are dropped.
 */
export function normaliseOutput(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) =>
      line
        .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, "<time>")
        .replace(/\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\b/g, "<when>")
        .replace(/\b\d+(?:\.\d+)? ?(?:ms|s)\b/g, "<duration>")
        .replace(/\b(127\.0\.0\.1|localhost):\d+/g, "$1:<port>")
        .replace(/(^|[\s("'])\/[^\s)"']+/g, "$1<path>")
        .replace(/\b[0-9a-f]{7}\b/g, "<sha>")
        .trimEnd(),
    )
    .join("\n");
}

/** A link in a page, outside code. */
export interface PageLink {
  page: string;
  line: number;
  target: string;
}

/** The lines of a page that are prose: fenced code blocks blanked, inline code removed. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split("\n").map((line) => {
    if (line.trimStart().startsWith("```")) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, "code");
  });
}

/** Every Markdown link of a page that does not leave the repository (no scheme). */
export function relativeLinks(page: string): PageLink[] {
  const links: PageLink[] = [];
  proseLines(readPage(page)).forEach((line, index) => {
    for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ page, line: index + 1, target });
    }
  });
  return links;
}

/** The anchors GitHub gives a page's headings (lower case, punctuation dropped, -1 for twins). */
export function headingAnchors(page: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of readPage(page).split("\n")) {
    if (line.trimStart().startsWith("```")) fenced = !fenced;
    const heading = fenced ? undefined : /^#{1,6} (.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-");
    const twins = seen.get(slug) ?? 0;
    seen.set(slug, twins + 1);
    anchors.add(twins === 0 ? slug : `${slug}-${twins}`);
  }
  return anchors;
}
