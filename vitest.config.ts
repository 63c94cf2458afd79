import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

export default defineConfig({
  define: { __PINLINE_VERSION__: JSON.stringify(version) },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["test/harness/postgres-setup.ts"],
    // The tests' own repositories commit as the test suite, whatever the machine's git config
    // says (a new account or a CI machine has no identity). The tests of pinline without an
    // identity clear these (test/runs-anywhere.test.ts, test/harness/ordinary-user.ts).
    env: {
      GIT_AUTHOR_NAME: "pinline tests",
      GIT_AUTHOR_EMAIL: "tests@pinline.invalid",
      GIT_COMMITTER_NAME: "pinline tests",
      GIT_COMMITTER_EMAIL: "tests@pinline.invalid",
    },
  },
});
