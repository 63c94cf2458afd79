/** Where things live in a pinline repository (DESIGN §1). */

export const RELEASE_FILE = "release.yaml";
/** The detached signatures over release.yaml, beside it. */
export const SIGNATURE_FILE = `${RELEASE_FILE}.asc`;
export const ROLLOUT_FILE = "policies/rollout.yaml";

/** Byte order of names, as git and `ls` with LC_ALL=C sort them. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
