// Run before the tests (npm's pretest): installs what the tests need from the machine's package
// manager when it is missing and we may install it; otherwise says which tests will skip.
// `--bench` (bench/serve.mjs) also installs what the benchmarks compare against.
import { spawnSync } from "node:child_process";

const has = (command, flag = "--version") =>
  spawnSync(command, [flag], { stdio: "ignore" }).status === 0;

/** What the tests use, the commands that provide it, its Debian package, and who needs it. */
const TOOLS = [
  { commands: ["gpg"], pkg: "gnupg", tests: "the GnuPG interop tests" },
  { commands: ["prometheus"], pkg: "prometheus", tests: "the real-Prometheus health tests" },
  {
    commands: ["pushgateway", "prometheus-pushgateway"],
    pkg: "prometheus-pushgateway",
    tests: "the Pushgateway tests",
  },
  {
    commands: ["nginx"],
    versionFlag: "-v",
    pkg: "nginx",
    tests: "the update server benchmark's nginx baseline (node:http stands in)",
    bench: true,
  },
];

const bench = process.argv.includes("--bench");
const missing = TOOLS.filter(
  (tool) =>
    (bench || !tool.bench) && !tool.commands.some((command) => has(command, tool.versionFlag)),
);
if (missing.length > 0) {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const packages = missing.map((tool) => tool.pkg);
  if (root && has("apt-get")) {
    console.log(`installing ${packages.join(", ")} for the tests (apt-get)`);
    const update = spawnSync("apt-get", ["update"], { stdio: "inherit" });
    for (const tool of missing) {
      const install =
        update.status === 0
          ? spawnSync("apt-get", ["install", "-y", "--no-install-recommends", tool.pkg], {
              stdio: "inherit",
              env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
            })
          : update;
      if (install.status !== 0)
        console.warn(`could not install ${tool.pkg}: ${tool.tests} will be skipped`);
    }
  } else {
    for (const tool of missing) {
      console.warn(
        `${tool.pkg} is missing and cannot be installed here: ${tool.tests} will be skipped`,
      );
    }
  }
}
