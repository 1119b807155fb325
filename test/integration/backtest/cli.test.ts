import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { backtestCommand } from '../../../src/cli/commands/backtest';
import { main } from '../../../src/cli/main';
import { capturedOutput } from '../../helpers/quant-cli';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');
const SP500 = path.join(root, 'node_modules/vega-datasets/data/sp500-2000.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'backtest-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The contract computed independently of src/backtest: SMAs as plain window means, positions,
 * returns net of c/10,000 x |change|, and the metric formulas of docs/architecture.md.
 */
function reference(close: number[], fast: number, slow: number, costBps: number) {
  const sma = (t: number, w: number): number => close.slice(t - w + 1, t + 1).reduce((a, b) => a + b, 0) / w;
  const n = close.length;
  const pos: number[] = [];
  for (let t = 0; t < n - 1; t++) pos.push(t >= slow - 1 && sma(t, fast) > sma(t, slow) ? 1 : 0);
  const r = pos.map(
    (p, t) => p * (close[t + 1] / close[t] - 1) - (costBps / 1e4) * Math.abs(p - (t > 0 ? pos[t - 1] : 0)),
  );
  const periods = r.length;
  const mean = r.reduce((a, b) => a + b, 0) / periods;
  const sd = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / (periods - 1));
  const dn = Math.sqrt(r.reduce((a, x) => a + Math.min(0, x) ** 2, 0) / periods);
  let eq = 1;
  let peak = 1;
  let mdd = 0;
  for (const x of r) {
    eq *= 1 + x;
    peak = Math.max(peak, eq);
    mdd = Math.max(mdd, 1 - eq / peak);
  }
  return {
    bars: n,
    periods,
    totalReturn: eq - 1,
    cagr: eq ** (252 / periods) - 1,
    sharpe: (mean / sd) * Math.sqrt(252),
    sortino: (mean / dn) * Math.sqrt(252),
    maxDrawdown: mdd,
    trades: pos.filter((p, t) => p !== (t > 0 ? pos[t - 1] : 0)).length,
    exposure: pos.filter((p) => p !== 0).length / periods,
  };
}

const closes = readFileSync(SP500, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => Number(l.split(',')[4]));

describe('quant backtest (as a process)', () => {
  it('prints the contract JSON, equal to an independent computation', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        'bin/quant.js',
        'backtest',
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=20',
        '--param',
        'slow=50',
        '--cost-bps',
        '5',
        '--json',
      ],
      { cwd: root },
    );
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const got = JSON.parse(lines[0]);
    const want = reference(closes, 20, 50, 5);
    for (const [k, v] of Object.entries(want)) expect(got[k], k).toBeCloseTo(v, 9);
    expect(got.trades).toBe(want.trades);
  });

  it('exits 2 with the field named on bad input', async () => {
    const err = await run(
      process.execPath,
      [
        'bin/quant.js',
        'backtest',
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=50',
        '--param',
        'slow=20',
        '--json',
      ],
      { cwd: root },
    ).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/param\.fast: fast must be smaller than slow/);
    expect(err.stdout).toBe('');
  });
});

describe('backtestCommand', () => {
  it('lets another area attach a sub-command that receives its own options', async () => {
    const program = new Command('quant').exitOverride();
    const backtest = backtestCommand(program);
    let got: unknown;
    backtest
      .command('sweep')
      .option('--strategy <name>')
      .option('--grid <spec>')
      .action((o) => {
        got = o;
      });
    await program.parseAsync([
      'node',
      'quant',
      'backtest',
      'sweep',
      '--strategy',
      'sma-cross',
      '--grid',
      'fast=2:5',
    ]);
    expect(got).toEqual({ strategy: 'sma-cross', grid: 'fast=2:5' });
  });
});

describe('quant backtest (in process)', () => {
  const io = capturedOutput();
  const quant = (...args: string[]) => main(['node', 'quant', 'backtest', ...args]);
  const csv = (name: string, text: string): string => {
    const f = path.join(tmp, name);
    writeFileSync(f, text);
    return f;
  };

  it.each([
    [['--cost-bps', '0'], 0],
    [['--cost-bps', '12.5'], 12.5],
    [[], 0],
  ])('cost %j matches the reference', async (extra, bps) => {
    expect(
      await quant(
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=5',
        '--param',
        'slow=30',
        ...extra,
        '--json',
      ),
    ).toBe(0);
    const got = JSON.parse(io.out);
    const want = reference(closes, 5, 30, bps);
    for (const [k, v] of Object.entries(want)) expect(got[k], k).toBeCloseTo(v, 9);
  });

  it.each([
    [
      ['--bars', 'missing.csv', '--strategy', 'sma-cross', '--param', 'fast=2', '--param', 'slow=3'],
      /bars: file not found: missing\.csv/,
    ],
    [['--strategy', 'sma-cross', '--param', 'fast=2', '--param', 'slow=3'], /--bars: required/],
    [['--bars', SP500, '--param', 'fast=2'], /--strategy: required/],
    [['--bars', SP500, '--strategy', 'sma', '--param', 'fast=2'], /strategy: unknown strategy "sma"/],
    [
      [
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=2',
        '--param',
        'slow=3',
        '--param',
        'foo=1',
      ],
      /param\.foo: unknown parameter for strategy sma-cross/,
    ],
    [['--bars', SP500, '--strategy', 'sma-cross', '--param', 'fast=2', '--param', 'slow=x'], /param\.slow/],
    [['--bars', SP500, '--strategy', 'sma-cross', '--param', 'fast'], /param: expected name=value/],
    [
      ['--bars', SP500, '--strategy', 'sma-cross', '--param', 'fast=2', '--param', 'fast=3'],
      /param\.fast: given more than once/,
    ],
    [
      [
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=2',
        '--param',
        'slow=3',
        '--cost-bps',
        '-1',
      ],
      /--cost-bps: must be a number between 0 and 10000/,
    ],
    [
      [
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=2',
        '--param',
        'slow=3',
        '--cost-bps',
        'abc',
      ],
      /--cost-bps/,
    ],
    [
      [
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=2',
        '--param',
        'slow=3',
        '--cost-bps',
        '1e400',
      ],
      /--cost-bps/,
    ],
  ])('exit 2 for %j', async (args, message) => {
    expect(await quant(...args)).toBe(2);
    expect(io.err).toMatch(message);
    expect(io.out).toBe('');
  });

  it('bad files: empty, header only, dates not increasing, NaN and non-positive prices', async () => {
    const cases: [string, string, RegExp][] = [
      ['empty.csv', '', /bars: empty\.csv is empty/],
      ['header.csv', 'date,open,high,low,close\n', /bars: header\.csv has no rows/],
      ['noclose.csv', 'date,open\n2020-01-01,1\n', /noclose\.csv: no close column/],
      [
        'order.csv',
        'date,close\n2020-01-02,10\n2020-01-01,11\n2020-01-03,12\n',
        /order\.csv: dates must be strictly increasing, 2020-01-01 follows 2020-01-02 \(row 2/,
      ],
      ['nan.csv', 'date,close\n2020-01-01,10\n2020-01-02,abc\n', /nan\.csv:3:close: not a number "abc"/],
      [
        'zero.csv',
        'date,close\n2020-01-01,10\n2020-01-02,0\n',
        /zero\.csv: close must be a finite price > 0, got 0 on 2020-01-02/,
      ],
      [
        'neg.csv',
        'date,close\n2020-01-01,10\n2020-01-02,-3\n',
        /neg\.csv: close must be a finite price > 0, got -3/,
      ],
      [
        'baddate.csv',
        'date,close\n2020-01-01,10\nyesterday,11\n',
        /baddate\.csv:3:date: not a valid date "yesterday"/,
      ],
      ['short.csv', 'date,close\n2020-01-01,10\n2020-01-02\n', /short\.csv:3: expected 2 columns, got 1/],
      [
        'huge.csv',
        'date,close\n2020-01-01,10\n2020-01-02,1e400\n',
        /huge\.csv: close must be a finite price > 0, got Infinity/,
      ],
    ];
    for (const [name, text, message] of cases) {
      io.err = '';
      expect(
        await quant(
          '--bars',
          csv(name, text),
          '--strategy',
          'sma-cross',
          '--param',
          'fast=1',
          '--param',
          'slow=2',
          '--json',
        ),
        name,
      ).toBe(2);
      expect(io.err, name).toMatch(message);
    }
    expect(io.out).toBe('');
  });

  it('--walk-forward re-selects on each train window and reports the stitched test periods', async () => {
    const args = [
      '--bars',
      SP500,
      '--strategy',
      'sma-cross',
      '--walk-forward',
      '1000:500',
      '--grid',
      'fast=5,20',
      '--grid',
      'slow=50,100',
      '--where',
      'fast<slow',
      '--json',
    ];
    expect(await quant(...args)).toBe(0);
    const got = JSON.parse(io.out);
    expect(got.periods).toBe(5104 - 1000);
    expect(got.walkForward).toMatchObject({
      trainPeriods: 1000,
      testPeriods: 500,
      objective: 'sharpe',
      candidates: 4,
    });
    expect(got.windows).toHaveLength(Math.ceil((5104 - 1000) / 500));
    expect(got.from).toBe(got.windows[0].testFrom);
    for (const w of got.windows) expect([5, 20]).toContain(w.params.fast);
  });

  it.each([
    [['--walk-forward', 'abc', '--grid', 'fast=5'], /--walk-forward: "abc" must be train:test/],
    [['--walk-forward', '100:50'], /--grid: walk-forward needs at least one --grid axis/],
    [
      ['--walk-forward', '100:50', '--grid', 'fast=5', '--param', 'slow=20', '--objective', 'luck'],
      /--objective: "luck" is not one of/,
    ],
    [['--grid', 'fast=5', '--param', 'slow=20'], /--grid: only with --walk-forward/],
    [
      ['--walk-forward', '5000:500', '--grid', 'fast=5', '--param', 'slow=20'],
      /trainPeriods: 5000 \+ 500 test periods exceed/,
    ],
    [
      ['--walk-forward', '100:50', '--grid', 'fast=5,60', '--param', 'slow=50'],
      /param\.fast: fast must be smaller than slow/,
    ],
  ])('walk-forward bad input %j exits 2', async (extra, message) => {
    expect(await quant('--bars', SP500, '--strategy', 'sma-cross', ...extra)).toBe(2);
    expect(io.err).toMatch(message);
  });

  it('reads CRLF files with a byte order mark and extra columns', async () => {
    const f = csv(
      'bom.csv',
      '\uFEFFDate,Open,Close,Note\r\n2020-01-01,1,10,a\r\n2020-01-02,1,11,b\r\n2020-01-03,1,12,"c, d"\r\n',
    );
    expect(
      await quant('--bars', f, '--strategy', 'sma-cross', '--param', 'fast=1', '--param', 'slow=2', '--json'),
    ).toBe(0);
    const got = JSON.parse(io.out);
    expect(got).toMatchObject({ bars: 3, periods: 2, trades: 1, from: '2020-01-01', to: '2020-01-03' });
    expect(got.totalReturn).toBeCloseTo(12 / 11 - 1, 15);
  });

  it('--report writes a self-contained HTML report and --oos splits the periods', async () => {
    const file = path.join(tmp, 'report.html');
    expect(
      await quant(
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=20',
        '--param',
        'slow=50',
        '--oos',
        '0.25',
        '--report',
        file,
        '--json',
      ),
    ).toBe(0);
    const got = JSON.parse(io.out);
    expect(got.inSample.periods + got.outOfSample.periods).toBe(got.periods);
    expect(got.outOfSample.periods).toBe(Math.round(5104 * 0.25));
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).toContain('Monthly returns');
    expect(html).toContain('2008'); // a year row of the heat map
    // Nothing is fetched: no scripts, stylesheets or images by URL (only the SVG namespace).
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(
      /https?:\/\/|<script|<link|<img/,
    );
    expect(existsSync(`${path.join(tmp, '.report.html')}.${process.pid}.tmp`)).toBe(false);
  });
});
