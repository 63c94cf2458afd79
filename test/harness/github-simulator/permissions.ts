/**
 * The App permission each route needs from an installation token (GITHUB_TOKEN included),
 * from GitHub's "Permissions required for GitHub Apps"
 * (https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps; its
 * data: github/docs src/github-apps/data/fpt-2022-11-28). Alternatives are "any of": an
 * issue comment on a pull request takes Issues or Pull requests. A token without any of them
 * gets 403 "Resource not accessible by integration". Users' tokens answer to their repository
 * role instead (checked in the handlers).
 */
export const APP_SCOPES: Record<string, string[]> = {
  "GET /repos/{owner}/{repo}": ["metadata:read"],
  "GET /repos/{owner}/{repo}/git/ref/{ref}": ["contents:read"],
  "POST /repos/{owner}/{repo}/git/refs": ["contents:write"],
  "PATCH /repos/{owner}/{repo}/git/refs/{ref}": ["contents:write"],
  "DELETE /repos/{owner}/{repo}/git/refs/{ref}": ["contents:write"],
  "GET /repos/{owner}/{repo}/contents/{path}": ["contents:read"],
  "PUT /repos/{owner}/{repo}/contents/{path}": ["contents:write"],
  "GET /repos/{owner}/{repo}/commits/{ref}": ["contents:read"],
  "GET /repos/{owner}/{repo}/commits": ["contents:read"],
  "GET /repos/{owner}/{repo}/activity": ["contents:read"],
  "GET /repos/{owner}/{repo}/pulls": ["pull_requests:read"],
  "POST /repos/{owner}/{repo}/pulls": ["pull_requests:write"],
  "GET /repos/{owner}/{repo}/pulls/{pull_number}": ["pull_requests:read", "contents:read"],
  "PATCH /repos/{owner}/{repo}/pulls/{pull_number}": ["pull_requests:write"],
  // Merging writes the base branch: Contents (write) is what the docs name.
  "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge": ["contents:write"],
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/files": ["pull_requests:read"],
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits": ["pull_requests:read"],
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews": ["pull_requests:read"],
  "POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews": ["pull_requests:write"],
  "PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals": [
    "pull_requests:write",
  ],
  "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls": ["pull_requests:read"],
  "GET /repos/{owner}/{repo}/collaborators/{username}/permission": ["metadata:read"],
  // An organisation permission: a workflow's GITHUB_TOKEN can never hold it.
  "GET /orgs/{org}/teams/{team_slug}/memberships/{username}": ["members:read"],
  "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": ["issues:read", "pull_requests:read"],
  "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": [
    "issues:write",
    "pull_requests:write",
  ],
  "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}": [
    "issues:write",
    "pull_requests:write",
  ],
  "GET /repos/{owner}/{repo}/labels/{name}": ["issues:read", "pull_requests:read"],
  "POST /repos/{owner}/{repo}/labels": ["issues:write", "pull_requests:write"],
  "POST /repos/{owner}/{repo}/issues/{issue_number}/labels": [
    "issues:write",
    "pull_requests:write",
  ],
  "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}": [
    "issues:write",
    "pull_requests:write",
  ],
  "POST /repos/{owner}/{repo}/check-runs": ["checks:write"],
  "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": ["checks:write"],
  "GET /repos/{owner}/{repo}/check-runs/{check_run_id}": ["checks:read"],
  "GET /repos/{owner}/{repo}/commits/{ref}/check-runs": ["checks:read"],
  "POST /repos/{owner}/{repo}/statuses/{sha}": ["statuses:write"],
  "GET /repos/{owner}/{repo}/commits/{ref}/statuses": ["statuses:read"],
  "GET /repos/{owner}/{repo}/commits/{ref}/status": ["statuses:read"],
  "POST /repos/{owner}/{repo}/deployments": ["deployments:write"],
  "GET /repos/{owner}/{repo}/deployments": ["deployments:read"],
  "GET /repos/{owner}/{repo}/deployments/{deployment_id}": ["deployments:read"],
  "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses": ["deployments:write"],
  "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses": ["deployments:read"],
  "POST /repos/{owner}/{repo}/rulesets": ["administration:write"],
  "GET /repos/{owner}/{repo}/rulesets": ["metadata:read"],
  "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}": ["metadata:read"],
  "GET /repos/{owner}/{repo}/rules/branches/{branch}": ["metadata:read"],
  "PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}": ["administration:write"],
  "GET /repos/{owner}/{repo}/environments": ["actions:read", "environments:read"],
  "GET /repos/{owner}/{repo}/environments/{environment_name}": [
    "actions:read",
    "environments:read",
  ],
  "PUT /repos/{owner}/{repo}/environments/{environment_name}": ["administration:write"],
  "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies": [
    "actions:read",
    "environments:read",
  ],
  "POST /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies": [
    "administration:write",
  ],
  "GET /repos/{owner}/{repo}/pages": ["pages:read"],
  "POST /repos/{owner}/{repo}/pages": ["administration:write"],
  "PUT /repos/{owner}/{repo}/pages": ["administration:write"],
  "GET /repos/{owner}/{repo}/actions/secrets": ["secrets:read"],
  "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets": ["environments:read"],
  "GET /repos/{owner}/{repo}/actions/variables": ["actions_variables:read"],
  "GET /repos/{owner}/{repo}/environments/{environment_name}/variables": ["environments:read"],
  "GET /apps/{app_slug}": ["metadata:read"],
  // Any installation token may revoke itself.
  "DELETE /installation/token": ["metadata:read"],
  // The auto-merge mutations check their own permissions (graphql.ts).
  "POST /graphql": ["metadata:read"],
};
