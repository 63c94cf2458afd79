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
