import { createInterface } from "node:readline/promises";
import { UsageError } from "../core/errors.js";

/**
 * Confirms a destructive step: --yes said it already; else the terminal is asked, and "yes"
 * goes on; without a terminal (a script, CI) it refuses with a UsageError that says what it
 * would have done and to pass --yes.
 */
export async function confirmed(input: {
  yes: boolean;
  /** What would happen, as a clause: "rolling back every migration would drop …". */
  consequence: string;
  question: string;
}): Promise<boolean> {
  if (input.yes) return true;
  if (!process.stdin.isTTY) {
    throw new UsageError(`${input.consequence}, and there is no terminal to ask`, {
      hint: "pass --yes to confirm",
    });
  }
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await terminal.question(`${input.question} Type yes to go on: `);
    return answer.trim().toLowerCase() === "yes";
  } finally {
    terminal.close();
  }
}
