/**
 * `pinline setup github`: the one-time repository settings the trusted model rests on
 * (DESIGN §6), read from GitHub, compared with what they must be, and applied change by
 * change — every change idempotent, so a second run reports everything unchanged:
 * - the "pinline" branch ruleset on the default branch: changes through pull requests, the
 *   `pinline/gate` check from the gate App and the `validate` check required, no force pushes,
 *   no deletion;
 * - the environments (one per pin, pinline-gate, pinline-release, github-pages), each with a
 *   deployment branch policy that admits only the default branch: their secrets are out of
 *   reach of any other branch's workflows;
 * - the labels pinline:promotion and pinline:revert;
 * - GitHub Pages built by GitHub Actions (the publish workflow);
 * - and, names only, the secrets and variables still to set.
 */
import { PinlineError, UsageError } from "../core/errors.js";
import type { PinlineOctokit } from "../github/create-octokit.js";
import { describeGitHubError } from "../github/describe-github-error.js";
import type { RepositoryRef } from "../github/forge.js";
import { deploySecrets, type PinSummary } from "../init/render-workflows.js";

export const RULESET_NAME = "pinline";
export const GATE_CHECK = "pinline/gate";
export const VALIDATE_CHECK = "validate";
/** GitHub Actions' own App: the `validate` job's check run comes from it. */
export const GITHUB_ACTIONS_APP_ID = 15368;

export const LABELS = [
  { name: "pinline:promotion", color: "1d76db", description: "A promotion: the gate judges it" },
  { name: "pinline:revert", color: "d93f0b", description: "A revert opened by a failed deploy" },
] as const;

/** What one environment needs set before its workflows can run. */
export interface EnvironmentSettings {
  environment: string;
  secrets: string[];
  variables: string[];
}

/** The secrets and variables each environment's jobs read, from the pins. */
export function requiredSettings(pins: readonly PinSummary[]): EnvironmentSettings[] {
  const release = {
    secrets: ["PINLINE_RELEASE_PRIVATE_KEY"],
    variables: ["PINLINE_RELEASE_CLIENT_ID"],
  };
  return [
    {
      environment: "pinline-gate",
      secrets: ["PINLINE_GATE_PRIVATE_KEY"],
      variables: ["PINLINE_GATE_CLIENT_ID"],
    },
    { environment: "pinline-release", ...release },
    {
      environment: "github-pages",
      secrets: [
        "PINLINE_FEED_ROOT_KEY",
        "PINLINE_FEED_TARGETS_KEY",
        "PINLINE_FEED_SNAPSHOT_KEY",
        "PINLINE_FEED_TIMESTAMP_KEY",
      ],
      variables: [],
    },
    // The deploy job mints the release App's token in the pin's own environment.
    ...pins.map((pin) => ({
      environment: pin.name,
      secrets: [...deploySecrets([pin]), ...release.secrets],
      variables: release.variables,
    })),
  ];
}

export type ChangeAction = "create" | "update" | "unchanged";

export interface SetupChange {
  kind: "ruleset" | "environment" | "branch policy" | "label" | "pages";
  name: string;
  action: ChangeAction;
  /** What it sets, in words. */
  details: string;
  /** Applies it (absent when unchanged). */
  apply?: () => Promise<void>;
}

export interface SetupPlan {
  repository: string;
  defaultBranch: string;
  changes: SetupChange[];
  /** Secrets and variables not set yet, with the command that sets each. */
  missing: { environment: string; kind: "secret" | "variable"; name: string; command: string }[];
}

function isStatus(error: unknown, status: number): boolean {
  return (error as { status?: number })?.status === status;
}

/**
 * Refusals with what to do. A 403 that is no rate limit is a token that may not administer the
 * repository; the rest (a repository not found, bad credentials, the network) are said as
 * every verb says them.
 */
function refusal(error: unknown, what: string): PinlineError {
  const status = (error as { status?: number })?.status;
  const message = (error as { message?: string })?.message ?? String(error);
  const limited = /rate limit/i.test(message);
  if (status === 403 && !limited) {
    return new UsageError(`GitHub refused to ${what} (${status} ${message.split("\n")[0]})`, {
      hint: "setup needs a repository admin's token (GITHUB_TOKEN or GH_TOKEN): a fine-grained token or App with Administration, Environments, Pages, Secrets and Variables access",
      cause: error,
    });
  }
  return (
    describeGitHubError(error) ??
    new PinlineError(`could not ${what}: ${message.split("\n")[0]}`, { cause: error })
  );
}

async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw refusal(error, what);
  }
}

/** The ruleset's rules as pinline wants them (in GitHub's REST shape). */
function rulesetRules(gateAppId: number) {
  return [
    { type: "deletion" },
    { type: "non_fast_forward" },
    {
      type: "pull_request",
      parameters: {
        // Approvals are the gate's to count (policies/*.yaml): GitHub's count would be a second,
        // weaker rule that ignores who pushed.
        required_approving_review_count: 0,
        dismiss_stale_reviews_on_push: false,
        require_code_owner_review: true,
        require_last_push_approval: false,
        required_review_thread_resolution: false,
      },
    },
    {
      type: "required_status_checks",
      parameters: {
        strict_required_status_checks_policy: false,
        required_status_checks: [
          { context: GATE_CHECK, integration_id: gateAppId },
          { context: VALIDATE_CHECK, integration_id: GITHUB_ACTIONS_APP_ID },
        ],
      },
    },
  ];
}

/** A stable text of rules (keys sorted, rules sorted), to compare what is with what should be. */
function rulesKey(rules: readonly unknown[]): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === "object"
        ? Object.fromEntries(
            Object.entries(value)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([key, inner]) => [key, canonical(inner)]),
          )
        : value;
  return rules
    .map((rule) => JSON.stringify(canonical(rule)))
    .sort()
    .join("\n");
}

export async function planGitHubSetup(input: {
  octokit: PinlineOctokit;
  repository: RepositoryRef;
  pins: readonly PinSummary[];
  /** The gate App's id, or its slug to look up. */
  gateApp: { id: number } | { slug: string };
}): Promise<SetupPlan> {
  const { octokit, repository } = input;
  const { owner, repo } = repository;
  const full = `${owner}/${repo}`;
  const { data: meta } = await read(`read ${full}`, () => octokit.rest.repos.get({ owner, repo }));
  const defaultBranch = meta.default_branch;
  const gateAppId =
    "id" in input.gateApp
      ? input.gateApp.id
      : (
          await read(`find the gate App "${input.gateApp.slug}"`, () =>
            octokit.rest.apps.getBySlug({ app_slug: (input.gateApp as { slug: string }).slug }),
          )
        ).data?.id;
  if (!gateAppId) throw new UsageError("the gate App has no id", { hint: "pass --gate-app-id" });

  const changes: SetupChange[] = [];

  // The ruleset.
  const wanted = {
    name: RULESET_NAME,
    target: "branch" as const,
    enforcement: "active" as const,
    conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
    rules: rulesetRules(gateAppId),
  };
  const rulesets = await read("list the rulesets", () =>
    octokit.paginate(octokit.rest.repos.getRepoRulesets, { owner, repo, per_page: 100 }),
  );
  const existing = rulesets.find((r) => r.name === RULESET_NAME);
  const description = `${defaultBranch}: pull requests only (code owners review policies/ and keys/), ${GATE_CHECK} from App ${gateAppId} and ${VALIDATE_CHECK} required, no force push, no deletion`;
  if (!existing) {
    changes.push({
      kind: "ruleset",
      name: RULESET_NAME,
      action: "create",
      details: description,
      apply: async () => {
        await octokit.rest.repos.createRepoRuleset({ owner, repo, ...wanted } as never);
      },
    });
  } else {
    const { data: current } = await read("read the pinline ruleset", () =>
      octokit.rest.repos.getRepoRuleset({ owner, repo, ruleset_id: existing.id }),
    );
    const same =
      current.enforcement === "active" &&
      JSON.stringify(current.conditions?.ref_name?.include ?? []) === '["~DEFAULT_BRANCH"]' &&
      rulesKey(current.rules ?? []) === rulesKey(wanted.rules);
    changes.push({
      kind: "ruleset",
      name: RULESET_NAME,
      action: same ? "unchanged" : "update",
      details: description,
      ...(same
        ? {}
        : {
            apply: async () => {
              await octokit.rest.repos.updateRepoRuleset({
                owner,
                repo,
                ruleset_id: existing.id,
                ...wanted,
              } as never);
            },
          }),
    });
  }

  // The environments and their branch policies.
  const environments = await read("list the environments", () =>
    octokit.rest.repos.getAllEnvironments({ owner, repo, per_page: 100 }),
  );
  const settings = requiredSettings(input.pins);
  for (const { environment: name } of settings) {
    const current = environments.data.environments?.find((e) => e.name === name);
    const policy = current?.deployment_branch_policy;
    const policyOk = policy?.protected_branches === false && policy.custom_branch_policies === true;
    changes.push({
      kind: "environment",
      name,
      action: !current ? "create" : policyOk ? "unchanged" : "update",
      details: "deployment branches: selected only",
      ...(current && policyOk
        ? {}
        : {
            apply: async () => {
              await octokit.rest.repos.createOrUpdateEnvironment({
                owner,
                repo,
                environment_name: name,
                deployment_branch_policy: {
                  protected_branches: false,
                  custom_branch_policies: true,
                },
              });
            },
          }),
    });
    const policies =
      current && policyOk
        ? (
            await read(`list ${name}'s deployment branch policies`, () =>
              octokit.rest.repos.listDeploymentBranchPolicies({
                owner,
                repo,
                environment_name: name,
                per_page: 100,
              }),
            )
          ).data.branch_policies
        : [];
    const admitted = policies.some(
      (p) => p.name === defaultBranch && (p.type ?? "branch") === "branch",
    );
    changes.push({
      kind: "branch policy",
      name: `${name}: ${defaultBranch}`,
      action: admitted ? "unchanged" : "create",
      details: `only ${defaultBranch} may deploy to ${name}${
        policies.length > (admitted ? 1 : 0)
          ? ` (it also admits ${policies
              .filter((p) => p.name !== defaultBranch)
              .map((p) => p.name)
              .join(", ")}: remove them by hand)`
          : ""
      }`,
      ...(admitted
        ? {}
        : {
            apply: async () => {
              await octokit.rest.repos.createDeploymentBranchPolicy({
                owner,
                repo,
                environment_name: name,
                name: defaultBranch,
                type: "branch",
              });
            },
          }),
    });
  }

  // The labels.
  for (const label of LABELS) {
    const present = await octokit.rest.issues
      .getLabel({ owner, repo, name: label.name })
      .then(() => true)
      .catch((error: unknown) => {
        if (isStatus(error, 404)) return false;
        throw refusal(error, `read the label ${label.name}`);
      });
    changes.push({
      kind: "label",
      name: label.name,
      action: present ? "unchanged" : "create",
      details: label.description,
      ...(present
        ? {}
        : {
            apply: async () => {
              await octokit.rest.issues.createLabel({ owner, repo, ...label });
            },
          }),
    });
  }

  // Pages, built by the publish workflow.
  const pages = await octokit.rest.repos
    .getPages({ owner, repo })
    .then((reply) => reply.data)
    .catch((error: unknown) => {
      if (isStatus(error, 404)) return undefined;
      throw refusal(error, "read the Pages settings");
    });
  const pagesAction: ChangeAction = !pages
    ? "create"
    : pages.build_type === "workflow"
      ? "unchanged"
      : "update";
  changes.push({
    kind: "pages",
    name: "GitHub Pages",
    action: pagesAction,
    details: "built by GitHub Actions (the publish workflow deploys the signed feed)",
    ...(pagesAction === "unchanged"
      ? {}
      : {
          apply: async () => {
            if (pagesAction === "create") {
              await octokit.rest.repos.createPagesSite({
                owner,
                repo,
                build_type: "workflow",
              } as never);
            } else {
              await octokit.rest.repos.updateInformationAboutPagesSite({
                owner,
                repo,
                build_type: "workflow",
              });
            }
          },
        }),
  });

  // Secrets and variables still to set: repository-wide ones count for every environment.
  const names = async (list: () => Promise<{ name: string }[]>, what: string) =>
    new Set((await read(what, list)).map((item) => item.name));
  const repositorySecrets = await names(
    () => octokit.paginate(octokit.rest.actions.listRepoSecrets, { owner, repo, per_page: 100 }),
    "list the repository's secrets",
  );
  const repositoryVariables = await names(
    () => octokit.paginate(octokit.rest.actions.listRepoVariables, { owner, repo, per_page: 30 }),
    "list the repository's variables",
  );
  const missing: SetupPlan["missing"] = [];
  for (const setting of settings) {
    const exists = environments.data.environments?.some((e) => e.name === setting.environment);
    const secrets = exists
      ? await names(
          async () =>
            (
              await octokit.rest.actions.listEnvironmentSecrets({
                owner,
                repo,
                environment_name: setting.environment,
                per_page: 100,
              })
            ).data.secrets,
          `list ${setting.environment}'s secrets`,
        )
      : new Set<string>();
    const variables = exists
      ? await names(
          async () =>
            (
              await octokit.rest.actions.listEnvironmentVariables({
                owner,
                repo,
                environment_name: setting.environment,
                per_page: 30,
              })
            ).data.variables,
          `list ${setting.environment}'s variables`,
        )
      : new Set<string>();
    for (const name of setting.secrets) {
      if (!secrets.has(name) && !repositorySecrets.has(name)) {
        missing.push({
          environment: setting.environment,
          kind: "secret",
          name,
          command: `gh secret set ${name} --env ${setting.environment} --repo ${full}`,
        });
      }
    }
    for (const name of setting.variables) {
      if (!variables.has(name) && !repositoryVariables.has(name)) {
        missing.push({
          environment: setting.environment,
          kind: "variable",
          name,
          command: `gh variable set ${name} --env ${setting.environment} --repo ${full}`,
        });
      }
    }
  }
  return { repository: full, defaultBranch, changes, missing };
}

/**
 * Applies the plan's changes in order. Stops at the first refusal, saying which changes were
 * made before it (each is idempotent: running setup again continues where it stopped).
 */
export async function applyGitHubSetup(
  plan: SetupPlan,
  progress: (change: SetupChange) => void = () => {},
): Promise<SetupChange[]> {
  const applied: SetupChange[] = [];
  for (const change of plan.changes) {
    if (!change.apply) continue;
    try {
      await change.apply();
    } catch (error) {
      const done =
        applied.length === 0
          ? "nothing was changed before it"
          : `${applied.length} change(s) before it were made`;
      const failure = refusal(error, `${change.action} the ${change.kind} ${change.name}`);
      throw new (failure instanceof UsageError ? UsageError : PinlineError)(
        `${failure.message}; ${done}`,
        {
          hint: `${failure.hint ? `${failure.hint}; ` : ""}run pinline setup github again once it is fixed: it continues where it stopped`,
          cause: error,
        },
      );
    }
    applied.push(change);
    progress(change);
  }
  return applied;
}
