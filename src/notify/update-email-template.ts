/**
 * The update e-mail (SPEC §6.2) as handlebars templates, kept as string constants so the
 * esbuild bundles carry them (nothing is read from disk at run time). The HTML keeps the
 * spec's structure — title, "Update {{version}} …", What's New ✨, Bug Fixes 🐛, Security
 * Updates 🔒 when any, the links — and says whether the update reached the environment or was
 * rolled back. Handlebars escapes every `{{value}}` for HTML; no triple-stash is used, so a
 * changelog entry can never inject markup. The text part is rendered with `noEscape`.
 */

export const UPDATE_EMAIL_HTML = `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>{{subject}}</title>
</head>
<body style="font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #24292f;">
  <h2>Update {{version}} {{#if succeeded}}is now running on{{else if rolledBack}}was rolled back on{{else}}failed on{{/if}} {{environment}}</h2>

  {{#if succeeded}}
  <p>{{environment}} moved from {{from}} to {{version}} in {{duration}}.</p>
  {{else if rolledBack}}
  <p>The deploy failed and was undone: {{environment}} runs {{from}} again.</p>
  {{else}}
  <p><strong>The deploy failed and could not be undone. Check {{environment}} now.</strong></p>
  {{/if}}
  {{#if critical}}
  <p style="color: #cf222e;"><strong>{{criticalMark}}: {{critical}}</strong></p>
  {{/if}}
  {{#if error}}
  <p>Why: {{error}}</p>
  {{/if}}
  {{#if mandatory}}
  <p>{{version}} is a mandatory update.</p>
  {{/if}}

  {{#if changelog.breaking}}
  <h3>Breaking Changes:</h3>
  <ul>
    {{#each changelog.breaking}}
    <li>⚠️ {{this}}</li>
    {{/each}}
  </ul>
  {{/if}}

  {{#if changelog.features}}
  <h3>What's New:</h3>
  <ul>
    {{#each changelog.features}}
    <li>✨ {{this}}</li>
    {{/each}}
  </ul>
  {{/if}}

  {{#if changelog.fixes}}
  <h3>Bug Fixes:</h3>
  <ul>
    {{#each changelog.fixes}}
    <li>🐛 {{this}}</li>
    {{/each}}
  </ul>
  {{/if}}

  {{#if changelog.security}}
  <h3>Security Updates:</h3>
  <ul>
    {{#each changelog.security}}
    <li>🔒 {{this}}</li>
    {{/each}}
  </ul>
  {{/if}}

  <p>
    {{#if updateUrl}}
    <a href="{{updateUrl}}" style="display: inline-block; padding: 8px 16px; background: #0969da; color: #ffffff; text-decoration: none; border-radius: 6px;">View the Deploy</a>
    {{/if}}
    {{#if revertUrl}}
    <a href="{{revertUrl}}">View the Revert</a>
    {{/if}}
    {{#if releaseNotesUrl}}
    <a href="{{releaseNotesUrl}}">View Release Notes</a>
    {{/if}}
  </p>
</body>
</html>
`;

export const UPDATE_EMAIL_TEXT = `{{subject}}

Update {{version}} {{#if succeeded}}is now running on{{else if rolledBack}}was rolled back on{{else}}failed on{{/if}} {{environment}}.
{{#if succeeded}}
{{environment}} moved from {{from}} to {{version}} in {{duration}}.
{{else if rolledBack}}
The deploy failed and was undone: {{environment}} runs {{from}} again.
{{else}}
The deploy failed and could not be undone. Check {{environment}} now.
{{/if}}
{{#if critical}}
{{criticalMark}}: {{critical}}
{{/if}}
{{#if error}}
Why: {{error}}
{{/if}}
{{#if mandatory}}
{{version}} is a mandatory update.
{{/if}}
{{#if changelog.breaking}}

Breaking Changes:
{{#each changelog.breaking}}
  ⚠️ {{this}}
{{/each}}
{{/if}}
{{#if changelog.features}}

What's New:
{{#each changelog.features}}
  ✨ {{this}}
{{/each}}
{{/if}}
{{#if changelog.fixes}}

Bug Fixes:
{{#each changelog.fixes}}
  🐛 {{this}}
{{/each}}
{{/if}}
{{#if changelog.security}}

Security Updates:
{{#each changelog.security}}
  🔒 {{this}}
{{/each}}
{{/if}}

{{#if updateUrl}}
The deploy: {{updateUrl}}
{{/if}}
{{#if revertUrl}}
The revert: {{revertUrl}}
{{/if}}
{{#if releaseNotesUrl}}
Release notes: {{releaseNotesUrl}}
{{/if}}
`;
