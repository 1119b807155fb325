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

/** Runs node in `cwd`; resolves with the exit code and output (never rejects on a non-zero exit). */
async function node(
  cwd: string,
  args: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, args as string[], { cwd, maxBuffer: 16 * 2 ** 20 });
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
  for (const f of ['bin', 'src', 'lambda', 'ecs-tasks', 'glue-jobs'])
    fs.cpSync(path.join(REPO, f), path.join(built, f), { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json'])
    fs.copyFileSync(path.join(REPO, f), path.join(built, f));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(built, 'node_modules'));
  const b = await node(built, ['bin/build.js']);
  expect(b.code, b.err).toBe(0);

  // The shipped copy: the build, bin/, package.json and every installed package except tsx.
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
    const r = await node(shipped, ['bin/quant.js', '--version']);
    expect(r).toMatchObject({
      code: 0,
      out: `${JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version}\n`,
    });
  });

  it('a backtest on a CSV gives the same result as the sources', async () => {
    const r = await node(shipped, [
      'bin/quant.js',
      'backtest',
      '--bars',
      BARS,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=20',
      '--param',
      'slow=50',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
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
    const r = await node(shipped, [
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
    ]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ total: 12, skipped: 0, written: 12 });
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
