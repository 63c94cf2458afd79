/** Escaping for the Markdown that summaries and check runs are written in. */

/** Text safe inside a Markdown table cell: pipes escaped, one line. */
export function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** Text safe inside a quoted mermaid node label. */
export function mermaidText(text: string): string {
  return text.replace(/"/g, "#quot;");
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
