// Cold start of every action bundle (DESIGN §7: within 3× of `node -e ""`): each dist/<action>.js
// is run as the runner runs it, in an empty workspace with no inputs, so it loads, starts, and
// stops at its first output (the error annotation for the missing input or context) — the cost
// every run pays before doing any work. validate.mjs measures validate's full run on the example.
// Runs are interleaved with bare node; the machine is noisy, so the budget is a ratio of medians.
//
// Usage: node bench/cold-start.mjs [--quick]   (--quick: 5 runs each instead of 15)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./postgres.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const RUNS = quick ? 5 : 15;
const BUDGET = 3.0;

const actions = readdirSync(join(repo, "actions"))
  .filter((name) =>
    readFileSync(join(repo, "actions", name, "action.yml"), "utf8").includes("node24"),
  )
  .sort();
const work = mkdtempSync(join(tmpdir(), "pinline-bench-cold-"));
try {
  const event = join(work, "event.json");
  writeFileSync(event, "{}");
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: work,
    GITHUB_EVENT_PATH: event,
    GITHUB_EVENT_NAME: "workflow_dispatch",
    GITHUB_OUTPUT: join(work, "output"),
    GITHUB_STEP_SUMMARY: join(work, "summary"),
    RUNNER_TEMP: work,
  };
  const time = (args) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: work, env, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    return { ms, output: `${result.stdout}${result.stderr}` };
  };
  const node = [];
  const times = Object.fromEntries(actions.map((name) => [name, []]));
  const firstOutput = {};
  for (let run = 0; run < RUNS; run++) {
    node.push(time(["-e", ""]).ms);
    for (const name of actions) {
      const { ms, output } = time([join(repo, "dist", `${name}.js`)]);
      times[name].push(ms);
      firstOutput[name] ??= output.split("\n").find((line) => line.trim()) ?? "(no output)";
    }
  }

  const base = median(node);
  console.log(`\n### Action cold start${quick ? " (--quick)" : ""}\n`);
  console.log(
    `Each bundle run ${RUNS} times, interleaved with bare \`node -e ""\` (median ${base.toFixed(0)} ms); Node ${process.version}; ${new Date().toISOString()}\n`,
  );
  console.log("| Action | Median | Ratio | Budget ≤ 3× | First output |");
  console.log("| --- | ---: | ---: | :---: | --- |");
  let missed = false;
  for (const name of actions) {
    const m = median(times[name]);
    const ratio = m / base;
    if (ratio > BUDGET) missed = true;
    const shown = firstOutput[name].slice(0, 70).replaceAll("|", "\\|");
    console.log(
      `| ${name} | ${m.toFixed(0)} ms | ${ratio.toFixed(2)}× | ${ratio <= BUDGET ? "PASS" : "MISS"} | \`${shown}\` |`,
    );
  }
  if (missed) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
