import { Command } from "commander";
import type { Io } from "../io.js";

export function demoCommand(io: Io): Command {
  return new Command("demo")
    .description(
      "run the update lifecycle end to end on embedded defaults: a good release deployed, a bad one rolled back",
    )
    .option("--keep", "keep the temporary copy of the example repository")
    .option("--no-color", "plain output (also NO_COLOR)")
    .action(async (options: { keep?: boolean; color: boolean }) => {
      const { runDemo } = await import("../../demo/run-demo.js");
      const result = await runDemo({
        write: io.out,
        color: options.color && !process.env.NO_COLOR && Boolean(process.stdout.isTTY),
        keep: options.keep,
        databaseUrl: process.env.DATABASE_URL || undefined,
      });
      process.exitCode = result.ok ? 0 : 1;
    });
}
