/**
 * The two GraphQL mutations REST lacks: enabling and disabling auto-merge. There is no GraphQL
 * parser here: the operation is recognised by its mutation field, and each argument is read
 * from the variables (by name, at any depth, e.g. inside an `input` object) or from a literal
 * in the query text. Anything else is answered with a GraphQL error (HTTP 200, as GitHub does).
 */
import type { SimulatorCore } from "./core.js";
import { HttpError, isRecord, type Reply, type RequestContext } from "./http.js";
import type { MergeMethod, PullRequest } from "./model.js";

const MERGE_METHODS: Record<string, MergeMethod> = {
  MERGE: "merge",
  SQUASH: "squash",
  REBASE: "rebase",
};

interface Operation {
  query: string;
  variables: Record<string, unknown>;
}

export function handleGraphql(core: SimulatorCore, request: RequestContext): Reply {
  const query = typeof request.body.query === "string" ? request.body.query : "";
  const variables = isRecord(request.body.variables) ? request.body.variables : {};
  const operation = { query, variables };
  try {
    if (/\benablePullRequestAutoMerge\b/.test(query)) {
      mayMerge(core, request);
      return enableAutoMerge(core, request, operation);
    }
    if (/\bdisablePullRequestAutoMerge\b/.test(query)) {
      mayMerge(core, request);
      return disableAutoMerge(core, operation);
    }
    return graphqlError(
      "The GitHub simulator does not support this GraphQL operation.",
      "NOT_SUPPORTED",
    );
  } catch (error) {
    if (error instanceof GraphqlError) return graphqlError(error.message, error.type);
    throw error;
  }
}

/**
 * Auto-merge merges as whoever enabled it: it takes what merging takes (write access; for
 * an App, Contents and Pull requests write). The docs do not list the mutations' permissions.
 */
function mayMerge(core: SimulatorCore, request: RequestContext): void {
  try {
    core.requireRole(request, "write");
    core.requireScope(request, "contents:write");
    core.requireScope(request, "pull_requests:write");
  } catch (error) {
    if (error instanceof HttpError) throw new GraphqlError(String(error.body.message), "FORBIDDEN");
    throw error;
  }
}

class GraphqlError extends Error {
  constructor(
    message: string,
    readonly type: string,
  ) {
    super(message);
  }
}

function graphqlError(message: string, type: string): Reply {
  return { status: 200, body: { data: null, errors: [{ type, message, locations: [] }] } };
}

/**
 * An argument's value: `name: "literal"`, `name: ENUM`, `name: $variable`, or a variable of
 * that name anywhere in the variables (covers `input: $input` objects).
 */
function argument(operation: Operation, name: string): unknown {
  const reference = new RegExp(`(?<!\\$)\\b${name}\\s*:\\s*\\$(\\w+)`).exec(operation.query);
  if (reference?.[1] !== undefined && reference[1] in operation.variables) {
    return operation.variables[reference[1]];
  }
  const literal = new RegExp(
    `(?<!\\$)\\b${name}\\s*:\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([A-Z_]+)\\b)`,
  ).exec(operation.query);
  if (literal) return literal[1] !== undefined ? JSON.parse(`"${literal[1]}"`) : literal[2];
  return findKey(operation.variables, name);
}

function findKey(value: unknown, name: string): unknown {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findKey(item, name);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  if (name in value) return value[name];
  for (const child of Object.values(value)) {
    const found = findKey(child, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

function pullByNodeId(core: SimulatorCore, operation: Operation): PullRequest {
  const id = argument(operation, "pullRequestId");
  const pull = core.state.pulls.find((candidate) => candidate.nodeId === id);
  if (!pull || typeof id !== "string") {
    throw new GraphqlError(
      `Could not resolve to a node with the global id of '${String(id)}'`,
      "NOT_FOUND",
    );
  }
  return core.refreshPull(pull);
}

function enableAutoMerge(
  core: SimulatorCore,
  request: RequestContext,
  operation: Operation,
): Reply {
  const pull = pullByNodeId(core, operation);
  if (pull.state !== "open") {
    throw new GraphqlError(
      "Pull request is not in the correct state to enable auto-merge",
      "UNPROCESSABLE",
    );
  }
  const method = argument(operation, "mergeMethod") ?? "MERGE";
  const mergeMethod = typeof method === "string" ? MERGE_METHODS[method] : undefined;
  if (!mergeMethod) throw new GraphqlError(`Invalid merge method ${String(method)}`, "INVALID");
  const headline = argument(operation, "commitHeadline");
  const body = argument(operation, "commitBody");
  const enabledAt = core.now();
  pull.autoMerge = {
    enabledBy: request.actor.login,
    mergeMethod,
    commitTitle: typeof headline === "string" ? headline : `${pull.title} (#${pull.number})`,
    commitMessage: typeof body === "string" ? body : "",
    enabledAt,
  };
  pull.updatedAt = enabledAt;
  return {
    status: 200,
    body: {
      data: {
        enablePullRequestAutoMerge: {
          clientMutationId: null,
          pullRequest: {
            id: pull.nodeId,
            number: pull.number,
            autoMergeRequest: {
              enabledAt,
              mergeMethod: mergeMethod.toUpperCase(),
              enabledBy: { login: request.actor.login },
            },
          },
        },
      },
    },
  };
}

function disableAutoMerge(core: SimulatorCore, operation: Operation): Reply {
  const pull = pullByNodeId(core, operation);
  pull.autoMerge = null;
  pull.updatedAt = core.now();
  return {
    status: 200,
    body: {
      data: {
        disablePullRequestAutoMerge: {
          clientMutationId: null,
          pullRequest: { id: pull.nodeId, number: pull.number, autoMergeRequest: null },
        },
      },
    },
  };
}
