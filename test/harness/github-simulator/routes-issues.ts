/**
 * Issue-side features of pull requests (comments and labels) and the access questions pinline
 * asks (collaborator permission, team membership). Every issue number is a pull request's:
 * the simulator has no plain issues.
 */
import type { SimulatorCore } from "./core.js";
import {
  integerParam,
  isRecord,
  listReply,
  notFound,
  optionalString,
  type Reply,
  type RequestContext,
  type Router,
  requiredString,
  unprocessable,
} from "./http.js";
import { commentJson, labelJson, userJson } from "./json.js";
import { type IssueComment, nodeId, type Permission, type PullRequest } from "./model.js";

export function registerIssueRoutes(router: Router, core: SimulatorCore): void {
  registerAccessRoutes(router, core);
  registerCommentRoutes(router, core);
  registerLabelRoutes(router, core);
}

/** GitHub's `permission` knows only the classic levels; role_name keeps the real role. */
const CLASSIC_PERMISSION: Record<Permission, string> = {
  admin: "admin",
  maintain: "write",
  write: "write",
  triage: "read",
  read: "read",
  none: "none",
};

function registerAccessRoutes(router: Router, core: SimulatorCore): void {
  router.add("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", (request) => {
    const username = request.params.username ?? "";
    const user = core.findUser(username);
    if (!user || user.type === "Organization") throw notFound(`${username} is not a user`);
    const can = (level: Permission) => core.hasPermission(user, level);
    return {
      status: 200,
      body: {
        permission: CLASSIC_PERMISSION[user.permission],
        role_name: user.permission,
        user: {
          ...userJson(core, user),
          permissions: {
            admin: can("admin"),
            maintain: can("maintain"),
            push: can("write"),
            triage: can("triage"),
            pull: can("read"),
          },
          role_name: user.permission,
        },
      },
    };
  });

  // "Team members will include the members of child teams."
  // (docs.github.com/en/rest/teams/members#get-team-membership-for-a-user)
  router.add("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (request) => {
    const org = request.params.org ?? "";
    const slug = request.params.team_slug ?? "";
    const username = request.params.username ?? "";
    const team = core.findTeam(org, slug);
    if (!team || !core.isTeamMember(org, slug, username)) throw notFound();
    return {
      status: 200,
      body: {
        url: `${core.apiUrl}/organizations/${core.account(team.org).id}/team/${team.id}/memberships/${request.params.username}`,
        role: "member",
        state: "active",
      },
    };
  });
}

/** The pull request behind an issue number; 404 for any other number. */
function findIssue(core: SimulatorCore, request: RequestContext): PullRequest {
  return core.findPull(integerParam(request, "issue_number"));
}

function registerCommentRoutes(router: Router, core: SimulatorCore): void {
  const comments = "/repos/{owner}/{repo}/issues/{issue_number}/comments";
  router.add("GET", comments, (request) => {
    const issue = findIssue(core, request);
    const since = request.query.get("since");
    const listed = core.state.comments.filter(
      (comment) =>
        comment.issueNumber === issue.number && (since === null || comment.updatedAt >= since),
    );
    return listReply(request, listed, (comment) => commentJson(core, comment));
  });

  router.add("POST", comments, (request) => {
    core.requireRole(request, "read");
    const issue = findIssue(core, request);
    const body = requiredString(request.body, "body");
    const now = core.now();
    const id = core.nextId();
    const comment: IssueComment = {
      id,
      nodeId: nodeId("IC", id),
      issueNumber: issue.number,
      user: request.actor.login,
      body,
      createdAt: now,
      updatedAt: now,
    };
    core.state.comments.push(comment);
    issue.updatedAt = now;
    return { status: 201, body: commentJson(core, comment) };
  });

  router.add("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (request) => {
    const id = integerParam(request, "comment_id");
    const comment = core.state.comments.find((candidate) => candidate.id === id);
    if (!comment) throw notFound();
    // Others' comments need write access (maintainers can edit anyone's).
    if (comment.user !== request.actor.login) core.requireRole(request, "write");
    comment.body = requiredString(request.body, "body");
    comment.updatedAt = core.now();
    return { status: 200, body: commentJson(core, comment) };
  });
}

function registerLabelRoutes(router: Router, core: SimulatorCore): void {
  router.add("GET", "/repos/{owner}/{repo}/labels/{name}", (request) => {
    const label = core.findLabel(request.params.name ?? "");
    if (!label) throw notFound();
    return { status: 200, body: labelJson(core, label) };
  });

  router.add("POST", "/repos/{owner}/{repo}/labels", (request) => {
    core.requireRole(request, "write");
    const name = requiredString(request.body, "name");
    const color = (optionalString(request.body, "color") ?? "ededed").replace(/^#/, "");
    const description = optionalString(request.body, "description") ?? null;
    return { status: 201, body: labelJson(core, core.createLabel(name, color, description)) };
  });

  const issueLabels = "/repos/{owner}/{repo}/issues/{issue_number}/labels";
  router.add("POST", issueLabels, (request) => addLabels(core, request));
  router.add("DELETE", `${issueLabels}/{name}`, (request) => {
    core.requireRole(request, "triage");
    const issue = findIssue(core, request);
    const name = (request.params.name ?? "").toLowerCase();
    const index = issue.labels.findIndex((label) => label.toLowerCase() === name);
    if (index < 0) throw notFound("Label does not exist");
    issue.labels.splice(index, 1);
    issue.updatedAt = core.now();
    return { status: 200, body: issueLabelsJson(core, issue) };
  });
}

/** Adds labels by name, creating unknown ones (GitHub's default grey), and answers all of them. */
function addLabels(core: SimulatorCore, request: RequestContext): Reply {
  core.requireRole(request, "triage");
  const issue = findIssue(core, request);
  for (const name of labelNames(request.body.labels)) {
    const label = core.findLabel(name) ?? core.createLabel(name);
    if (!issue.labels.some((existing) => existing.toLowerCase() === label.name.toLowerCase())) {
      issue.labels.push(label.name);
    }
  }
  issue.updatedAt = core.now();
  return { status: 200, body: issueLabelsJson(core, issue) };
}

/** `labels` as Octokit sends it: names, or objects with a name. */
function labelNames(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw unprocessable("Invalid request.\n\nNo labels were given.");
  }
  return value.map((item) => {
    if (typeof item === "string" && item !== "") return item;
    if (isRecord(item) && typeof item.name === "string") return item.name;
    throw unprocessable(`Invalid request.\n\n${JSON.stringify(item)} is not a label name.`);
  });
}

function issueLabelsJson(core: SimulatorCore, issue: PullRequest) {
  return issue.labels.flatMap((name) => {
    const label = core.findLabel(name);
    return label ? [labelJson(core, label)] : [];
  });
}
