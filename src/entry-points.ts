/**
 * "The entry of X": the compiled file a child process or worker thread starts from. Every process
 * and worker the platform starts runs the build in dist/ (bin/build.js), never TypeScript sources:
 * - code running from dist/ starts dist/<name>.js of the same package;
 * - code running from the sources (tests, tsx) first brings dist/ up to date (`node bin/build.js`
 *   is a no-op when it is), so a child never runs a build older than the code that starts it.
 * Code bundled elsewhere (the feed handler's single-file bundle, lib/constructs/feed-handler-host/bundle.ts)
 * has no dist/: `fromBuild()` is false there and the caller uses its own file.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from './package-root';

/** The names bin/build.js gives the entries (its ENTRIES). */
export type EntryName =
  | 'quant'
  | 'local-cloud-host'
  | 's3-server-host'
  | 'sweep-worker'
  | 'feed-decoder-worker'
  | 'backtest-task'
  | 'state-machine-definition';

// Defined as `true` by bin/build.js; undefined in the sources and in other bundles.
declare const __QUANT_DIST__: boolean | undefined;

/** True when this code runs from the sources (a `.ts` module). */
function fromSources(): boolean {
  return import.meta.url.endsWith('.ts');
}

/** True when this code runs from dist/ or from the sources (which use dist/ for their children). */
export function hasBuild(): boolean {
  return typeof __QUANT_DIST__ !== 'undefined' || fromSources();
}

let checked = false;

/** Absolute path of the compiled entry `name` (see the module comment). */
export function entryPoint(name: EntryName): string {
  if (!hasBuild()) throw new Error(`entry ${name}: this code does not run from the platform's build`);
  const root = packageRoot();
  if (fromSources() && !checked) {
    execFileSync(process.execPath, [path.join(root, 'bin/build.js')], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    checked = true;
  }
  return path.join(root, 'dist', `${name}.js`);
}
