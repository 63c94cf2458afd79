/**
 * The `pinline init` flow: scaffold (scaffold-repository.ts), describe the running version as
 * its first release, optionally sign it, and report what was written and what is left to do.
 * `--workflows` writes only the generated workflows again; `--check` compares them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PinlineError, UsageError } from "../core/errors.js";
import { countFindings, type Finding, sortFindings } from "../repo/findings.js";
import { loadTree } from "../repo/load-tree.js";
import { checkWorkflows, pinsOf } from "./check-workflows.js";
import {
  type ActionsReference,
  readWorkflowOptions,
  renderWorkflows,
  WORKFLOWS_DIR,
  workflowNames,
} from "./render-workflows.js";
import {
  type InitAnswers,
  initChecklist,
  planScaffold,
  publishComponents,
  writeScaffold,
} from "./scaffold-repository.js";

export interface InitReport {
  root: string;
  written: string[];
  unchanged: string[];
  /** releases/<version>/release.yaml, when init made it. */
  release: string | undefined;
  signature: string | undefined;
  checklist: string[];
}

export interface InitInput {
  root: string;
  answers: InitAnswers;
  force?: boolean;
  /** The files of the version running today, one per component. */
  artifactsDir?: string | undefined;
  /** Where they are published: {component}, {file} and {version} are replaced. */
  artifactUrl?: string | undefined;
  /** An armored private key that signs the release; its public key goes to keys/. */
  signingKeyFile?: string | undefined;
  passphrase?: string | undefined;
}

/** The repository's git top level, made with `git init` when `root` is not in one yet. */
function ensureGitRepository(root: string): void {
  try {
    execFileSync("git", ["-C", root, "rev-parse", "--show-toplevel"], { stdio: "ignore" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new PinlineError("there is no git on PATH", {
        hint: "install git and run pinline init again",
      });
    }
    try {
      execFileSync("git", ["-C", root, "init", "-q", "-b", "main"], { stdio: "ignore" });
    } catch {
      throw new UsageError(`${root} is not a git repository, and git init failed there`, {
        hint: "run git init yourself, or pass --root <an existing repository>",
      });
    }
  }
}

export async function runInit(input: InitInput): Promise<InitReport> {
  const { root, answers } = input;
  if (!existsSync(root)) {
    throw new UsageError(`${root} does not exist`, {
      hint: "create the folder, or pass --root <repository>",
    });
  }
  const files = planScaffold(answers);
  ensureGitRepository(root);
  const { written, unchanged } = writeScaffold(root, files, { force: input.force ?? false });

  const version = answers.version ?? "1.0.0";
  const releaseFile = join(root, "releases", version, "release.yaml");
  let release: string | undefined;
  let published = false;
  if (!existsSync(releaseFile) && input.artifactsDir) {
    const { createRelease } = await import("../repo/create-release.js");
    await createRelease({ root, version, channel: "stable", artifactsDir: input.artifactsDir });
    release = `releases/${version}/release.yaml`;
    written.push(release);
    if (input.artifactUrl) {
      publishComponents(releaseFile, input.artifactUrl, version);
      published = true;
    }
  } else if (existsSync(releaseFile)) {
    published = !/^\s+artifact: "[^"/:]+"$/m.test(readFileSync(releaseFile, "utf8"));
  }

  let signature: string | undefined;
  // Signed once: a second run (--force) keeps the signatures the release has.
  if (input.signingKeyFile && existsSync(releaseFile) && !existsSync(`${releaseFile}.asc`)) {
    const signed = await signFirstRelease(root, version, input.signingKeyFile, input.passphrase);
    signature = signed.signature;
    if (signed.key) written.push(signed.key);
    written.push(signature);
  }
  const signed = existsSync(`${releaseFile}.asc`);
  return {
    root,
    written,
    unchanged,
    release,
    signature,
    checklist: initChecklist({ answers, released: existsSync(releaseFile), signed, published }),
  };
}

/** Adds the key's public half to keys/ and signs the release with it. */
async function signFirstRelease(
  root: string,
  version: string,
  keyFile: string,
  passphrase: string | undefined,
): Promise<{ key: string | undefined; signature: string }> {
  let armoredPrivateKey: string;
  try {
    armoredPrivateKey = readFileSync(keyFile, "utf8");
  } catch (cause) {
    throw new UsageError(`cannot read the signing key ${keyFile}: ${(cause as Error).message}`);
  }
  const openpgp = await import("openpgp");
  const key = await openpgp.readPrivateKey({ armoredKey: armoredPrivateKey }).catch(() => {
    throw new UsageError(`${keyFile} is not an armored OpenPGP private key`, {
      hint: "export one with gpg --export-secret-keys --armor you@example.com > private.asc",
    });
  });
  const scratch = mkdtempSync(join(tmpdir(), "pinline-init-key-"));
  let added: string | undefined;
  try {
    const publicFile = join(scratch, "signer.asc");
    writeFileSync(publicFile, key.toPublic().armor());
    const { addKey } = await import("../trust/manage-keys.js");
    const result = await addKey({ root, file: publicFile });
    if (result.added) added = result.file;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const { signRelease } = await import("../trust/sign-release.js");
  const signed = await signRelease({
    root,
    releaseDir: join(root, "releases", version),
    armoredPrivateKey,
    ...(passphrase !== undefined ? { passphrase } : {}),
    keySource: {
      key: keyFile,
      howToGivePassphrase:
        "pass --passphrase-env VAR naming an environment variable that holds its passphrase",
      passphrase: "the passphrase given with --passphrase-env",
    },
  });
  return { key: added, signature: signed.file };
}

export interface WorkflowsCheck {
  ok: boolean;
  errors: number;
  findings: Finding[];
}

/** `pinline init --check`: the generated workflows against what init generates for the pins now. */
export async function checkInitWorkflows(root: string): Promise<WorkflowsCheck> {
  const tree = await loadTree(root);
  const findings = sortFindings(checkWorkflows(tree));
  const { errors } = countFindings(findings);
  return { ok: errors === 0, errors, findings };
}

/**
 * `pinline init --workflows`: writes the generated workflows again for the pins now, keeping
 * how the committed ones name pinline's actions and the default branch unless told otherwise.
 */
export async function writeInitWorkflows(
  root: string,
  overrides: { actions?: ActionsReference; defaultBranch?: string } = {},
): Promise<{ written: string[]; unchanged: string[] }> {
  const tree = await loadTree(root);
  const pins = pinsOf(tree);
  if (!pins) {
    throw new PinlineError("the workflows cannot be generated: a pin does not validate", {
      hint: "run pinline validate and fix the pins first",
    });
  }
  const committed = new Map<string, string>();
  for (const name of workflowNames()) {
    const file = `${WORKFLOWS_DIR}/${name}`;
    if (existsSync(join(root, file))) committed.set(file, readFileSync(join(root, file), "utf8"));
  }
  const { options } = readWorkflowOptions(committed);
  const actions = overrides.actions ?? options.actions;
  if (!actions) {
    throw new UsageError("no workflow says how to name pinline's actions", {
      hint: "pass --actions-ref (such as v1) or run pinline init first",
    });
  }
  const rendered = renderWorkflows(pins, {
    actions,
    defaultBranch: overrides.defaultBranch ?? options.defaultBranch ?? "main",
    configurationPaths: options.configurationPaths,
  });
  return writeScaffold(
    root,
    [...rendered].map(([path, text]) => ({ path, text })),
    { force: true },
  );
}
