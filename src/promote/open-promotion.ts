/**
 * `pinline promote <env> <version>` / actions/promote: the pin change as a pull request. The
 * branch `pinline/promote/<env>` holds exactly one commit on the base branch changing the
 * pin's `version` line; re-running finds the branch and the PR and updates them in place. When
 * the branch already holds the wanted pin, it is left alone — moving it would make every
 * approval stale.
 */
import { RefusedError, UsageError } from "../core/errors.js";
import { DEFAULT_CHANNEL } from "../core/gates/channel.js";
import { planUpgrade } from "../core/plan-upgrade.js";
import { RETRY_TRAILER } from "../core/revert-hold.js";
import type { EnvironmentPin, ReleaseManifest } from "../core/schema-types.js";
import { eligibleUpdates } from "../core/select-update.js";
import { compareVersions, tryParseVersion } from "../core/version.js";
import type { Forge } from "../github/forge.js";
import { renderPromotionBody, renderPromotionTitle } from "../notify/promotion-body.js";
import {
  type Catalog,
  policiesOf,
  releaseManifests,
  releaseOf,
  requirePin,
} from "../repo/catalog.js";
import { loadSoundCatalog } from "../repo/require-sound-governance.js";
import { PROMOTION_LABEL, promotionBranch } from "./promotion-branch.js";
import { type PinChangeProposal, proposePinChange } from "./propose-pin-change.js";

export interface PromotionResult extends PinChangeProposal {
  from: string;
  to: string;
  path: string[];
}

export interface PromotionPlan {
  environment: string;
  file: string;
  pin: EnvironmentPin;
  to: string;
  path: string[];
  releases: ReleaseManifest[];
}

/** Checks the promotion makes sense on the base tree and gathers what the PR body shows. */
export function preparePromotion(
  catalog: Catalog,
  environment: string,
  version: string,
): PromotionPlan {
  const { file, pin } = requirePin(catalog, environment);
  if (!tryParseVersion(version)) {
    throw new UsageError(`"${version}" is not a version`, { hint: 'such as "2.4.1"' });
  }
  const release = releaseOf(catalog, version);
  if (!release) {
    throw new RefusedError(`releases/${version} does not exist (or does not validate)`, {
      hint: "merge the release PR first; pinline validate shows what is wrong",
    });
  }
  if (compareVersions(version, pin.version) === 0) {
    throw new RefusedError(`${environment} already runs ${pin.version}`);
  }
  const policies = policiesOf(catalog, environment);
  const channel = pin.update?.channel ?? DEFAULT_CHANNEL;
  const all = releaseManifests(catalog);
  const eligible = eligibleUpdates({ channel, policies, releases: all });
  let path = [release.version];
  if (compareVersions(version, pin.version) > 0) {
    try {
      path = planUpgrade({ from: pin.version, to: version, releases: eligible });
    } catch {
      // The gate explains why; the PR still shows the direct step.
    }
  }
  const eligibleVersions = new Set(eligible.map((e) => e.version));
  const gained = all
    .filter(
      (r) =>
        eligibleVersions.has(r.version) &&
        compareVersions(r.version, pin.version) > 0 &&
        compareVersions(r.version, version) <= 0,
    )
    .sort((a, b) => compareVersions(a.version, b.version));
  return {
    environment,
    file,
    pin,
    to: release.version,
    path,
    releases: gained.length > 0 ? gained : [release],
  };
}

export async function openPromotion(input: {
  root: string;
  forge: Forge;
  environment: string;
  version: string;
  base?: string | undefined;
  openedBy?: string | undefined;
  checkedAt?: Date | undefined;
  /** The base tree's catalog, when the caller has already read it (update-check). */
  catalog?: Catalog | undefined;
  /** Tries the version again after it was reverted there: the commit carries the trailer. */
  retry?: boolean | undefined;
}): Promise<PromotionResult> {
  const catalog = input.catalog ?? (await loadSoundCatalog(input.root, "promote"));
  const plan = preparePromotion(catalog, input.environment, input.version);
  const { forge, environment } = input;
  const title = renderPromotionTitle(environment, plan.to);
  const proposal = await proposePinChange({
    forge,
    file: plan.file,
    version: plan.to,
    branch: promotionBranch(environment),
    base: input.base ?? "main",
    title,
    message: `${plan.pin.version} → ${plan.to}`,
    trailer: input.retry ? `${RETRY_TRAILER}: ${plan.to}` : undefined,
    body: renderPromotionBody({
      environment,
      file: plan.file,
      from: plan.pin.version,
      to: plan.to,
      path: plan.path,
      releases: plan.releases,
      planCommand: `pinline plan ${environment} --to ${plan.to} --github`,
      checkedAt: input.checkedAt,
      openedBy: input.openedBy ?? "pinline promote",
    }),
    label: PROMOTION_LABEL,
  });
  return { ...proposal, from: plan.pin.version, to: plan.to, path: plan.path };
}
