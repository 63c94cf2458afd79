/**
 * An ordinary account with no git identity, as a new laptop account or a CI machine is: the
 * tests run pinline as it to show that nothing needs root, a global git config or a writable
 * checkout. As root that is a system user of its own (created once); otherwise it is the
 * current user with an empty home.
 */
import { spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRoot } from "../../src/demo/embedded-postgres.js";

export const ORDINARY_USER = "pinline-tester";

export interface OrdinaryUser {
  /** uid and gid to spawn with, when we are root. */
  spawnAs: { uid: number; gid: number } | undefined;
  /** A 0700 home of their own, without a .gitconfig. */
  home: string;
  /** The environment: HOME and TMPDIR theirs, no system git config, no identity variables. */
  env: NodeJS.ProcessEnv;
  /** Why pinline cannot be run as them here, or undefined. */
  unavailable: string | undefined;
  remove(): void;
}

function id(flag: string, name: string): number | undefined {
  const result = spawnSync("id", [flag, name], { encoding: "utf8" });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}

/** Creates the account when we are root and it is missing; `cli` is what they must be able to run. */
export function ordinaryUser(cli: string): OrdinaryUser {
  let spawnAs: OrdinaryUser["spawnAs"];
  if (isRoot()) {
    if (id("-u", ORDINARY_USER) === undefined) {
      spawnSync("useradd", ["--system", "--user-group", "--no-create-home", ORDINARY_USER]);
    }
    const uid = id("-u", ORDINARY_USER);
    const gid = id("-g", ORDINARY_USER);
    if (uid !== undefined && gid !== undefined) spawnAs = { uid, gid };
  }
  const home = mkdtempSync(join(tmpdir(), "pinline-ordinary-home-"));
  if (spawnAs) chownSync(home, spawnAs.uid, spawnAs.gid);
  const {
    GIT_AUTHOR_NAME: _an,
    GIT_AUTHOR_EMAIL: _ae,
    GIT_COMMITTER_NAME: _cn,
    GIT_COMMITTER_EMAIL: _ce,
    EMAIL: _email,
    GIT_CONFIG_GLOBAL: _global,
    XDG_CONFIG_HOME: _xdg,
    ...inherited
  } = process.env;
  const env = {
    ...inherited,
    HOME: home,
    TMPDIR: tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    ...(spawnAs ? { USER: ORDINARY_USER, LOGNAME: ORDINARY_USER } : {}),
  };
  let unavailable: string | undefined;
  if (isRoot() && !spawnAs) unavailable = `could not create the system user ${ORDINARY_USER}`;
  else {
    const probe = spawnSync(process.execPath, [cli, "--version"], {
      ...(spawnAs ?? {}),
      env,
      cwd: home,
      encoding: "utf8",
    });
    if (probe.status !== 0) {
      unavailable = `${ORDINARY_USER} cannot run ${cli} (the checkout is inside a folder only its owner may enter, such as a 0700 home): ${(probe.stderr || probe.error?.message || "").trim().split("\n")[0]}`;
    }
  }
  return {
    spawnAs,
    home,
    env,
    unavailable,
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}
