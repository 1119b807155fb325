/**
 * The reports through the real CLI entry point: `quant backtest` with its benchmark (in --json and
 * in the report), rolling statistics, exposure by group and the risk engine's table; and
 * `quant backtest sweep --report` with its heat map and the best region's stability.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloud } from '../../../src/local/cloud';
import { ANY_URL, FETCHES } from '../../helpers/offline-html';
import { runQuant } from '../../helpers/quant-cli';

const root = path.resolve(import.meta.dirname, '../../..');
const SP500 = path.join(root, 'node_modules/vega-datasets/data/sp500-2000.csv');
const dir = mkdtempSync(path.join(os.tmpdir(), 'report-cli-'));
const dataDir = path.join(dir, 'data');
const quant = (...args: string[]) => runQuant(['--data-dir', dataDir, ...args]);
const ok = (r: { code: number; out: string; err: string }): Record<string, unknown> => {
  expect(r.err.match(/^error: .*/m)?.[0] ?? '', r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Record<string, unknown>;
};

const closes = readFileSync(SP500, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => Number(l.split(',')[4]));

/** sma-cross fast/slow without costs, computed here, and its benchmark statistics against `b`. */
function reference(fast: number, slow: number, b: number[]) {
  const sma = (t: number, w: number): number => closes.slice(t - w + 1, t + 1).reduce((x, y) => x + y, 0) / w;
  const r: number[] = [];
  for (let t = 0; t < closes.length - 1; t++) {
    const pos = t >= slow - 1 && sma(t, fast) > sma(t, slow) ? 1 : 0;
    r.push(pos * (closes[t + 1] / closes[t] - 1));
  }
  const n = r.length;
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const mr = mean(r);
  const mb = mean(b);
  const cov = r.reduce((s, v, i) => s + (v - mr) * (b[i] - mb), 0);
  const vb = b.reduce((s, v) => s + (v - mb) ** 2, 0);
  const a = r.map((v, i) => v - b[i]);
  const ma = mean(a);
  const te = Math.sqrt(a.reduce((s, v) => s + (v - ma) ** 2, 0) / (n - 1)) * Math.sqrt(252);
  const beta = cov / vb;
  return { beta, alpha: (mr - beta * mb) * 252, trackingError: te, informationRatio: (ma * 252) / te };
}

beforeAll(async () => {
  await LocalCloud.up({ dataDir });
}, 60_000);
afterAll(async () => {
  await LocalCloud.down({ dataDir });
  rmSync(dir, { recursive: true, force: true });
});

describe('quant backtest: benchmark and report', () => {
  const args = [
    'backtest',
    '--bars',
    SP500,
    '--strategy',
    'sma-cross',
    '--param',
    'fast=20',
    '--param',
    'slow=50',
  ];

  it('--json carries the benchmark: buy-and-hold of the bars by default, as computed independently', async () => {
    const got = ok(await quant(...args, '--json'));
    const bench = got.benchmark as Record<string, number | string>;
    const b = closes.slice(1).map((c, t) => c / closes[t] - 1);
    const want = reference(20, 50, b);
    expect(bench.name).toBe('buy-and-hold');
    expect(bench.benchmarkTotalReturn).toBeCloseTo(closes[closes.length - 1] / closes[0] - 1, 10);
    expect(bench.totalReturn).toBe(got.totalReturn);
    expect(bench.excessReturn).toBeCloseTo(
      (got.totalReturn as number) - (bench.benchmarkTotalReturn as number),
      12,
    );
    expect(bench.beta).toBeCloseTo(want.beta, 10);
    expect(bench.alpha).toBeCloseTo(want.alpha, 10);
    expect(bench.trackingError).toBeCloseTo(want.trackingError, 10);
    expect(bench.informationRatio).toBeCloseTo(want.informationRatio, 10);
    // The same file as --benchmark: the same numbers, named by the file.
    const byFile = ok(await quant(...args, '--benchmark', SP500, '--json')).benchmark as Record<
      string,
      unknown
    >;
    expect(byFile.name).toBe('sp500-2000.csv');
    for (const k of Object.keys(bench).filter((x) => x !== 'name'))
      expect(byFile[k] as number, k).toBeCloseTo(bench[k] as number, 12);
  }, 60_000);

  it('the text output adds the benchmark line only when --benchmark is given', async () => {
    const plain = await quant(...args);
    expect(plain.code).toBe(0);
    expect(plain.out).not.toContain('benchmark');
    const withBench = await quant(...args, '--benchmark', SP500);
    expect(withBench.code).toBe(0);
    expect(withBench.out.startsWith(plain.out)).toBe(true);
    const b = ok(await quant(...args, '--benchmark', SP500, '--json')).benchmark as Record<string, number>;
    expect(withBench.out.slice(plain.out.length)).toBe(
      `benchmark sp500-2000.csv: return ${(b.benchmarkTotalReturn * 100).toFixed(2)}%, excess ${(b.excessReturn * 100).toFixed(2)}%, beta ${b.beta.toFixed(2)}, alpha ${(b.alpha * 100).toFixed(2)}%, information ratio ${b.informationRatio.toFixed(2)}, tracking error ${(b.trackingError * 100).toFixed(2)}%\n`,
    );
  }, 60_000);

  it('--report draws the benchmark and the rolling window given, with the --json numbers in it', async () => {
    const file = path.join(dir, 'bt.html');
    const got = ok(await quant(...args, '--rolling-window', '21', '--report', file, '--json'));
    const bench = got.benchmark as Record<string, number>;
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Against the benchmark: buy-and-hold');
    expect(html).toContain(`<b>Beta</b>${bench.beta.toFixed(2)}`);
    expect(html).toContain(`<b>Information ratio</b>${bench.informationRatio.toFixed(2)}`);
    expect(html).toContain(`<b>Tracking error</b>${(bench.trackingError * 100).toFixed(2)}%`);
    expect(html).toContain('Rolling Sharpe (21 periods)');
    expect(html).toContain('Rolling volatility (21 periods, annualised)');
    // No reference data knows the S&P 500 file's symbol: the report says what exposure needs.
    expect(html).toContain(
      '<h2>Exposure</h2><p class="missing">Exposure by region and asset class needs reference data: run with --reference FILE',
    );
    expect(html).not.toContain('Net exposure by region');
    expect(html).not.toMatch(FETCHES);
    expect(html).not.toMatch(ANY_URL);
  }, 60_000);

  it('a multi-asset run with reference data and limits: exposure by region and asset class, rules as rows', async () => {
    const limits = path.join(dir, 'limits.json');
    writeFileSync(
      limits,
      JSON.stringify({
        securities: {},
        limits: { maxPositionWeight: 0.15, assetClassCaps: { equity: 0.3 }, regionCaps: { US: 0.4 } },
      }),
    );
    const file = path.join(dir, 'macro.html');
    const got = ok(
      await quant(
        'backtest',
        '--bars',
        'synthetic:macro',
        '--strategy',
        'global-macro',
        '--reference',
        'synthetic',
        '--limits',
        limits,
        '--benchmark',
        'SPY',
        '--report',
        file,
        '--json',
      ),
    );
    const gate = got.riskGate as {
      orders: number;
      resized: number;
      rejected: number;
      byRule: Record<string, number>;
      byRuleDecision: Record<string, { resized: number; rejected: number }>;
    };
    expect(Object.keys(gate.byRule).length).toBeGreaterThan(0);
    expect(Object.keys(gate.byRuleDecision).sort()).toEqual(Object.keys(gate.byRule).sort());
    expect((got.benchmark as { name: string }).name).toBe('SPY');
    const html = readFileSync(file, 'utf8');
    for (const [rule, count] of Object.entries(gate.byRule)) {
      const d = gate.byRuleDecision[rule];
      expect(d.resized + d.rejected).toBe(count);
      expect(html).toContain(
        `<tr><td>${rule}</td><td>${d.resized}</td><td>${d.rejected}</td><td>${count}</td></tr>`,
      );
      if (d.resized > 0) expect(html).toContain(`<title>${rule} resized: ${d.resized}</title>`);
      if (d.rejected > 0) expect(html).toContain(`<title>${rule} rejected: ${d.rejected}</title>`);
    }
    expect(html).toContain(`<tr><td>Rejected</td><td>${gate.rejected}</td></tr>`);
    expect(html).toContain(`<tr><td>Resized</td><td>${gate.resized}</td></tr>`);
    expect(html).toContain('Net exposure by region');
    expect(html).toContain('Net exposure by asset class');
    // The macro universe's regions and classes (src/synthetic/point-in-time.ts) name the bands.
    expect(html).toMatch(/<title>US<\/title>/);
    expect(html).toMatch(/<title>(equity|Equity)<\/title>/);
    expect(html).not.toMatch(FETCHES);
    expect(html).not.toMatch(ANY_URL);
  }, 60_000);

  it("without --reference, the macro universe's symbols take the built-in reference for exposure", async () => {
    const file = path.join(dir, 'macro-builtin.html');
    ok(
      await quant(
        'backtest',
        '--bars',
        'synthetic:macro',
        '--strategy',
        'global-macro',
        '--report',
        file,
        '--json',
      ),
    );
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Net exposure by region');
    expect(html).toContain('Net exposure by asset class');
    expect(html).toMatch(/<title>Developed ex-US<\/title>/);
    expect(html).toMatch(/<title>fixedIncome<\/title>/);
    expect(html).toContain('Groups from the synthetic macro universe&#39;s built-in reference.');
  }, 60_000);

  it('bad --benchmark and --rolling-window exit 2 naming the option, and write no report', async () => {
    const file = path.join(dir, 'never.html');
    const r = await quant(...args, '--benchmark', 'NOPE', '--report', file, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: --benchmark: "NOPE" is not a symbol of the backtest/);
    expect(r.out).toBe('');
    const w = await quant(...args, '--rolling-window', '1', '--report', file, '--json');
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/^error: --rolling-window: must be a whole number from 2 to 100000, got "1"/);
    expect(() => readFileSync(file)).toThrow();
    const wf = await quant(...args, '--walk-forward', '500:100', '--grid', 'fast=5,10', '--benchmark', 'SPY');
    expect(wf.code).toBe(2);
    expect(wf.err).toMatch(/--walk-forward: not with .*--benchmark/);
  }, 60_000);
});

describe('quant backtest sweep --report', () => {
  it('writes the heat map of every grid point and the stability it prints in --json', async () => {
    const file = path.join(dir, 'sweep.html');
    const got = ok(
      await quant(
        'backtest',
        'sweep',
        '--bars',
        SP500,
        '--strategy',
        'sma-cross',
        '--grid',
        'fast=5:25:10',
        '--grid',
        'slow=30:70:20',
        '--top',
        '3',
        '--report',
        file,
        '--json',
      ),
    );
    expect(got.total).toBe(9);
    const s = got.stability as {
      axes: string[];
      best: { params: Record<string, number>; value: number };
      neighbours: number;
      neighbourMean: number;
      neighbourMin: number;
      ratio: number | null;
      verdict: string;
    };
    const top = got.top as { params: string; sharpe: number }[];
    // The best point is the ranking's first; a 3 x 3 grid: a corner has 3 neighbours, an edge 5, the centre 8.
    expect(s.best.params).toEqual(JSON.parse(top[0].params));
    expect(s.best.value).toBe(top[0].sharpe);
    expect(s.axes).toEqual(['fast', 'slow']);
    const edge = (v: number, lo: number, hi: number) => (v === lo || v === hi ? 1 : 0);
    const corners = edge(s.best.params.fast, 5, 25) + edge(s.best.params.slow, 30, 70);
    expect(s.neighbours).toBe([8, 5, 3][corners]);
    expect(s.neighbourMin).toBeLessThanOrEqual(s.neighbourMean);
    expect(s.neighbourMean).toBeLessThanOrEqual(s.best.value);
    expect(['plateau', 'spike']).toContain(s.verdict);

    const html = readFileSync(file, 'utf8');
    const cells = [
      ...html.matchAll(/<td(?: class="(best|near)")? style="[^"]+" title="fast=(\d+) slow=(\d+): ([^"]+)">/g),
    ];
    expect(cells).toHaveLength(9);
    const best = cells.filter((c) => c[1] === 'best');
    expect(best.map((c) => [Number(c[2]), Number(c[3])])).toEqual([[s.best.params.fast, s.best.params.slow]]);
    expect(html).toContain(`<b>Neighbours</b>${s.neighbours}`);
    expect(html).toContain(`<b>Verdict</b>${s.verdict}`);
    expect(html).toContain(`<b>Best sharpe</b>${s.best.value.toFixed(2)}`);
    expect(html).not.toMatch(FETCHES);
    expect(html).not.toMatch(ANY_URL);
  }, 180_000);

  it('--state-machine: the same stability from the rows the state machine wrote', async () => {
    const grid = ['--grid', 'fast=5:25:10', '--grid', 'slow=30:70:20'];
    const base = ['backtest', 'sweep', '--bars', SP500, '--strategy', 'sma-cross', ...grid, '--json'];
    const local = ok(await quant(...base, '--sweep-id', 'report-local'));
    const file = path.join(dir, 'sweep-sm.html');
    const sm = ok(await quant(...base, '--state-machine', '--sweep-id', 'report-sm', '--report', file));
    expect(sm.stability).toEqual(local.stability);
    const html = readFileSync(file, 'utf8');
    expect(html.match(/<td(?: class="(?:best|near)")? style="[^"]+" title="fast=/g)).toHaveLength(9);
    expect(html).toContain('report-sm');
  }, 180_000);

  it('--heat-map names grid parameters; --report is refused with --remote', async () => {
    const base = [
      'backtest',
      'sweep',
      '--bars',
      SP500,
      '--strategy',
      'sma-cross',
      '--grid',
      'fast=5,10',
      '--grid',
      'slow=30,40',
    ];
    const bad = await quant(...base, '--heat-map', 'fast,lookback', '--report', path.join(dir, 'x.html'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: --heat-map: "lookback" is not a --grid parameter \(fast, slow\)/);
    const remote = await quant(...base, '--remote', '--report', path.join(dir, 'x.html'));
    expect(remote.code).toBe(2);
    expect(remote.err).toMatch(/^error: --report: not with --remote/);
  });
});
