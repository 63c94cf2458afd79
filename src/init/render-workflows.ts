/**
 * The GitHub workflows of a pinline repository, generated for its pins: the environments the
 * promote workflow offers, the secrets each deploy job passes (each pin's database.urlEnv and
 * notify names), the default branch, and how `uses:` names pinline's actions. The templates
 * are templates/workflows/*.yml.hbs (Handlebars); GitHub's own `${{ }}` expressions in them are
 * text, never template tags. `pinline init` writes the result; `pinline init --check` and the
 * validate action compare it with what is committed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import type { EnvironmentPin } from "../core/schema-types.js";
import { packageRoot } from "../demo/package-root.js";

export const WORKFLOWS_DIR = ".github/workflows";

/** How `uses:` names pinline's actions. */
export type ActionsReference =
  /** `./actions/<name>`: the repository is pinline itself. */
  | { kind: "local" }
  /** `<repository>/actions/<name>@<ref>`, with `# <comment>` when the ref is a commit. */
  | { kind: "remote"; repository: string; ref: string; comment?: string | undefined };

export interface WorkflowOptions {
  actions: ActionsReference;
  defaultBranch: string;
  /** Extra paths whose change is a configuration change for the gate (pinline's own code). */
  configurationPaths?: string | undefined;
}

/** A pin as the workflows need it: its name and what it names. */
export interface PinSummary {
  name: string;
  pin: EnvironmentPin;
}

/** The secrets the deploy job passes to `actions/deploy`, in a stable order: database URLs, Slack, Teams, SMTP. */
export function deploySecrets(pins: readonly PinSummary[]): string[] {
  const names = new Set<string>();
  for (const { pin } of pins) if (pin.database?.urlEnv) names.add(pin.database.urlEnv);
  for (const { pin } of pins) if (pin.notify?.slack) names.add(pin.notify.slack);
  for (const { pin } of pins) if (pin.notify?.teams) names.add(pin.notify.teams);
  if (pins.some(({ pin }) => (pin.notify?.email ?? []).length > 0)) names.add("PINLINE_SMTP_URL");
  return [...names];
}

/**
 * Pins in rollout order: by their stage's place in policies/rollout.yaml, the environment named
 * like its stage first, then the others by name; pins of unknown stages last, by name.
 */
export function orderPins(pins: readonly PinSummary[], stages: readonly string[]): PinSummary[] {
  const place = (summary: PinSummary) => {
    const index = stages.indexOf(summary.pin.stage);
    return index < 0 ? stages.length : index;
  };
  return [...pins].sort(
    (a, b) =>
      place(a) - place(b) ||
      Number(b.name === b.pin.stage) - Number(a.name === a.pin.stage) ||
      a.name.localeCompare(b.name),
  );
}

function usesLine(actions: ActionsReference, name: string): string {
  if (actions.kind === "local") return `./actions/${name}`;
  const comment = actions.comment ? ` # ${actions.comment}` : "";
  return `${actions.repository}/actions/${name}@${actions.ref}${comment}`;
}

function templatesDir(): string {
  return join(packageRoot(), "templates", "workflows");
}

/** The names of the generated workflow files, such as deploy.yml. */
export function workflowNames(): string[] {
  return readdirSync(templatesDir())
    .filter((file) => file.endsWith(".yml.hbs"))
    .map((file) => file.slice(0, -".hbs".length))
    .sort();
}

/** Every generated workflow: `.github/workflows/<name>` → its text. */
export function renderWorkflows(
  pins: readonly PinSummary[],
  options: WorkflowOptions,
): Map<string, string> {
  const handlebars = Handlebars.create();
  handlebars.registerHelper("uses", (name: string) => usesLine(options.actions, name));
  handlebars.registerHelper("secret", (name: string) => `\${{ secrets.${name} }}`);
  const context = {
    defaultBranch: options.defaultBranch,
    environments: pins.map((p) => p.name),
    deploySecrets: deploySecrets(pins),
    configurationPaths: options.configurationPaths ?? "",
  };
  const out = new Map<string, string>();
  for (const name of workflowNames()) {
    // GitHub's `${{ … }}` is text here: escaped so Handlebars leaves it as it is.
    const source = readFileSync(join(templatesDir(), `${name}.hbs`), "utf8").replaceAll(
      "${{",
      "$\\{{",
    );
    const template = handlebars.compile(source, { noEscape: true, strict: true });
    out.set(`${WORKFLOWS_DIR}/${name}`, template(context));
  }
  return out;
}

/** What the committed workflows say about the options they were generated with. */
export function readWorkflowOptions(texts: ReadonlyMap<string, string>): {
  options: Partial<WorkflowOptions>;
  problems: string[];
} {
  const problems: string[] = [];
  const references = new Map<string, ActionsReference>();
  const branches = new Set<string>();
  let configurationPaths: string | undefined;
  for (const [file, text] of texts) {
    for (const match of text.matchAll(
      /^\s*(?:- )?uses: (\.\/actions|[\w.-]+\/[\w.-]+\/actions)\/[a-z-]+(?:@(\S+))?(?: # (.+))?$/gm,
    )) {
      const [, where = "", ref, comment] = match;
      const reference: ActionsReference =
        where === "./actions"
          ? { kind: "local" }
          : {
              kind: "remote",
              repository: where.slice(0, -"/actions".length),
              ref: ref ?? "",
              comment,
            };
      references.set(JSON.stringify(reference), reference);
      if (reference.kind === "remote" && !ref) {
        problems.push(`${file}: \`uses: ${where}/…\` names no version (@v1, a tag or a commit)`);
      }
    }
    for (const match of text.matchAll(/^\s+branches: \[([^\]]+)\]$/gm))
      branches.add(match[1] ?? "");
    const paths = /^\s+configuration-paths: "([^"]*)"$/m.exec(text);
    if (paths) configurationPaths = paths[1];
  }
  if (references.size > 1) {
    problems.push(
      `the workflows name pinline's actions in ${references.size} different ways (${[...references.values()].map((r) => (r.kind === "local" ? "./actions" : `${r.repository}@${r.ref}`)).join(", ")}): use one version everywhere`,
    );
  }
  if (branches.size > 1) {
    problems.push(
      `the workflows name ${branches.size} default branches (${[...branches].join(", ")})`,
    );
  }
  const [actions] = references.values();
  const [defaultBranch] = branches;
  return {
    options: {
      ...(actions ? { actions } : {}),
      ...(defaultBranch ? { defaultBranch } : {}),
      ...(configurationPaths ? { configurationPaths } : {}),
    },
    problems,
  };
}
