/**
 * The build is what runs: the package is built (bin/build.js) in a copy of the repository, then its
 * output runs from a second copy that has no src/, no TypeScript sources and no tsx.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBars, runBacktest } from '../../../src/backtest';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../../..');
const BARS = 'node_modules/vega-datasets/data/sp500-2000.csv';

let tmp: string;
let built: string; // a copy of the sources, built there
let shipped: string; // the build output alone
let trace: string; // `--import` it: every module file the process loads is appended to $TRACE_FILE

/**
 * Code a CSV backtest must not load: AWS SDK clients (bundled, their class names stay in the
 * chunks), DuckDB (its native binding stays an import) and the local cloud's stand-ins.
 */
const HEAVY =
  /\b(S3Client|KinesisClient|DynamoDBClient)\b|@duckdb\/node-bindings|local-cloud-host|s3rver|kinesalite|dynalite/;

/** The files of dist/ a traced run loaded whose code matches HEAVY. */
function heavyLoaded(traceFile: string): string[] {
  const files = fs
    .readFileSync(traceFile, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:') && u.includes('/dist/'))
    .map((u) => new URL(u).pathname);
  expect(files.length).toBeGreaterThan(0);
  return [...new Set(files)]
    .filter((f) => HEAVY.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(shipped, f));
}

/** Runs node in `cwd`; resolves with the exit code and output (never rejects on a non-zero exit). */
async function node(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, args as string[], {
      cwd,
      maxBuffer: 16 * 2 ** 20,
      env: { ...process.env, ...env },
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      out: err.stdout ?? '',
      err: err.stderr ?? '',
    };
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'package-build-'));
  built = path.join(tmp, 'built');
  for (const f of ['bin', 'src', 'lib', 'lambda', 'ecs-tasks', 'glue-jobs', 'training'])
    fs.cpSync(path.join(REPO, f), path.join(built, f), { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'cdk.json'])
    fs.copyFileSync(path.join(REPO, f), path.join(built, f));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(built, 'node_modules'));
  const b = await node(built, ['bin/build.js']);
  expect(b.code, b.err).toBe(0);

  // The shipped copy: the build, bin/ without TypeScript, package.json and every installed package
  // except tsx.
  shipped = path.join(tmp, 'shipped');
  fs.cpSync(path.join(built, 'dist'), path.join(shipped, 'dist'), { recursive: true });
  fs.cpSync(path.join(built, 'bin'), path.join(shipped, 'bin'), { recursive: true });
  for (const f of fs.readdirSync(path.join(shipped, 'bin')))
    if (f.endsWith('.ts')) fs.rmSync(path.join(shipped, 'bin', f));
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(shipped, 'package.json'));
  fs.mkdirSync(path.join(shipped, 'node_modules'));
  for (const f of fs.readdirSync(path.join(REPO, 'node_modules'))) {
    if (f === 'tsx' || f === '.bin') continue;
    fs.symlinkSync(path.join(REPO, 'node_modules', f), path.join(shipped, 'node_modules', f));
  }

  fs.writeFileSync(
    path.join(tmp, 'trace-hooks.mjs'),
    [
      "import fs from 'node:fs';",
      'export async function load(url, context, next) {',
      "  fs.appendFileSync(process.env.TRACE_FILE, url + '\\n');",
      '  return next(url, context);',
      '}',
    ].join('\n'),
  );
  trace = path.join(tmp, 'trace.mjs');
  fs.writeFileSync(
    trace,
    "import { register } from 'node:module';\nregister('./trace-hooks.mjs', import.meta.url);\n",
  );
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the built package, with no sources and no tsx', () => {
  it('has no TypeScript and cannot load tsx', async () => {
    expect(fs.existsSync(path.join(shipped, 'src'))).toBe(false);
    const ts = (fs.readdirSync(shipped, { recursive: true }) as string[]).filter(
      (f) => f.endsWith('.ts') && !f.startsWith('node_modules'),
    );
    expect(ts).toEqual([]);
    const r = await node(shipped, ['--input-type=module', '-e', "await import('tsx')"]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/Cannot find package 'tsx'/);
  });

  it('quant --version prints the package version', async () => {
    const version = (
      JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(await node(shipped, ['bin/quant.js', '--version'])).toMatchObject({
      code: 0,
      out: `${version}\n`,
    });
  });

  it('a backtest on a CSV gives the result of the sources, loading no AWS SDK client, DuckDB or local cloud', async () => {
    const traceFile = path.join(tmp, 'backtest.trace');
    const args = ['--strategy', 'sma-cross', '--param', 'fast=20', '--param', 'slow=50', '--json'];
    const r = await node(shipped, ['--import', trace, 'bin/quant.js', 'backtest', '--bars', BARS, ...args], {
      TRACE_FILE: traceFile,
    });
    expect(r.code, r.err).toBe(0);
    expect(heavyLoaded(traceFile)).toEqual([]);
    const got = JSON.parse(r.out) as Record<string, unknown>;
    const want = runBacktest(await loadBars(path.join(REPO, BARS)), {
      strategy: 'sma-cross',
      params: { fast: 20, slow: 50 },
    }).summary as unknown as Record<string, unknown>;
    expect(got.bars).toBe(5105);
    for (const k of ['totalReturn', 'cagr', 'sharpe', 'maxDrawdown', 'trades', 'exposure'])
      expect(got[k], k).toBe(want[k]);
  });

  it('a local sweep starts its local cloud and worker threads from the build', async () => {
    const traceFile = path.join(tmp, 'sweep.trace');
    const r = await node(
      shipped,
      [
        '--import',
        trace,
        'bin/quant.js',
        '--data-dir',
        path.join(tmp, 'cloud'),
        'backtest',
        'sweep',
        '--strategy',
        'sma-cross',
        '--grid',
        'fast=5:10',
        '--grid',
        'slow=20:30:10',
        '--bars',
        BARS,
        '--workers',
        '2',
        '--json',
      ],
      { TRACE_FILE: traceFile },
    );
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ total: 12, skipped: 0, written: 12 });
    // The check above sees them when a command needs them: its empty list means something.
    expect(heavyLoaded(traceFile).length).toBeGreaterThan(0);
  });
});

describe('a stale build never runs', () => {
  it('a changed source makes the build out of date, and quant rebuilds before running', async () => {
    expect((await node(built, ['bin/build.js', '--check'])).code).toBe(0);
    fs.appendFileSync(path.join(built, 'src/errors.ts'), '\n// changed\n');
    const stale = await node(built, ['bin/build.js', '--check']);
    expect(stale.code).toBe(1);
    expect(stale.err).toContain('src/errors.ts changed');
    expect((await node(built, ['bin/quant.js', '--version'])).code).toBe(0);
    expect((await node(built, ['bin/build.js', '--check'])).code).toBe(0);
  });
});
