/**
 * Where a deploy on this machine keeps its locks, pre-update backups and update metrics when
 * the runner gives no RUNNER_TEMP: a folder of this user's own under the temp folder, 0700.
 * One shared name would be created by the first user and refuse (or, for backups, expose
 * database contents to) every other account on the machine.
 */
import { lstatSync, mkdirSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { PinlineError } from "../core/errors.js";

/** `<tmp>/pinline-<uid>`, created 0700; refused if it is a link, someone else's, or open to others. */
export function privateStateDir(): string {
  const uid = userInfo().uid;
  const dir = join(tmpdir(), `pinline-${uid < 0 ? userInfo().username : uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  const mine = uid < 0 || info.uid === uid;
  if (!info.isDirectory() || !mine || (info.mode & 0o077) !== 0) {
    throw new PinlineError(
      `${dir} is not a private folder of this user's (it must be a directory owned by uid ${uid}, mode 0700)`,
      {
        hint: `remove it, or set TMPDIR to a folder of your own; pinline keeps deploy locks and backups there`,
      },
    );
  }
  return dir;
}
