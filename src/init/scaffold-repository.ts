// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${version} is pinline's deploy-time placeholder, shown as text
/**
 * `pinline init`: a GitOps repository for the user's own product — the layout, the schemas,
 * a pre-production and a production policy, policies/rollout.yaml and one pin per stage,
 * keys/README.md, CODEOWNERS for policies/ and keys/, the release of the version running
 * today, and the workflows generated for these pins. Nothing is overwritten without `force`;
 * every file is written under a temporary name and renamed. What cannot be done from the
 * repository (GitHub settings, secrets, keys) comes back as a numbered checklist.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import Handlebars from "handlebars";
import { isMap, isScalar, parseDocument } from "yaml";
import { RefusedError, UsageError } from "../core/errors.js";
import type { EnvironmentPin } from "../core/schema-types.js";
import { tryParseVersion } from "../core/version.js";
import { packageRoot } from "../demo/package-root.js";
import {
  type ActionsReference,
  deploySecrets,
  type PinSummary,
  renderWorkflows,
} from "./render-workflows.js";

export interface InitAnswers {
  /** The product's name, such as "Acme Billing". */
  product: string;
  /** The rollout stages in order; one environment (pin) per stage. */
  stages: string[];
  /** The stages the production policy governs (default: those named prod*, else the last). */
  production?: string[] | undefined;
  /** The version every environment runs today (default 1.0.0). */
  version?: string | undefined;
  /** Approvers of pre-production promotions: users or @org/team. */
  developers: string[];
  /** Approvers of production promotions. */
  releaseManagers: string[];
  /** Code owners of policies/ and keys/. */
  owners: string[];
  /** How the workflows name pinline's actions. */
  actions: ActionsReference;
  defaultBranch?: string | undefined;
  /** Prefix of each pin's database secret: <prefix><STAGE>. Default: <PRODUCT>_DB_URL_. */
  databaseSecretPrefix?: string | undefined;
  /** deploy.command for every pin; `${environment}` and `${version}` are substituted at deploy. */
  deployCommand?: string | undefined;
  /** health.ready for every pin, with {environment} replaced by the pin's name. */
  healthUrl?: string | undefined;
  /** Secret names of the webhooks production notifies, and e-mail addresses. */
  notify?: { slack?: string; teams?: string; email?: string[] } | undefined;
}

export interface ScaffoldFile {
  /** Relative to the repository root, with forward slashes. */
  path: string;
  text: string;
}

/** "Acme Billing" → "acme-billing"; "ACME_BILLING" for secret names. */
export function productSlug(product: string): string {
  return product
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

const STAGE_NAME = /^[a-z0-9][a-z0-9-]*$/;

function validate(answers: InitAnswers): void {
  if (!answers.product.trim() || !productSlug(answers.product)) {
    throw new UsageError("the product needs a name with a letter or digit in it", {
      hint: 'pass --product "Acme Billing"',
    });
  }
  if (answers.stages.length === 0) {
    throw new UsageError("no stages", { hint: "pass --stages dev,staging,production" });
  }
  const seen = new Set<string>();
  for (const stage of answers.stages) {
    if (!STAGE_NAME.test(stage)) {
      throw new UsageError(`stage "${stage}" is not a valid environment name`, {
        hint: "use lowercase letters, digits and dashes, such as production-canary",
      });
    }
    if (seen.has(stage)) throw new UsageError(`stage "${stage}" is given twice`);
    seen.add(stage);
  }
  for (const stage of answers.production ?? []) {
    if (!seen.has(stage)) {
      throw new UsageError(`production stage "${stage}" is not one of the stages`, {
        hint: `pass --production with some of: ${answers.stages.join(", ")}`,
      });
    }
  }
  const version = tryParseVersion(answers.version ?? "1.0.0");
  if (version?.channel !== "stable") {
    throw new UsageError(`"${answers.version}" is not a stable release version`, {
      hint: "pass --current-version with the version your environments run today, such as 1.4.2",
    });
  }
}

/** The production stages: as given, else those named prod*, else the last one. */
export function productionStages(answers: Pick<InitAnswers, "stages" | "production">): string[] {
  if (answers.production && answers.production.length > 0) return answers.production;
  const named = answers.stages.filter((stage) => stage.startsWith("prod"));
  return named.length > 0 ? named : answers.stages.slice(-1);
}

/** The pins init writes, as objects (for the workflows) — the same data the YAML says. */
export function scaffoldPins(answers: InitAnswers): PinSummary[] {
  const production = new Set(productionStages(answers));
  const prefix =
    answers.databaseSecretPrefix ??
    `${productSlug(answers.product).toUpperCase().replaceAll("-", "_")}_DB_URL_`;
  return answers.stages.map((name) => {
    const inProduction = production.has(name);
    const notify = inProduction ? (answers.notify ?? {}) : {};
    const pin: EnvironmentPin = {
      name,
      stage: name,
      version: answers.version ?? "1.0.0",
      update: {
        channel: inProduction ? "stable" : "early-access",
        checkInterval: "6h",
        autoInstall: false,
      },
      ...(answers.healthUrl
        ? { health: { ready: answers.healthUrl.replaceAll("{environment}", name) } }
        : {}),
      database: { urlEnv: `${prefix}${name.toUpperCase().replaceAll("-", "_")}` },
      ...(answers.deployCommand ? { deploy: { command: answers.deployCommand } } : {}),
      ...(notify.slack || notify.teams || (notify.email ?? []).length > 0
        ? {
            notify: {
              ...(notify.slack ? { slack: notify.slack } : {}),
              ...(notify.teams ? { teams: notify.teams } : {}),
              ...((notify.email ?? []).length > 0 ? { email: notify.email } : {}),
            },
          }
        : {}),
    } as EnvironmentPin;
    return { name, pin };
  });
}

/** The init templates by name (environment.yaml, CODEOWNERS, …); a missing one is a broken package. */
function templates(): (name: string, context: object) => string {
  const handlebars = Handlebars.create();
  handlebars.registerHelper("json", (value: unknown) => JSON.stringify(value));
  const dir = join(packageRoot(), "templates", "init");
  const compiled = new Map<string, Handlebars.TemplateDelegate>();
  for (const file of readdirSync(dir)) {
    compiled.set(
      file.replace(/\.hbs$/, ""),
      handlebars.compile(readFileSync(join(dir, file), "utf8"), { noEscape: true }),
    );
  }
  return (name, context) => {
    const template = compiled.get(name);
    if (!template)
      throw new Error(`templates/init/${name}.hbs is missing from the pinline package`);
    return template(context);
  };
}

/** Every file init writes, except the release (made by `release create`) and signatures. */
export function planScaffold(answers: InitAnswers): ScaffoldFile[] {
  validate(answers);
  const t = templates();
  const production = productionStages(answers);
  const preProduction = answers.stages.filter((stage) => !production.includes(stage));
  const files: ScaffoldFile[] = [];
  const schemas = join(packageRoot(), "schemas");
  for (const file of readdirSync(schemas)
    .filter((f) => f.endsWith(".schema.json"))
    .sort()) {
    files.push({ path: `schemas/${file}`, text: readFileSync(join(schemas, file), "utf8") });
  }
  const product = answers.product;
  const lastBeforeProduction = preProduction.at(-1);
  if (preProduction.length > 0) {
    files.push({
      path: "policies/pre-production.yaml",
      text: t("pre-production.yaml", { product, preProduction, developers: answers.developers }),
    });
  }
  files.push({
    path: "policies/production.yaml",
    text: t("production.yaml", {
      product,
      production,
      releaseManagers: answers.releaseManagers,
      testedIn: lastBeforeProduction ? [lastBeforeProduction] : undefined,
    }),
  });
  files.push({
    path: "policies/rollout.yaml",
    text: t("rollout.yaml", {
      product,
      stages: answers.stages.map((name, index) => ({
        name,
        soak: index < answers.stages.length - 1 ? "24h" : undefined,
      })),
    }),
  });
  const pins = scaffoldPins(answers);
  for (const { name, pin } of pins) {
    files.push({
      path: `environments/${name}.yaml`,
      text: t("environment.yaml", {
        product,
        name,
        version: pin.version,
        channel: pin.update?.channel,
        healthUrl: pin.health?.ready,
        urlEnv: pin.database?.urlEnv,
        deployCommand: pin.deploy?.command,
        notify: pin.notify,
      }),
    });
  }
  files.push({ path: "keys/README.md", text: t("keys-README.md", { product }) });
  files.push({
    path: ".github/CODEOWNERS",
    text: t("CODEOWNERS", { owners: answers.owners.join(" ") }),
  });
  for (const [path, text] of renderWorkflows(pins, {
    actions: answers.actions,
    defaultBranch: answers.defaultBranch ?? "main",
  })) {
    files.push({ path, text });
  }
  return files;
}

/** Files that exist already, with their paths. */
export function existingFiles(root: string, files: readonly ScaffoldFile[]): string[] {
  return files.filter((file) => existsSync(join(root, file.path))).map((file) => file.path);
}

/**
 * Writes the files, each under a temporary name then renamed. Without `force`, refuses before
 * writing anything when one of them exists (naming them all); files whose text is already
 * what init would write are left alone and reported as unchanged.
 */
export function writeScaffold(
  root: string,
  files: readonly ScaffoldFile[],
  options: { force?: boolean } = {},
): { written: string[]; unchanged: string[] } {
  const unchanged = files
    .filter((file) => {
      const path = join(root, file.path);
      return existsSync(path) && readFileSync(path, "utf8") === file.text;
    })
    .map((file) => file.path);
  const conflicts = existingFiles(root, files).filter((path) => !unchanged.includes(path));
  if (conflicts.length > 0 && !options.force) {
    throw new RefusedError(
      `init would overwrite ${conflicts.length} file${conflicts.length === 1 ? "" : "s"} that differ: ${conflicts.join(", ")}`,
      { hint: "nothing was written; pass --force to overwrite them, or move them away first" },
    );
  }
  const written: string[] = [];
  for (const file of files) {
    if (unchanged.includes(file.path)) continue;
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    const temporary = `${path}.pinline-${process.pid}`;
    writeFileSync(temporary, file.text);
    renameSync(temporary, path);
    written.push(file.path);
  }
  return { written, unchanged };
}

/**
 * Points each component of a release init made at where it is published: `template` with
 * {component}, {file} and {version} replaced (an https URL or an image reference).
 */
export function publishComponents(releaseFile: string, template: string, version: string): void {
  const document = parseDocument(readFileSync(releaseFile, "utf8"));
  const components = document.get("components");
  for (const pair of isMap(components) ? components.items : []) {
    const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const file = String(document.getIn(["components", name, "artifact"]) ?? "");
    document.setIn(
      ["components", name, "artifact"],
      template
        .replaceAll("{component}", name)
        .replaceAll("{file}", file)
        .replaceAll("{version}", version),
    );
    // The scaffold's "TODO: replace the local file name" is done.
    for (const item of isMap(pair.value) ? pair.value.items : []) {
      if (isScalar(item.key) && item.key.value === "artifact") item.key.commentBefore = undefined;
    }
  }
  const temporary = `${releaseFile}.pinline-${process.pid}`;
  writeFileSync(temporary, document.toString());
  renameSync(temporary, releaseFile);
}

/** The numbered checklist of what init could not do from the repository. */
export function initChecklist(input: {
  answers: InitAnswers;
  released: boolean;
  signed: boolean;
  published: boolean;
}): string[] {
  const pins = scaffoldPins(input.answers);
  const version = input.answers.version ?? "1.0.0";
  const items: string[] = [];
  if (!input.released) {
    items.push(
      `Describe the version your environments run: pinline release create ${version} --artifacts <folder with its files>, then point each component's artifact at where it is published.`,
    );
  } else if (!input.published) {
    items.push(
      `Point each component's artifact in releases/${version}/release.yaml at where it is published (an https URL or an image reference), or rerun with --artifact-url.`,
    );
  }
  if (!input.signed) {
    items.push(
      `Add a signer's public key (pinline keys add you.asc) and sign the release: pinline sign releases/${version} --key <private key file> [--passphrase-env VAR].`,
    );
  }
  if (!input.answers.deployCommand) {
    items.push(
      "Say how each environment is updated: deploy.command in environments/*.yaml (run without a shell; ${version} is the version being deployed).",
    );
  }
  items.push(
    "Create two GitHub Apps: the gate App (checks: write; contents, pull requests, deployments, members: read) and the release App (contents, pull requests, issues, deployments: write); install both on the repository.",
    "Apply the repository settings: pinline setup github --gate-app <gate App slug> --dry-run, then without --dry-run (the ruleset requiring pinline/gate and validate, the environments, the labels, Pages).",
    `Set the secrets (names only here): ${[
      ...deploySecrets(pins),
      "PINLINE_GATE_PRIVATE_KEY",
      "PINLINE_RELEASE_PRIVATE_KEY",
      "PINLINE_FEED_ROOT_KEY",
      "PINLINE_FEED_TARGETS_KEY",
      "PINLINE_FEED_SNAPSHOT_KEY",
      "PINLINE_FEED_TIMESTAMP_KEY",
    ].join(
      ", ",
    )} and the variables PINLINE_GATE_CLIENT_ID and PINLINE_RELEASE_CLIENT_ID; pinline setup github lists which environment each belongs to.`,
    "Commit everything and push: git add -A && git commit -m 'Adopt pinline' && git push.",
  );
  return items.map((item, index) => `${index + 1}. ${item}`);
}
