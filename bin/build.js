// The one build: esbuild compiles the CLI, its child-process and worker entries, the ECS task and
// the Lambda handlers into dist/ (ES modules, code splitting, npm packages left to Node's resolver),
// so nothing runs through a TypeScript loader at run time. `npm ci` runs it (`prepare`).
//
//   node bin/build.js          build when dist/ is out of date with its sources (else a no-op)
//   node bin/build.js --force  build anyway
//   node bin/build.js --check  exit 1 when dist/ is out of date (builds nothing)
//
// dist/manifest.json lists every input (mtime and size): the sources esbuild read, this file,
// package.json, the lockfile and tsconfig.json. bin/quant.js and src/entry-points.ts check it before
// running anything from dist/ and rebuild when one differs, so a stale build never runs. A copy of
// the package without src/ (a shipped build) has nothing to be stale against and runs as it is.
//
// Entry files keep fixed names (dist/<name>.js, what src/entry-points.ts resolves); shared code goes
// to dist/chunks/<name>-<hash>.js. Every file is written aside and renamed, chunks before the entries
// that import them, so a process starting (or lazily importing a chunk) during a rebuild sees the
// old or the new build, never half of one; old chunks are removed once they are 10 minutes old.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'dist');
const MANIFEST = path.join(DIST, 'manifest.json');
const FORMAT = 1; // bump when the manifest or the output layout changes shape
/**
 * Inputs besides our sources: the build options, package and TypeScript settings, and the install
 * (npm rewrites node_modules/.package-lock.json on every install; it stands for the bundled packages).
 */
const EXTRA_INPUTS = [
  'bin/build.js',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'node_modules/.package-lock.json',
];
/**
 * npm packages left to Node's resolver at run time: native ones (DuckDB), the local stand-ins and
 * the CDK (they read their own files), large ones loaded once on a rare path, and `sentiment`
 * (a require by a computed path for its non-English languages, which esbuild cannot follow). Every other
 * package is compiled into the build, from its ES module build where it has one: loading the AWS
 * SDK's CommonJS files from an ES module (cjs-module-lexer over every file) cost ~1 s per process
 * here, zod's ~95 files ~0.2 s. Each stays as lazy as the import() that loads it.
 */
const EXTERNAL =
  /^(node:|@duckdb\/node-bindings|s3rver|kinesalite|dynalite|aws-local-stepfunctions|aws-cdk-lib|constructs|cdk-nag|esbuild|tsx|@aws-sdk\/credential-providers|sentiment)(\/|$)/;

/** esbuild plugin: the EXTERNAL packages stay imports. */
const externals = {
  name: 'quant-externals',
  setup(b) {
    b.onResolve({ filter: /^[@a-z]/ }, (args) =>
      EXTERNAL.test(args.path) ? { path: args.path, external: true } : undefined,
    );
  },
};

/** dist/<name>.js <- source. src/entry-points.ts names the ones started as processes or workers. */
export const ENTRIES = {
  quant: 'src/cli/main.ts',
  'local-cloud-host': 'src/local/server-host.ts',
  's3-server-host': 'src/sync/s3-server-host.ts',
  'sweep-worker': 'src/sweep/worker.ts',
  'feed-decoder-worker': 'src/feed/decoder-worker-main.ts',
  'backtest-task': 'ecs-tasks/backtest/main.ts',
  // The CDK app's state machine definitions for the local Step Functions runner (src/local/definitions.ts).
  'state-machine-definition': 'bin/state-machine-definition.ts',
};

/** The Lambda handlers (lambda/<name>/index.ts -> dist/lambda/<name>.js). */
function lambdaEntries() {
  const dir = path.join(ROOT, 'lambda');
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((d) => fs.existsSync(path.join(dir, d, 'index.ts')))
      .map((d) => [`lambda/${d}`, `lambda/${d}/index.ts`]),
  );
}

/** [mtimeMs, size] of a package-relative file; null when missing (a missing input is an input too). */
function stamp(rel) {
  // Checked before every command: no exception per missing file, no path normalisation per input.
  const s = fs.statSync(`${ROOT}${path.sep}${rel}`, { throwIfNoEntry: false });
  return s ? [s.mtimeMs, s.size] : null;
}

/**
 * Why dist/ may not be run as it is: undefined when it is up to date, or when there are no sources
 * to compare with (a copy of the package without src/); else the reason, naming the first change.
 */
export function staleReason() {
  let m;
  try {
    m = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
  } catch {
    return 'dist/ has not been built';
  }
  if (m?.format !== FORMAT || typeof m.inputs !== 'object') return 'dist/ was built by another version';
  if (!fs.existsSync(path.join(ROOT, 'src'))) return undefined;
  for (const [rel, was] of Object.entries(m.inputs)) {
    const now = stamp(rel);
    if (now === null || was === null || now[0] !== was[0] || now[1] !== was[1]) return `${rel} changed`;
  }
  return undefined;
}

/** Writes `data` to `file` via a temp file and a rename (readers see the old or the new file). */
function writeAtomic(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(16).slice(2, 10)}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Builds dist/ and its manifest. Throws on an esbuild error or when a source changed meanwhile. */
export async function build() {
  const esbuild = await import('esbuild');
  const started = Date.now();
  const before = Object.fromEntries(EXTRA_INPUTS.map((rel) => [rel, stamp(rel)]));
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { ...ENTRIES, ...lambdaEntries() },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [externals],
    mainFields: ['module', 'main'],
    // Bundled CommonJS packages require() Node's built-ins: give the ES modules a require.
    banner: {
      js: "import { createRequire as __quantRequire } from 'node:module';\nconst require = __quantRequire(import.meta.url);",
    },
    outdir: DIST,
    chunkNames: 'chunks/[name]-[hash]',
    // src/entry-points.ts: code running from dist/ starts its child processes from dist/ too.
    define: { __QUANT_DIST__: 'true' },
    // Less text for V8 to parse at each start (names are kept; the source map has the rest).
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  if (result.warnings.length > 0) throw new Error(`esbuild: ${result.warnings[0].text}`);
  const inputs = { ...before };
  for (const rel of Object.keys(result.metafile.inputs))
    if (!rel.startsWith('node_modules/')) inputs[rel] = stamp(rel);
  for (const [rel, s] of Object.entries(inputs)) {
    // Edited while esbuild read it: the output may hold either version, so it must not be trusted.
    if (s !== null && s[0] >= started - 1) throw new Error(`${rel} changed during the build`);
  }
  const isChunk = (f) => path.relative(DIST, f.path).startsWith(`chunks${path.sep}`);
  const files = [...result.outputFiles.filter(isChunk), ...result.outputFiles.filter((f) => !isChunk(f))];
  for (const f of files) {
    // Chunk names carry a content hash: an existing one is already right (and may be in use).
    if (isChunk(f) && fs.existsSync(f.path)) continue;
    writeAtomic(f.path, f.contents);
  }
  writeAtomic(MANIFEST, JSON.stringify({ format: FORMAT, esbuild: esbuild.version, inputs }));
  pruneChunks(new Set(result.outputFiles.map((f) => f.path)));
  return { files: result.outputFiles.length, ms: Date.now() - started, metafile: result.metafile };
}

/** Removes chunks (and abandoned temp files) of older builds once no process can still be loading them. */
function pruneChunks(keep) {
  const dir = path.join(DIST, 'chunks');
  const cutoff = Date.now() - 10 * 60_000;
  for (const f of fs.readdirSync(dir)) {
    const file = path.join(dir, f);
    if (keep.has(file)) continue;
    try {
      if (fs.statSync(file).mtimeMs < cutoff) fs.rmSync(file, { force: true });
    } catch {
      // gone already (another build pruned it)
    }
  }
}

/** Builds when dist/ is out of date; returns the reason it was (undefined when it was not). */
export async function ensureBuilt() {
  const reason = staleReason();
  if (reason === undefined) return undefined;
  try {
    await import('esbuild');
  } catch {
    throw new Error(
      `${reason} and esbuild is not installed to rebuild it: run \`npm ci\` (or \`npm run build\`)`,
    );
  }
  await build();
  return reason;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    if (args.includes('--check')) {
      const reason = staleReason();
      if (reason) process.stderr.write(`dist/ is out of date: ${reason}\n`);
      process.exitCode = reason ? 1 : 0;
    } else if (args.includes('--force') || staleReason() !== undefined) {
      const r = await build();
      process.stderr.write(`built dist/ (${r.files} files) in ${r.ms} ms\n`);
    }
  } catch (err) {
    process.stderr.write(`build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
