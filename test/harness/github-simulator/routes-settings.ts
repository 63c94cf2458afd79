/**
 * The repository settings `pinline setup github` applies: environments and their deployment
 * branch policies, GitHub Pages, the names of secrets and variables, and updating a ruleset.
 *
 * Sources (REST API, 2022-11-28):
 * - environments: https://docs.github.com/en/rest/deployments/environments — "If
 *   protected_branches is true, custom_branch_policies must be false; if protected_branches is
 *   false, custom_branch_policies must be true"; creating or updating needs the admin role
 *   (Apps: Administration write);
 * - deployment branch policies:
 *   https://docs.github.com/en/rest/deployments/branch-policies — only for an environment whose
 *   deployment_branch_policy.custom_branch_policies is true; type "branch" or "tag";
 * - Pages: https://docs.github.com/en/rest/pages/pages — GET is 404 until Pages is enabled;
 *   POST enables it (build_type "workflow" or "legacy"), 409 when it already is; PUT updates;
 * - secrets and variables: https://docs.github.com/en/rest/actions/secrets and
 *   https://docs.github.com/en/rest/actions/variables — lists give names (secrets never their
 *   values), `{ total_count, secrets | variables }`;
 * - rulesets: https://docs.github.com/en/rest/repos/rules#update-a-repository-ruleset.
 */
import type { SimulatorCore } from "./core.js";
import {
  conflict,
  integerParam,
  isRecord,
  notFound,
  type RequestContext,
  type Router,
  unprocessable,
} from "./http.js";
import type { Environment, NamedSetting } from "./model.js";
import { nodeId } from "./model.js";
import { buildRuleset, rulesetJson } from "./rules.js";

function environmentJson(core: SimulatorCore, environment: Environment) {
  return {
    id: environment.id,
    node_id: environment.nodeId,
    name: environment.name,
    url: `${core.apiRepoUrl}/environments/${encodeURIComponent(environment.name)}`,
    html_url: `${core.htmlRepoUrl}/deployments/activity_log?environments_filter=${encodeURIComponent(environment.name)}`,
    created_at: environment.createdAt,
    updated_at: environment.updatedAt,
    protection_rules:
      environment.deploymentBranchPolicy === null
        ? []
        : [
            {
              id: environment.id + 1,
              node_id: nodeId("GA", environment.id),
              type: "branch_policy",
            },
          ],
    deployment_branch_policy: environment.deploymentBranchPolicy,
  };
}

function settingsList(items: NamedSetting[], key: "secrets" | "variables", withValue: boolean) {
  return {
    total_count: items.length,
    [key]: items.map((item) => ({
      name: item.name,
      ...(withValue ? { value: item.value ?? "" } : {}),
      created_at: item.createdAt,
      updated_at: item.createdAt,
    })),
  };
}

export function registerSettingsRoutes(router: Router, core: SimulatorCore): void {
  const environments = "/repos/{owner}/{repo}/environments";
  const find = (request: RequestContext) => {
    const name = request.params.environment_name ?? "";
    const environment = core.state.environments.find((e) => e.name === name);
    if (!environment) throw notFound();
    return environment;
  };
  router.add("GET", environments, () => ({
    status: 200,
    body: {
      total_count: core.state.environments.length,
      environments: core.state.environments.map((e) => environmentJson(core, e)),
    },
  }));
  router.add("GET", `${environments}/{environment_name}`, (request) => ({
    status: 200,
    body: environmentJson(core, find(request)),
  }));
  router.add("PUT", `${environments}/{environment_name}`, (request) => {
    core.requireRole(request, "admin");
    const name = request.params.environment_name ?? "";
    const body = isRecord(request.body) ? request.body : {};
    let policy: Environment["deploymentBranchPolicy"] = null;
    if (isRecord(body.deployment_branch_policy)) {
      const { protected_branches, custom_branch_policies } = body.deployment_branch_policy;
      if (typeof protected_branches !== "boolean" || typeof custom_branch_policies !== "boolean") {
        throw unprocessable('Invalid request.\n\nNo subschema in "anyOf" matched.');
      }
      if (protected_branches === custom_branch_policies) {
        throw unprocessable(
          "Invalid request.\n\nprotected_branches and custom_branch_policies cannot have the same value.",
        );
      }
      policy = { protected_branches, custom_branch_policies };
    }
    let environment = core.state.environments.find((e) => e.name === name);
    if (!environment) {
      const id = core.nextId();
      environment = {
        id,
        nodeId: nodeId("EN", id),
        name,
        deploymentBranchPolicy: policy,
        branchPolicies: [],
        createdAt: core.now(),
        updatedAt: core.now(),
      };
      core.state.environments.push(environment);
    } else {
      environment.deploymentBranchPolicy = policy;
      environment.updatedAt = core.now();
    }
    // Custom policies off: the ones it had no longer apply, and are gone.
    if (!policy?.custom_branch_policies) environment.branchPolicies = [];
    return { status: 200, body: environmentJson(core, environment) };
  });

  const policies = `${environments}/{environment_name}/deployment-branch-policies`;
  router.add("GET", policies, (request) => {
    const environment = find(request);
    return {
      status: 200,
      body: {
        total_count: environment.branchPolicies.length,
        branch_policies: environment.branchPolicies.map((p) => ({
          id: p.id,
          node_id: p.nodeId,
          name: p.name,
          type: p.type,
        })),
      },
    };
  });
  router.add("POST", policies, (request) => {
    core.requireRole(request, "admin");
    const environment = find(request);
    if (!environment.deploymentBranchPolicy?.custom_branch_policies) throw notFound();
    const body = isRecord(request.body) ? request.body : {};
    const name = typeof body.name === "string" ? body.name : "";
    const type = body.type === "tag" ? "tag" : "branch";
    if (!name) throw unprocessable('Invalid request.\n\n"name" wasn\'t supplied.');
    if (environment.branchPolicies.some((p) => p.name === name && p.type === type)) {
      throw conflict(`A ${type} policy named ${name} already exists`);
    }
    const id = core.nextId();
    const policy = { id, nodeId: nodeId("DBP", id), name, type } as const;
    environment.branchPolicies.push(policy);
    return { status: 200, body: { id, node_id: policy.nodeId, name, type } };
  });

  const pagesJson = () => ({
    url: `${core.apiRepoUrl}/pages`,
    status: "built",
    cname: null,
    custom_404: false,
    html_url: `https://${core.owner}.github.io/${core.repo}/`,
    build_type: core.state.pages?.buildType ?? "workflow",
    public: true,
    https_enforced: true,
  });
  router.add("GET", "/repos/{owner}/{repo}/pages", () => {
    if (!core.state.pages) throw notFound();
    return { status: 200, body: pagesJson() };
  });
  const buildType = (request: RequestContext) => {
    const body = isRecord(request.body) ? request.body : {};
    if (body.build_type !== "workflow" && body.build_type !== "legacy") {
      throw unprocessable(
        "Invalid request.\n\nFor 'properties/build_type', is not one of legacy, workflow.",
      );
    }
    return body.build_type;
  };
  router.add("POST", "/repos/{owner}/{repo}/pages", (request) => {
    core.requireRole(request, "admin");
    if (core.state.pages) throw conflict("GitHub Pages is already enabled.");
    core.state.pages = { buildType: buildType(request) };
    return { status: 201, body: pagesJson() };
  });
  router.add("PUT", "/repos/{owner}/{repo}/pages", (request) => {
    core.requireRole(request, "admin");
    if (!core.state.pages) throw notFound();
    core.state.pages = { buildType: buildType(request) };
    return { status: 204, body: undefined };
  });

  const scoped = (items: NamedSetting[], environment: string | undefined) =>
    items.filter((item) => item.environment === environment);
  router.add("GET", "/repos/{owner}/{repo}/actions/secrets", (request) => {
    core.requireRole(request, "write");
    return {
      status: 200,
      body: settingsList(scoped(core.state.secrets, undefined), "secrets", false),
    };
  });
  router.add("GET", `${environments}/{environment_name}/secrets`, (request) => {
    core.requireRole(request, "write");
    const environment = find(request);
    return {
      status: 200,
      body: settingsList(scoped(core.state.secrets, environment.name), "secrets", false),
    };
  });
  router.add("GET", "/repos/{owner}/{repo}/actions/variables", (request) => {
    core.requireRole(request, "write");
    return {
      status: 200,
      body: settingsList(scoped(core.state.variables, undefined), "variables", true),
    };
  });
  router.add("GET", `${environments}/{environment_name}/variables`, (request) => {
    core.requireRole(request, "write");
    const environment = find(request);
    return {
      status: 200,
      body: settingsList(scoped(core.state.variables, environment.name), "variables", true),
    };
  });

  router.add("PUT", "/repos/{owner}/{repo}/rulesets/{ruleset_id}", (request) => {
    core.requireRole(request, "admin");
    const id = integerParam(request, "ruleset_id");
    const index = core.state.rulesets.findIndex((candidate) => candidate.id === id);
    const existing = core.state.rulesets[index];
    if (!existing) throw notFound();
    const built = buildRuleset(
      core,
      { ...rulesetInput(existing), ...(request.body as object) },
      true,
    );
    const updated = {
      ...built,
      id: existing.id,
      nodeId: existing.nodeId,
      createdAt: existing.createdAt,
    };
    core.state.rulesets[index] = updated;
    return { status: 200, body: rulesetJson(core, updated, request.auth) };
  });
}

/** A stored ruleset in its REST input form (what PUT merges its body over). */
function rulesetInput(ruleset: import("./model.js").Ruleset) {
  return {
    name: ruleset.name,
    target: ruleset.target,
    enforcement: ruleset.enforcement,
    bypass_actors: ruleset.bypass_actors,
    conditions: ruleset.conditions,
    rules: ruleset.rules,
  };
}
