/**
 * The feed's signing keys in a workflow: one secret per role, mapped by the workflow to
 * PINLINE_FEED_ROOT_KEY, …_TARGETS_KEY, …_SNAPSHOT_KEY, …_TIMESTAMP_KEY (PKCS#8 PEM), and, while
 * the root key is rotated, the old one as PINLINE_FEED_PREVIOUS_ROOT_KEY (an unset secret maps
 * to an empty value: no rotation). Every key is handed to `mask` (which masks it line by line)
 * before anything else can print it.
 */
import { UsageError } from "../core/errors.js";
import type { FeedKeys } from "../feed/keys.js";
import {
  FEED_KEY_ROLES,
  feedKeyVariable,
  PREVIOUS_ROOT_KEY_VARIABLE,
} from "../feed/read-feed-keys.js";

export function feedKeysFromEnvironment(
  env: NodeJS.ProcessEnv,
  mask: (secret: string) => void,
): FeedKeys {
  const keys: Partial<Record<(typeof FEED_KEY_ROLES)[number], string>> = {};
  for (const role of FEED_KEY_ROLES) {
    const pem = env[feedKeyVariable(role)];
    if (!pem?.trim()) continue;
    mask(pem);
    keys[role] = pem;
  }
  const previousRoot = env[PREVIOUS_ROOT_KEY_VARIABLE];
  if (previousRoot?.trim()) mask(previousRoot);
  const missing = FEED_KEY_ROLES.filter((role) => keys[role] === undefined).map(feedKeyVariable);
  if (missing.length > 0) {
    throw new UsageError(
      `no ${missing.length === 1 ? "key" : "keys"} to sign the feed: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set`,
      {
        hint: `map each secret into the step's env (PINLINE_FEED_ROOT_KEY: \${{ secrets.PINLINE_FEED_ROOT_KEY }}); \`pinline feed keys --out DIR\` makes a set`,
      },
    );
  }
  const { root, targets, snapshot, timestamp } = keys as Required<typeof keys>;
  return {
    root,
    targets,
    snapshot,
    timestamp,
    ...(previousRoot?.trim() ? { previousRoot: [previousRoot] } : {}),
  };
}
