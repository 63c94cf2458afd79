import { vi } from "vitest";
import { runCli } from "../../src/cli/program.js";
import type { Run } from "./example-repo.js";

/**
 * `pinline <args>` run in this process through runCli, with stdout and stderr captured: what
 * the sources say now, where runPinline runs the committed bundle in dist/.
 */
export async function runPinlineInProcess(args: readonly string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await runCli(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    // A verb that fails sets process.exitCode; it is this run's, not the test runner's.
    process.exitCode = undefined;
  }
}
