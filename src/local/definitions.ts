/**
 * The synthesized definition of a deployed state machine, for the local runner.
 *
 * Why a child process: runtime code never imports the CDK app (docs/architecture.md), so the definition is
 * synthesized by `bin/state-machine-definition.ts` in its own process, from the current code.
 * Why not cdk.out: it exists only after a `cdk synth` and goes stale silently when lib/ changes.
 * Synthesis takes seconds, so results are cached under the data directory, keyed by a hash of
 * everything that shapes the template (lib/, cdk.json, the script itself).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../package-root';
import { resolveDefinitionString } from './stepfunctions';

const run = promisify(execFile);
const script = (): string => path.join(packageRoot(), 'bin/state-machine-definition.ts');

export interface DefinitionSource {
  /** Environment whose config is synthesized. @default 'dev' */
  readonly env?: string;
  /** Stack id inside the stage, e.g. 'Backtest'. */
  readonly stack: string;
  /** Logical id prefix of the state machine when the stack has several. */
  readonly machine?: string;
  /** Cache directory. @default `<repo>/.quant/state-machines` */
  readonly cacheDir?: string;
}

function sourceHash(): string {
  const root = packageRoot();
  const h = createHash('sha256');
  const add = (file: string) => h.update(file).update(readFileSync(file));
  for (const f of readdirSync(path.join(root, 'lib'), { recursive: true }).map(String).sort()) {
    if (f.endsWith('.ts')) add(path.join(root, 'lib', f));
  }
  add(path.join(root, 'cdk.json'));
  add(script());
  return h.digest('hex').slice(0, 16);
}

/** The definition (resolved object) of a state machine as `cdk synth` produces it now. */
export async function loadSynthesizedDefinition(
  src: DefinitionSource,
): Promise<ReturnType<typeof resolveDefinitionString>> {
  const env = src.env ?? 'dev';
  const cacheDir = src.cacheDir ?? path.join(packageRoot(), '.quant', 'state-machines');
  const file = path.join(cacheDir, `${env}-${src.stack}-${src.machine ?? 'all'}-${sourceHash()}.json`);
  if (!existsSync(file)) {
    // Synthesis runs the CDK app from lib/ sources, as `cdk synth` does (cdk.json): with tsx, a
    // development dependency; the result is cached, so this runs once per change of lib/.
    const args = ['--import', 'tsx', script(), '--env', env, '--stack', src.stack];
    if (src.machine) args.push('--machine', src.machine);
    const { stdout } = await run(process.execPath, args, { cwd: packageRoot(), maxBuffer: 64 * 2 ** 20 });
    mkdirSync(cacheDir, { recursive: true });
    // Write aside and rename: a concurrent reader never sees half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, stdout);
    renameSync(tmp, file);
  }
  const { definitionString } = JSON.parse(readFileSync(file, 'utf8')) as { definitionString: unknown };
  return resolveDefinitionString(definitionString);
}
