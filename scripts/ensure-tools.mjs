// Run before the tests (npm's pretest): installs what the tests need from the machine's package
// manager when it is missing and we may install it; otherwise says which tests will skip.
import { spawnSync } from "node:child_process";

const has = (command) => spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;

if (!has("gpg")) {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (root && has("apt-get")) {
    console.log("gpg is missing: installing gnupg for the GnuPG interop tests (apt-get)");
    const update = spawnSync("apt-get", ["update"], { stdio: "inherit" });
    const install =
      update.status === 0
        ? spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "gnupg"], {
            stdio: "inherit",
            env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
          })
        : update;
    if (install.status !== 0)
      console.warn("could not install gnupg: the GnuPG interop tests will be skipped");
  } else {
    console.warn(
      "gpg is missing and cannot be installed here: the GnuPG interop tests will be skipped",
    );
  }
}

if (!has("pushgateway") && !has("prometheus-pushgateway")) {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (root && has("apt-get")) {
    console.log("the Pushgateway is missing: installing prometheus-pushgateway (apt-get)");
    const update = spawnSync("apt-get", ["update"], { stdio: "inherit" });
    const install =
      update.status === 0
        ? spawnSync(
            "apt-get",
            ["install", "-y", "--no-install-recommends", "prometheus-pushgateway"],
            { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } },
          )
        : update;
    if (install.status !== 0)
      console.warn(
        "could not install prometheus-pushgateway: the Pushgateway tests will be skipped",
      );
  } else {
    console.warn(
      "the Pushgateway is missing and cannot be installed here: the Pushgateway tests will be skipped",
    );
  }
}

if (!has("prometheus")) {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (root && has("apt-get")) {
    console.log(
      "prometheus is missing: installing it for the real-Prometheus health tests (apt-get)",
    );
    const update = spawnSync("apt-get", ["update"], { stdio: "inherit" });
    const install =
      update.status === 0
        ? spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "prometheus"], {
            stdio: "inherit",
            env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
          })
        : update;
    if (install.status !== 0)
      console.warn(
        "could not install prometheus: the real-Prometheus health tests will be skipped",
      );
  } else {
    console.warn(
      "prometheus is missing and cannot be installed here: the real-Prometheus health tests will be skipped",
    );
  }
}
