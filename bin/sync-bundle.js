// A cached esbuild bundle of the CLI for `quant sync ...`. Why: an incremental sync takes well
// under a second, and a fresh CLI spent ~0.8 s loading ~600 modules through tsx. One bundled file
// loads in a fraction of that. The bundle is rebuilt whenever one of its inputs (the esbuild
// metafile's, plus this file, tsconfig.json and the npm lockfile) differs from when it was built;
// when it cannot be built or loaded the caller falls back to tsx, so it is never used stale.
//
// Cache: node_modules/.cache/quant (or $QUANT_BUNDLE_DIR): sync-<hash>.cjs (immutable once
// renamed into place), sync.json (the manifest naming it) and sync-<hash>.cjs.<subcommand>.v8
// (V8's code cache: compiling the bundle was half of its load time; V8 itself rejects a cache that
// does not match the source, V8 version or flags). All are written to a temp file and renamed, so
// concurrent CLIs never see half a file. CommonJS because only a vm.Script takes a code cache.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = 'src/cli/main.ts';
const MANIFEST = 'sync.json';
const FORMAT = 1; // bump when the manifest or the build options change shape
/** Build inputs the metafile does not list: this file (the build options), TS settings, installs. */
const EXTRA_INPUTS = [
  'bin/sync-bundle.js',
  'tsconfig.json',
  'package.json',
  'node_modules/.package-lock.json',
];
/** Loaded on use by the sync command and large (credential profiles): left out, resolved at build. */
const EXTERNAL = ['@aws-sdk/credential-providers'];

const debug = (msg) => {
  if (process.env.QUANT_DEBUG) process.stderr.write(`quant: sync bundle: ${msg}\n`);
};

export function bundleDir(env = process.env) {
  return path.resolve(env.QUANT_BUNDLE_DIR ?? path.join(ROOT, 'node_modules/.cache/quant'));
}

/** [mtimeMs, size] of a repo-relative file; null when missing (a missing input is an input too). */
function stamp(rel) {
  try {
    const s = fs.statSync(path.join(ROOT, rel));
    return [s.mtimeMs, s.size];
  } catch {
    return null;
  }
}

function sameStamp(a, b) {
  return a === null || b === null ? a === b : a[0] === b[0] && a[1] === b[1];
}

/** The bundle named by the manifest if every input is as it was at build time; else undefined. */
export function freshBundle(dir = bundleDir()) {
  let m;
  try {
    m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
  } catch {
    return undefined;
  }
  if (m?.format !== FORMAT || m.node !== process.version || typeof m.bundle !== 'string') return undefined;
  const file = path.join(dir, path.basename(m.bundle));
  if (!fs.existsSync(file)) return undefined;
  for (const [rel, was] of Object.entries(m.inputs ?? {})) {
    if (!sameStamp(stamp(rel), was)) {
      debug(`${rel} changed since the bundle was built`);
      return undefined;
    }
  }
  return file;
}

/** Writes `data` to `file` via a temp file and a rename (readers see the old or the new file). */
function writeAtomic(file, data) {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * esbuild plugin: main.ts loads each command on use; the bundle holds only `sync` (the others throw
 * if ever imported); `import.meta.url` in our sources keeps naming the source file (main.ts reads
 * package.json next to it, policy.ts resolves zod from it), not the bundle; EXTERNAL packages
 * are imported from where Node resolves them, whatever the cache directory.
 */
const syncOnly = {
  name: 'quant-sync-only',
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\// }, (args) =>
      args.importer === path.join(ROOT, ENTRY) && args.path !== './commands/sync'
        ? { path: args.path, namespace: 'quant-not-bundled' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'quant-not-bundled' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the sync bundle`)});`,
      loader: 'js',
    }));
    const external = new RegExp(`^(${EXTERNAL.map((e) => e.replace(/[/.]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter: external }, (args) => ({
      path: createRequire(args.importer).resolve(args.path),
      external: true,
    }));
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = fs.readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.')) return undefined;
      const url = pathToFileURL(args.path).href;
      const meta = { url, filename: args.path, dirname: path.dirname(args.path) };
      return {
        contents: text.replace(/\bimport\.meta\.(url|filename|dirname)\b/g, (_m, k) =>
          JSON.stringify(meta[k]),
        ),
        loader: 'ts',
      };
    });
  },
};

/** Builds the bundle and its manifest into `dir`; returns the bundle's path. Throws on failure. */
export async function buildBundle(dir = bundleDir()) {
  const esbuild = await import('esbuild');
  const started = Date.now();
  const before = Object.fromEntries(EXTRA_INPUTS.map((rel) => [rel, stamp(rel)]));
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node}`,
    // import() becomes require(): a vm.Script has no module loader for it (EXTERNAL are CommonJS).
    supported: { 'dynamic-import': false },
    write: false,
    outfile: path.join(dir, 'sync.cjs'),
    metafile: true,
    logLevel: 'silent',
    plugins: [syncOnly],
  });
  if (result.warnings.length > 0) throw new Error(`esbuild: ${result.warnings[0].text}`);
  const code = result.outputFiles[0].contents;
  const inputs = { ...before };
  for (const rel of Object.keys(result.metafile.inputs)) {
    if (/^[\w-]+:/.test(rel)) continue; // plugin namespaces, not files
    inputs[rel] = stamp(rel);
  }
  for (const [rel, s] of Object.entries(inputs)) {
    // Edited while esbuild read it: the bundle may hold either version, so it must not be trusted.
    if (s !== null && s[0] >= started - 1) throw new Error(`${rel} changed during the build`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const name = `sync-${crypto.createHash('sha256').update(code).digest('hex').slice(0, 16)}.cjs`;
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) writeAtomic(file, code);
  const manifest = { format: FORMAT, node: process.version, esbuild: esbuild.version, bundle: name, inputs };
  writeAtomic(path.join(dir, MANIFEST), JSON.stringify(manifest));
  prune(dir, name);
  return file;
}

/** Removes older bundles and abandoned temp files (after a while: another CLI may be loading one). */
function prune(dir, keep) {
  const cutoff = Date.now() - 10 * 60_000;
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(keep) || !/^sync(-[0-9a-f]+\.cjs|\.json\.tmp-)/.test(f)) continue;
    try {
      if (fs.statSync(path.join(dir, f)).mtimeMs < cutoff) fs.rmSync(path.join(dir, f), { force: true });
    } catch {
      // gone already (another CLI pruned it)
    }
  }
}

/**
 * Runs the bundle's top level (as Node runs a CommonJS file, with V8's code cache when there is
 * one) and returns its exports, with `saveCache()`: call it once a command succeeded, so the cache
 * also holds the functions that command compiled (one cache per `tag`, the subcommand); it writes
 * only when there was no usable cache.
 */
export function loadBundle(file, tag = 'any') {
  const cacheFile = `${file}.${tag}.v8`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // none yet
  }
  const source = fs.readFileSync(file, 'utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} };
  // Bundled CommonJS (the AWS SDK, commander) requires Node built-ins: resolved as from the sources.
  const require = createRequire(path.join(ROOT, ENTRY));
  script.runInThisContext()(module.exports, require, module, file, path.dirname(file));
  return {
    file,
    exports: module.exports,
    saveCache() {
      if (cachedData !== undefined && !script.cachedDataRejected) return;
      try {
        writeAtomic(cacheFile, script.createCachedData());
      } catch (err) {
        debug(`code cache not written (${err instanceof Error ? err.message : String(err)})`);
      }
    },
  };
}

/**
 * The CLI's `main` from an up-to-date sync bundle (built if needed) and `done()` to call after it;
 * undefined when no bundle can be had (esbuild missing, read-only cache, build or load error,
 * QUANT_NO_BUNDLE set): then the caller runs the sources through tsx.
 */
export async function syncBundleMain(argv = process.argv) {
  if (process.env.QUANT_NO_BUNDLE) return undefined;
  try {
    const dir = bundleDir();
    const sub = argv[argv.indexOf('sync') + 1];
    const loaded = loadBundle(
      freshBundle(dir) ?? (await buildBundle(dir)),
      /^[a-z]+$/.test(sub) ? sub : 'any',
    );
    if (typeof loaded.exports.main !== 'function') throw new Error('the bundle exports no main');
    debug(`using ${loaded.file}`);
    return { main: loaded.exports.main, done: (code) => code === 0 && loaded.saveCache() };
  } catch (err) {
    debug(`not used (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
}
