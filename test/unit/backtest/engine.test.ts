import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  returnMetrics,
  runBacktest,
  smaCrossGrid,
  smaCrossSummary,
  strategyNames,
  type Bars,
  type Panel,
} from '../../../src/backtest';
import { InputError } from '../../../src/errors';
import { bars, days, gbm } from './fixtures';
import { CLOSE_FEATURES, writeModelDir } from '../../helpers/ml-models';

/** Independent metric formulas (written from docs/architecture.md, not from the engine's code). */
function reference(r: number[]): Record<string, number> {
  const n = r.length;
  const mean = r.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(r.map((x) => (x - mean) ** 2).reduce((a, b) => a + b, 0) / (n - 1));
  const downside = Math.sqrt(r.map((x) => Math.min(x, 0) ** 2).reduce((a, b) => a + b, 0) / n);
  const equity = [1];
  for (const x of r) equity.push(equity[equity.length - 1] * (1 + x));
  let mdd = 0;
  equity.forEach((e, i) => {
    const peak = Math.max(...equity.slice(0, i + 1));
    mdd = Math.max(mdd, (peak - e) / peak);
  });
  const final = equity[n];
  const cagr = final ** (252 / n) - 1;
  return {
    totalReturn: final - 1,
    cagr,
    sharpe: (mean / sd) * Math.sqrt(252),
    sortino: (mean / downside) * Math.sqrt(252),
    maxDrawdown: mdd,
    calmar: cagr / mdd,
    volatility: sd * Math.sqrt(252),
  };
}

describe('metrics', () => {
  it('match hand-computed values on a vector with a negative first return', () => {
    const r = [-0.1, 0.05, 0.02, -0.03, 0.04];
    const m = returnMetrics(Float64Array.from(r));
    // mean -0.004; deviations^2 sum 0.01532 -> sample var 0.00383; downside sum 0.0109 / 5 = 0.00218.
    expect(m.sharpe).toBeCloseTo((-0.004 / Math.sqrt(0.00383)) * Math.sqrt(252), 12);
    expect(m.sortino).toBeCloseTo((-0.004 / Math.sqrt(0.00218)) * Math.sqrt(252), 12);
    expect(m.volatility).toBeCloseTo(Math.sqrt(0.00383) * Math.sqrt(252), 12);
    // Equity 0.9, 0.945, 0.9639, 0.934983, 0.97238232: the start (1.0) is the peak, so MDD = 10%.
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(m.totalReturn).toBeCloseTo(0.97238232 - 1, 12);
    expect(m.cagr).toBeCloseTo(0.97238232 ** (252 / 5) - 1, 12);
    expect(m.calmar).toBeCloseTo(m.cagr / 0.1, 12);
  });

  it('agree with independent formulas on a long random vector', () => {
    const c = gbm(600, 7, 0.02, 0);
    const r = Array.from({ length: c.length - 1 }, (_, i) => c[i + 1] / c[i] - 1);
    const m = returnMetrics(Float64Array.from(r));
    const ref = reference(r);
    for (const k of Object.keys(ref)) expect(m[k as keyof typeof m], k).toBeCloseTo(ref[k], 10);
  });

  it('report 0 for ratios whose denominator is 0', () => {
    const m = returnMetrics(new Float64Array(5));
    expect(m).toMatchObject({
      totalReturn: 0,
      cagr: 0,
      sharpe: 0,
      sortino: 0,
      maxDrawdown: 0,
      calmar: 0,
      volatility: 0,
    });
  });
});

describe('sma-cross timing and costs (hand-computed)', () => {
  // fast=1, slow=2: long when close[t] > (close[t-1] + close[t]) / 2, i.e. when the close rose.
  const close = [10, 11, 12, 11, 10, 11, 12, 13];
  // Positions decided at t=0..6 (t=0 before SMA(2) exists): 0,1,1,0,0,1,1; bar 7 is never held.
  const asset = [1 / 10, 1 / 11, -1 / 12, -1 / 11, 1 / 10, 1 / 11, 1 / 12];

  it('holds the position decided at close t over t -> t+1, flat before the slow SMA exists', () => {
    const res = runBacktest(bars(close), { strategy: 'sma-cross', params: { fast: 1, slow: 2 } });
    expect(Array.from(res.positions[0])).toEqual([0, 1, 1, 0, 0, 1, 1]);
    const expected = [0, asset[1], asset[2], 0, 0, asset[5], asset[6]];
    Array.from(res.returns).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 15));
    const s = res.summary;
    expect(s.bars).toBe(8);
    expect(s.periods).toBe(7);
    expect(s.trades).toBe(3); // entries at 1 and 5, exit at 3
    expect(s.exposure).toBeCloseTo(4 / 7, 15);
    expect(s.totalReturn).toBeCloseTo((1 + 1 / 11) * (1 - 1 / 12) * (1 + 1 / 11) * (1 + 1 / 12) - 1, 14);
    expect(s.turnover).toBeCloseTo((3 * 252) / 7, 12);
    expect(res.equity.length).toBe(8);
    expect(res.equity[0]).toBe(1);
  });

  it('charges c/10,000 x |change| in the period that starts at the change', () => {
    const res = runBacktest(bars(close), {
      strategy: 'sma-cross',
      params: { fast: 1, slow: 2 },
      costBps: 10,
    });
    const c = 0.001;
    const expected = [0, asset[1] - c, asset[2], -c, 0, asset[5] - c, asset[6]];
    Array.from(res.returns).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 15));
    expect(res.summary.totalReturn).toBeCloseTo(expected.reduce((e, x) => e * (1 + x), 1) - 1, 14);
    expect(res.ledger.map((l) => [l.bar, l.from, l.to, l.cost])).toEqual([
      [1, 0, 1, c],
      [3, 1, 0, c],
      [5, 0, 1, c],
    ]);
    expect(res.totalCosts).toBeCloseTo(3 * c, 15);
    // Round trips: closed 1 -> 3 (with both costs), still open from 5.
    expect(res.roundTrips).toHaveLength(2);
    expect(res.roundTrips[0].return).toBeCloseTo((1 + asset[1] - c) * (1 + asset[2]) * (1 - c) - 1, 14);
    expect(res.roundTrips[1].open).toBe(true);
    expect(res.summary.hitRate).toBe(res.roundTrips[0].return > 0 ? 1 : 0);
  });

  it('hit rate, average win and average loss over closed round trips (hand-computed)', () => {
    // fast=1, slow=2: long at t2-t3 (exit t4) and t7-t9 (exit t10); bar 11 is never held.
    const res = runBacktest(bars([10, 10, 11, 12, 11, 10, 9, 10, 11, 13, 12, 11]), {
      strategy: 'sma-cross',
      params: { fast: 1, slow: 2 },
      costBps: 10,
    });
    expect(Array.from(res.positions[0])).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0]);
    const c = 0.001;
    const loss = (1 + 1 / 11 - c) * (11 / 12) * (1 - c) - 1; // 11 -> 12 -> 11, both costs
    const win = (1 + 1 / 10 - c) * (13 / 11) * (12 / 13) * (1 - c) - 1; // 10 -> 11 -> 13 -> 12
    expect(res.roundTrips.map((r) => [r.entryBar, r.exitBar, r.open])).toEqual([
      [2, 4, false],
      [7, 10, false],
    ]);
    expect(res.roundTrips[0].return).toBeCloseTo(loss, 14);
    expect(res.roundTrips[1].return).toBeCloseTo(win, 14);
    expect(res.summary.hitRate).toBe(0.5);
    expect(res.summary.avgWin).toBeCloseTo(win, 14);
    expect(res.summary.avgLoss).toBeCloseTo(loss, 14);
    expect(loss).toBeLessThan(0);
    expect(res.summary.trades).toBe(4);
    expect(res.summary.exposure).toBeCloseTo(5 / 11, 15);
  });

  it('zero cost equals no cost, and costs lower the return by exactly the charged amounts', () => {
    const b = bars(Array.from(gbm(400, 3)));
    const none = runBacktest(b, { strategy: 'sma-cross', params: { fast: 5, slow: 20 } });
    const zero = runBacktest(b, { strategy: 'sma-cross', params: { fast: 5, slow: 20 }, costBps: 0 });
    expect(zero.summary).toEqual(none.summary);
    const costly = runBacktest(b, { strategy: 'sma-cross', params: { fast: 5, slow: 20 }, costBps: 25 });
    costly.returns.forEach((x, t) => {
      const dw = Math.abs(none.positions[0][t] - (t > 0 ? none.positions[0][t - 1] : 0));
      expect(x).toBeCloseTo(none.returns[t] - 0.0025 * dw, 15);
    });
  });

  it('short=true goes short below and flat on ties', () => {
    const res = runBacktest(bars([10, 10, 9, 8, 10, 10]), {
      strategy: 'sma-cross',
      params: { fast: 1, slow: 2, short: true },
    });
    // t1: 10 = 10 -> 0; t2: 9 < 9.5 -> -1; t3: 8 < 8.5 -> -1; t4: 10 > 9 -> 1.
    expect(Array.from(res.positions[0])).toEqual([0, 0, -1, -1, 1]);
    expect(res.returns[2]).toBeCloseTo(-(8 / 9 - 1), 15);
    expect(res.returns[3]).toBeCloseTo(-(10 / 8 - 1), 15);
    expect(res.summary.trades).toBe(2); // -1 -> 1 is one bar with a change
    expect(res.summary.turnover).toBeCloseTo((3 * 252) / 5, 12);
  });

  it('metrics of a whole backtest equal the independent formulas on its returns', () => {
    const b = bars(Array.from(gbm(800, 11)));
    const res = runBacktest(b, { strategy: 'sma-cross', params: { fast: 3, slow: 15 }, costBps: 5 });
    const ref = reference(Array.from(res.returns));
    for (const k of Object.keys(ref))
      expect(res.summary[k as keyof typeof res.summary], k).toBeCloseTo(ref[k], 10);
  });
});

describe('fused kernels', () => {
  const close = gbm(3000, 42);
  it.each([
    [5, 30, 0, false],
    [2, 3, 10, false],
    [20, 50, 5, true],
    [1, 100, 2.5, true],
  ])('smaCrossSummary(%i, %i, cost %d, short %s) equals the general engine', (fast, slow, cost, short) => {
    const engine = runBacktest(bars(Array.from(close)), {
      strategy: 'sma-cross',
      params: { fast, slow, short },
      costBps: cost,
    });
    const k = smaCrossSummary(close, fast, slow, cost, short);
    for (const key of Object.keys(engine.summary) as (keyof typeof k)[])
      expect(k[key], key).toBeCloseTo(engine.summary[key], 9);
    expect(k.trades).toBe(engine.summary.trades);
  });

  it('grid, kernel and engine agree on 40 pairs long/short with costs (exact counts)', () => {
    const c = gbm(1500, 77, 0.015, 0);
    const pairs: [number, number][] = [];
    for (let i = 0; i < 40; i++) {
      const slow = 3 + ((i * 37) % 90);
      pairs.push([1 + ((i * 13) % (slow - 1)), slow]);
    }
    const grid = smaCrossGrid(c, pairs, 7, true);
    grid.forEach((row) => {
      const engine = runBacktest(bars(Array.from(c)), {
        strategy: 'sma-cross',
        params: { fast: row.fast, slow: row.slow, short: true },
        costBps: 7,
      }).summary;
      expect(row.summary).toEqual(smaCrossSummary(c, row.fast, row.slow, 7, true));
      expect([row.summary.trades, row.summary.exposure, row.summary.hitRate]).toEqual([
        engine.trades,
        engine.exposure,
        engine.hitRate,
      ]);
      for (const k of Object.keys(engine) as (keyof typeof engine)[])
        expect(row.summary[k], k).toBeCloseTo(engine[k], 9);
    });
  });

  it('smaCrossGrid gives the single kernel result for every pair', () => {
    const pairs: [number, number][] = [];
    for (let s = 2; s <= 30; s += 4) for (let f = 1; f < s; f += 3) pairs.push([f, s]);
    const grid = smaCrossGrid(close, pairs, 3);
    expect(grid).toHaveLength(pairs.length);
    grid.forEach((row, i) => {
      expect([row.fast, row.slow]).toEqual(pairs[i]);
      expect(row.summary).toEqual(smaCrossSummary(close, row.fast, row.slow, 3));
    });
  });

  it('rejects bad pairs naming the field', () => {
    expect(() => smaCrossGrid(close, [[10, 10]], 0)).toThrow(/param\.fast: must be smaller than slow/);
    expect(() => smaCrossSummary(close, 0, 10)).toThrow(/param\.fast/);
    expect(() => smaCrossSummary(close, 3, 2.5)).toThrow(/param\.slow/);
  });
});

describe('no look-ahead', () => {
  const n = 300;
  const base = [gbm(n, 1), gbm(n, 2), gbm(n, 3), gbm(n, 4)];
  const panel = (close: Float64Array[], k = close.length): Panel => ({
    symbols: ['A', 'B', 'C', 'D'].slice(0, k),
    dates: days(n),
    close: close.slice(0, k),
  });
  // ml-signal needs a model directory: a TS-built MLP over the close-only features.
  const mlDir = mkdtempSync(path.join(os.tmpdir(), 'engine-ml-'));
  writeModelDir(mlDir, { features: CLOSE_FEATURES });
  const cases: [string, Record<string, number | boolean | string>, number][] = [
    ['sma-cross', { fast: 5, slow: 20, short: true }, 1],
    ['ts-momentum', { lookback: 20, volTarget: 0.1 }, 1],
    ['mean-reversion', { window: 10, entry: 1, exit: 0.2 }, 1],
    ['xs-momentum', { lookback: 30, skip: 5, topK: 1, rebalance: 7, short: true }, 4],
    ['pairs', { window: 30, entry: 1, exit: 0.1 }, 2],
    ['ml-signal', { model: mlDir, threshold: 0, short: true }, 4],
  ];
  // The families that need side data are checked the same way, with their side data changed after
  // t as well, in test/unit/backtest/strategy-families.test.ts.
  const families = [
    'fx-carry',
    'commodity-carry',
    'bond-carry',
    'multi-factor',
    'dual-momentum',
    'global-macro',
  ];
  it('covers every strategy', () =>
    expect([...cases.map((c) => c[0]), ...families].sort()).toEqual([...strategyNames].sort()));

  it.each(cases)('%s: changing bars after t never changes positions up to t', (strategy, params, k) => {
    const full = runBacktest(panel(base, k), { strategy, params });
    expect(full.positions.some((p) => p.some((x) => x !== 0))).toBe(true);
    for (const t of [40, 120, 250]) {
      // Replace everything after t with a different path (a crash, then noise).
      const altered = base.map((c, a) => {
        const x = Float64Array.from(c);
        const alt = gbm(n, 100 + a + t, 0.05, -0.01, c[t] * 0.5);
        for (let i = t + 1; i < n; i++) x[i] = alt[i];
        return x;
      });
      const res = runBacktest(panel(altered, k), { strategy, params });
      for (let a = 0; a < k; a++) {
        expect(Array.from(res.positions[a].subarray(0, t + 1))).toEqual(
          Array.from(full.positions[a].subarray(0, t + 1)),
        );
      }
      // Returns before period t are untouched too (period t itself ends at the changed bar t+1).
      expect(Array.from(res.returns.subarray(0, t))).toEqual(Array.from(full.returns.subarray(0, t)));
    }
  });
});

describe('bad input', () => {
  const b = bars([10, 11, 12, 13, 12, 11]);
  const run =
    (spec: Parameters<typeof runBacktest>[1], input: Bars | Panel = b) =>
    () =>
      runBacktest(input, spec);

  it('unknown strategy or parameter', () => {
    expect(run({ strategy: 'nope', params: {} })).toThrow(
      /strategy: unknown strategy "nope" \(known: sma-cross/,
    );
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 3, speed: 2 } })).toThrow(
      /param\.speed: unknown parameter/,
    );
  });

  it('fast >= slow, missing, non-integer, wrong type and huge values', () => {
    expect(run({ strategy: 'sma-cross', params: { fast: 3, slow: 3 } })).toThrow(
      /param\.fast: fast must be smaller than slow/,
    );
    expect(run({ strategy: 'sma-cross', params: { fast: 3 } })).toThrow(/param\.slow/);
    expect(run({ strategy: 'sma-cross', params: { fast: 1.5, slow: 3 } })).toThrow(/param\.fast/);
    expect(run({ strategy: 'sma-cross', params: { fast: 'abc', slow: 3 } })).toThrow(/param\.fast/);
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 1e12 } })).toThrow(/param\.slow/);
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 3, short: 'yes' } })).toThrow(
      /param\.short/,
    );
  });

  it('errors are InputErrors carrying the field', () => {
    try {
      runBacktest(b, { strategy: 'mean-reversion', params: { window: 3, entry: 1, exit: 2 } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).field).toBe('param.exit');
    }
  });

  it('dates not increasing, NaN or non-positive prices, too few bars', () => {
    const d = days(6);
    const swapped = { ...b, dates: [d[0], d[2], d[1], d[3], d[4], d[5]] };
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 2 } }, swapped)).toThrow(
      /bars\[2\]\.date: dates must be strictly increasing/,
    );
    const dup = { ...b, dates: [d[0], d[1], d[1], d[3], d[4], d[5]] };
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 2 } }, dup)).toThrow(/strictly increasing/);
    for (const bad of [NaN, 0, -1, Infinity]) {
      const c = Float64Array.from(b.close);
      c[3] = bad;
      expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 2 } }, { ...b, close: c })).toThrow(
        new RegExp(`bars\\.X\\[3\\]\\.close: must be a finite price > 0, got ${bad}`),
      );
    }
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 2 } }, bars([10]))).toThrow(
      /bars: need at least 2 bars, got 1/,
    );
  });

  it('negative, NaN or absurd costs', () => {
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 2 }, costBps: -1 })).toThrow(
      /costBps: must be a number between 0 and 10000/,
    );
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 2 }, costBps: NaN })).toThrow(/costBps/);
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 2 }, costs: { impactK: 1 } })).toThrow(
      /costs\.impactK: market impact needs volume/,
    );
  });

  it('a universe strategy on one symbol and a single-asset strategy on a universe', () => {
    expect(run({ strategy: 'pairs', params: { window: 3, entry: 1 } })).toThrow(
      /bars: strategy pairs takes 2 symbol\(s\), got 1/,
    );
    const p: Panel = { symbols: ['A', 'B'], dates: days(6), close: [b.close, b.close] };
    expect(run({ strategy: 'sma-cross', params: { fast: 1, slow: 2 } }, p)).toThrow(
      /bars: strategy sma-cross takes 1 symbol\(s\), got 2 \(A, B\)/,
    );
    expect(run({ strategy: 'xs-momentum', params: { lookback: 2, topK: 2 } }, p)).not.toThrow();
    expect(run({ strategy: 'xs-momentum', params: { lookback: 2, topK: 3 } }, p)).toThrow(
      /param\.topK: 3 needs at least 3 symbols, the universe has 2/,
    );
  });
});
