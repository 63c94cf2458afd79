/** One branch per environment carries its promotion PR, so re-runs find it instead of adding one. */
export function promotionBranch(environment: string): string {
  return `pinline/promote/${environment}`;
}

/** Labels every promotion PR carries (the revert PRs of the deploy flow carry pinline:revert). */
export const PROMOTION_LABEL = "pinline:promotion";
