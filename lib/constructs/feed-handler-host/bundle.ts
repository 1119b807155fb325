import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { FEED_BUNDLE_FILE } from '../../../src/contract/feed';
import { packageRoot } from '../../../src/package-root';

/** The handler's entry: `quant` with only the `feed` commands (and the decoder worker). */
export const FEED_HANDLER_ENTRY = 'src/cli/feed-handler-main.ts';

/** Local stand-ins and native engines that never run on the handler instance: left out of the bundle. */
const LOCAL_ONLY_MODULES = [
  '@duckdb/node-api',
  '@duckdb/node-bindings',
  'kinesalite',
  'dynalite',
  's3rver',
  'aws-local-stepfunctions',
  'leveldown',
  'classic-level',
];

/**
 * Bundles the handler into `outDir/feed-handler.mjs` with esbuild (ESM, Node 22, minified with a
 * source map): one file, no node_modules, unlike dist/ (bin/build.js), which splits chunks and leaves
 * packages to Node's resolver. Local-only modules become empty stubs: shared CLI code imports them but
 * `quant feed run` never uses them.
 */
export function bundleFeedHandler(outDir: string): void {
  // Found from package.json, not from this file: the CDK app also runs from the build in dist/.
  const root = packageRoot();
  mkdirSync(outDir, { recursive: true });
  // esbuild's synchronous API takes no plugins: alias the local-only modules to an empty CommonJS stub,
  // a file of the repository so that the bundle (and the asset hash) is the same on every synth.
  const stub = path.join(root, 'lib/constructs/feed-handler-host/local-only-stub.cjs');
  buildSync({
    absWorkingDir: root,
    entryPoints: [FEED_HANDLER_ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    outfile: path.join(outDir, FEED_BUNDLE_FILE),
    // CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
    alias: Object.fromEntries(LOCAL_ONLY_MODULES.map((m) => [m, stub])),
  });
}
