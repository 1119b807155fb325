import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import { runBacktest, type Panel } from '../../../src/backtest';
import { getStrategy, parseStrategyParams } from '../../../src/backtest/strategies';
import { carryRollDown, interpolate } from '../../../src/backtest/strategies/bond-carry';
import { rollYield } from '../../../src/backtest/strategies/commodity-carry';
import { fxCarry } from '../../../src/backtest/strategies/fx-carry';
import { betas, demeanBy, residualOn } from '../../../src/backtest/strategies/multi-factor';
import { equityUniverse } from '../../../src/synthetic/equity-universe';
import { loadSynthetic } from '../../../src/backtest/aux-load';
import { mulberry32 } from '../../../src/synthetic/random';
import { days } from './fixtures';

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);
const flat = (n: number, v = 100): Float64Array => new Float64Array(n).fill(v);
/** The strategy's targets at every bar (the engine holds bars 0..n-2; the last bar is checked too). */
const run = (panel: Panel, strategy: string, params: Record<string, number | boolean>) =>
  getStrategy(strategy).positions(panel, parseStrategyParams(strategy, params));

function fieldError(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.field;
    throw e;
  }
  return undefined;
}

describe('fx-carry', () => {
  // Carry r(base) - r(USD) with USD at 2%: AUD +2%, JPY -2%, EUR -1%, NZD +3% (NZD from bar 2: +1%).
  const n = 5;
  const panel: Panel = {
    symbols: ['AUDUSD', 'JPYUSD', 'EURUSD', 'NZDUSD'],
    dates: days(n),
    close: [flat(n), flat(n), flat(n), flat(n)],
    aux: {
      rates: {
        USD: flat(n, 0.02),
        AUD: flat(n, 0.04),
        JPY: flat(n, 0),
        EUR: flat(n, 0.01),
        NZD: f64([0.05, 0.05, 0.03, 0.03, 0.03]),
      },
    },
  };

  it('carry is the rate differential as known at each bar', () => {
    const c = fxCarry(panel);
    expect(c[0][0]).toBeCloseTo(0.02, 15);
    expect(c[1][0]).toBeCloseTo(-0.02, 15);
    expect(c[3][0]).toBeCloseTo(0.03, 15);
    expect(c[3][2]).toBeCloseTo(0.01, 15);
  });

  it('long the top, short the bottom at ±0.5/topK; holds between rebalances', () => {
    const w = run(panel, 'fx-carry', { topK: 1, rebalance: 2 });
    // Bar 0: NZD long, JPY short; bar 1 held; bar 2 re-ranked: AUD (2%) beats NZD (1%).
    expect([w[3][0], w[1][0], w[0][0]]).toEqual([0.5, -0.5, 0]);
    expect([w[3][1], w[1][1]]).toEqual([0.5, -0.5]);
    expect([w[0][2], w[3][2], w[1][2]]).toEqual([0.5, 0, -0.5]);
  });

  it('names the missing rate and the bad symbol', () => {
    const noAud = { ...panel, aux: { rates: { ...panel.aux!.rates!, AUD: undefined! } } };
    delete (noAud.aux.rates as Record<string, unknown>).AUD;
    expect(fieldError(() => fxCarry(noAud))).toBe('data.rates.AUD');
    expect(fieldError(() => fxCarry({ ...panel, symbols: ['GOLD', 'JPYUSD', 'EURUSD', 'NZDUSD'] }))).toBe(
      'bars.GOLD',
    );
    expect(fieldError(() => parseStrategyParams('fx-carry', { topK: 0 }))).toBe('param.topK');
  });
});

describe('commodity-carry', () => {
  const n = 3;
  const panel: Panel = {
    symbols: ['CL', 'NG', 'GC'],
    dates: days(n),
    close: [flat(n), flat(n), flat(n)],
    aux: {
      fields: {
        front: [flat(n, 100), flat(n, 50), flat(n, 10)],
        next: [flat(n, 98), flat(n, 51), flat(n, 10)],
        days: [flat(n, 30), flat(n, 30), flat(n, 60)],
      },
    },
  };

  it('roll yield = ln(front/next) × 365 / days', () => {
    const ry = rollYield(panel);
    expect(ry[0][0]).toBeCloseTo((Math.log(100 / 98) * 365) / 30, 14);
    expect(ry[1][0]).toBeCloseTo((Math.log(50 / 51) * 365) / 30, 14);
    expect(ry[2][0]).toBe(0);
  });

  it('long the backwardated, short the contango', () => {
    const w = run(panel, 'commodity-carry', { topK: 1 });
    expect([w[0][0], w[1][0], w[2][0]]).toEqual([0.5, -0.5, 0]);
    const longOnly = run(panel, 'commodity-carry', { topK: 1, short: false });
    expect([longOnly[0][0], longOnly[1][0], longOnly[2][0]]).toEqual([1, 0, 0]);
  });

  it('names the missing curve field', () => {
    expect(fieldError(() => rollYield({ ...panel, aux: {} }))).toBe('data.fields.front');
  });
});

describe('bond-carry', () => {
  const n = 2;
  const panel: Panel = {
    symbols: ['UST2Y', 'UST10Y'],
    dates: days(n),
    close: [flat(n), flat(n)],
    aux: { curve: { tenors: [0.25, 2, 10], yields: [flat(n, 0.01), flat(n, 0.02), flat(n, 0.03)] } },
  };

  it('carry + roll-down over a 1-year horizon, by hand', () => {
    // y(9) = 0.02 + 7/8 × 0.01 = 0.02875: 10 × 0.03 − 9 × 0.02875 − 0.01 = 0.03125.
    // y(1) = 0.01 + 0.75/1.75 × 0.01:        2 × 0.02 − y(1) − 0.01.
    const y1 = 0.01 + (0.75 / 1.75) * 0.01;
    expect(interpolate([0.25, 2, 10], [0.01, 0.02, 0.03], 9)).toBeCloseTo(0.02875, 15);
    const raw = carryRollDown(panel, { horizon: 1, perDuration: false });
    expect(raw[1][0]).toBeCloseTo(0.03125, 14);
    expect(raw[0][0]).toBeCloseTo(0.04 - y1 - 0.01, 14);
    const per = carryRollDown(panel, { horizon: 1, perDuration: true });
    expect(per[1][0]).toBeCloseTo(0.003125, 14);
    expect(per[0][0]).toBeCloseTo((0.04 - y1 - 0.01) / 2, 14);
  });

  it('per unit of duration the 2-year wins; in raw return the 10-year does', () => {
    const per = run(panel, 'bond-carry', { topK: 1, horizon: 1 });
    expect([per[0][0], per[1][0]]).toEqual([1, 0]);
    const raw = run(panel, 'bond-carry', { topK: 1, horizon: 1, perDuration: false });
    expect([raw[0][0], raw[1][0]]).toEqual([0, 1]);
  });

  it('names the missing curve and a symbol without a maturity', () => {
    expect(fieldError(() => carryRollDown({ ...panel, aux: {} }, { horizon: 1, perDuration: true }))).toBe(
      'data.curve',
    );
    expect(
      fieldError(() =>
        carryRollDown({ ...panel, symbols: ['BUND', 'UST10Y'] }, { horizon: 1, perDuration: true }),
      ),
    ).toBe('bars.BUND');
  });
});

describe('dual-momentum', () => {
  const panel = (c: number[][]): Panel => ({
    symbols: c.map((_, i) => `S${i}`),
    dates: days(c[0].length),
    close: c.map(f64),
  });

  it('holds the best trailing return only while it is positive, else cash', () => {
    const up = panel([
      [100, 100, 110],
      [100, 100, 105],
      [100, 100, 90],
    ]);
    const w = run(up, 'dual-momentum', { lookback: 2, topK: 1 });
    expect([w[0][1], w[1][1], w[2][1]]).toEqual([0, 0, 0]); // before the lookback: flat
    expect([w[0][2], w[1][2], w[2][2]]).toEqual([1, 0, 0]);
    const down = panel([
      [100, 100, 99],
      [100, 100, 95],
      [100, 100, 90],
    ]);
    const c = run(down, 'dual-momentum', { lookback: 2, topK: 1 });
    expect([c[0][2], c[1][2], c[2][2]]).toEqual([0, 0, 0]);
    // A hurdle of -2% lets the -1% asset in; topK 2: the second slot (-5%) stays in cash.
    const h = run(down, 'dual-momentum', { lookback: 2, topK: 2, threshold: -0.02 });
    expect([h[0][2], h[1][2], h[2][2]]).toEqual([0.5, 0, 0]);
  });
});

describe('multi-factor', () => {
  // Value only: bookToPrice (1, 2, 3, 5), earningsYield (0.1, 0.2, 0.4, 0.3).
  // z(bp) = (−1.75, −0.75, 0.25, 2.25) / √2.1875; z(ey) = (−1.5, −0.5, 1.5, 0.5) / √1.25 (×0.1 units).
  const n = 3;
  const panel: Panel = {
    symbols: ['A', 'B', 'C', 'D'],
    dates: days(n),
    close: [flat(n), flat(n), flat(n), flat(n)],
    aux: {
      fields: {
        bookToPrice: [flat(n, 1), flat(n, 2), flat(n, 3), flat(n, 5)],
        earningsYield: [flat(n, 0.1), flat(n, 0.2), flat(n, 0.4), flat(n, 0.3)],
      },
      labels: { sector: ['X', 'X', 'Y', 'Y'] },
    },
  };
  const valueOnly = {
    momentum: 0,
    quality: 0,
    lowVol: 0,
    momLookback: 2,
    momSkip: 0,
    volWindow: 2,
    quantile: 0.25,
  };

  it('ranks by the composite z-score: long D, short A', () => {
    // Composite: A −1.2625, B −0.4772, C 0.7555, D 0.9843.
    const w = run(panel, 'multi-factor', { ...valueOnly, sectorNeutral: false });
    expect([w[0][2], w[1][2], w[2][2], w[3][2]]).toEqual([-0.5, 0, 0, 0.5]);
  });

  it('sector neutral: demeaned within X (A, B) and Y (C, D), B becomes the long', () => {
    // X: ±0.393 around −0.870; Y: ±0.114 around 0.870.
    const w = run(panel, 'multi-factor', valueOnly);
    expect([w[0][2], w[1][2], w[2][2], w[3][2]]).toEqual([-0.5, 0.5, 0, 0]);
    expect(Array.from(demeanBy(f64([1, 3, 10, 20]), ['X', 'X', 'Y', 'Y']))).toEqual([-1, 1, -5, 5]);
  });

  it('beta neutral: residuals on beta, and the book has zero beta', () => {
    expect(
      Array.from(residualOn(f64([1, 2, 3, 4]), f64([2, 4, 6, 8]))).every((v) => Math.abs(v) < 1e-12),
    ).toBe(true);
    const r = residualOn(f64([1, 0, 0, 1]), f64([0, 1, 2, 3]));
    // slope 0, intercept 0.5: residuals (0.5, −0.5, −0.5, 0.5).
    expect(Array.from(r)).toEqual([0.5, -0.5, -0.5, 0.5]);
    const eq = equityUniverse({ assets: 40, days: 400, seed: 3 });
    const w = run(eq, 'multi-factor', { betaNeutral: true, rebalance: 21 });
    const t = 399; // the last rebalance: from bar 252 every 21 bars
    const b = betas(eq.close, t, 252);
    let bookBeta = 0;
    for (let a = 0; a < 40; a++) bookBeta += w[a][t] * b[a];
    expect(Math.abs(bookBeta)).toBeLessThan(1e-12);
    expect(w.some((c) => c[t] !== 0)).toBe(true);
  });

  it('factor timing switches off only losing factors and never all of them', () => {
    const eq = equityUniverse({ assets: 60, days: 800, seed: 5 });
    const single = { value: 0, quality: 0, lowVol: 0 };
    const a = run(eq, 'multi-factor', { ...single, timing: true });
    const b = run(eq, 'multi-factor', { ...single, timing: false });
    expect(a.map((c) => Array.from(c))).toEqual(b.map((c) => Array.from(c)));
    const timed = run(eq, 'multi-factor', { timing: true, timingLookback: 63 });
    const plain = run(eq, 'multi-factor', { timing: false });
    expect(timed.some((c, i) => c.some((v, t) => v !== plain[i][t]))).toBe(true);
  });

  it('runs through the engine with sizing (the engine holds each decision one period)', () => {
    const eq = equityUniverse({ assets: 30, days: 300, seed: 9 });
    const r = runBacktest(eq, {
      strategy: 'multi-factor',
      params: { betaWindow: 60 },
      sizing: 'inverse-vol',
    });
    expect(r.positions[0]).toHaveLength(299);
    expect(r.summary.trades).toBeGreaterThan(0);
  });

  it('names missing fundamentals and sectors', () => {
    expect(fieldError(() => run({ ...panel, aux: {} }, 'multi-factor', { ...valueOnly }))).toBe(
      'data.fields.bookToPrice',
    );
    const noSector = { ...panel, aux: { fields: panel.aux!.fields } };
    expect(fieldError(() => run(noSector, 'multi-factor', valueOnly))).toBe('data.labels.sector');
    expect(fieldError(() => parseStrategyParams('multi-factor', { quantile: 0.7 }))).toBe('param.quantile');
  });
});

describe('global-macro', () => {
  it('score / volatility, scaled to the gross', () => {
    const panel: Panel = {
      symbols: ['A', 'B'],
      dates: days(3),
      close: [f64([100, 101, 103]), f64([100, 99, 98])],
    };
    const w = run(panel, 'global-macro', {
      trendLookback: 2,
      momLookback: 2,
      volWindow: 2,
      rebalance: 1,
      maxWeight: 1,
    });
    // Scores: A trend +1, rank +1 → 1; B −1. σ = |r1 − r2| / √2 over the two returns.
    const sA = Math.abs(0.01 - 2 / 101) / Math.SQRT2;
    const sB = Math.abs(-0.01 - (98 / 99 - 1)) / Math.SQRT2;
    const g = 1 / sA + 1 / sB;
    expect(w[0][2]).toBeCloseTo(1 / sA / g, 12);
    expect(w[1][2]).toBeCloseTo(-1 / sB / g, 12);
    const capped = run(panel, 'global-macro', {
      trendLookback: 2,
      momLookback: 2,
      volWindow: 2,
      maxWeight: 0.4,
    });
    expect(capped[1][2]).toBe(-0.4);
    const longOnly = run(panel, 'global-macro', {
      trendLookback: 2,
      momLookback: 2,
      volWindow: 2,
      short: false,
    });
    expect([longOnly[0][2], longOnly[1][2]]).toEqual([0.4, 0]);
  });
});

describe('no look-ahead (closes and side data changed after t)', () => {
  /** Everything after bar t replaced: closes crash and wander, side data is scrambled. */
  function alterAfter(p: Panel, t: number): Panel {
    const u = mulberry32(1000 + t);
    const tail = (x: Float64Array, scale: number): Float64Array => {
      const y = Float64Array.from(x);
      for (let i = t + 1; i < y.length; i++) y[i] = Math.abs(y[i]) * scale * (0.5 + u());
      return y;
    };
    const aux = p.aux ?? {};
    return {
      ...p,
      close: p.close.map((c) => tail(c, 0.5)),
      aux: {
        ...aux,
        fields: aux.fields
          ? Object.fromEntries(Object.entries(aux.fields).map(([k, v]) => [k, v.map((c) => tail(c, 2))]))
          : undefined,
        rates: aux.rates
          ? Object.fromEntries(Object.entries(aux.rates).map(([k, v]) => [k, tail(v, 3)]))
          : undefined,
        curve: aux.curve
          ? { tenors: aux.curve.tenors, yields: aux.curve.yields.map((c) => tail(c, 3)) }
          : undefined,
      },
    };
  }
  const cases: [string, string, Record<string, number | boolean>][] = [
    ['fx-carry', 'synthetic:fx?days=300&seed=1', { topK: 2, rebalance: 5 }],
    ['commodity-carry', 'synthetic:commodities?days=300&seed=1', { topK: 2, rebalance: 5 }],
    ['bond-carry', 'synthetic:bonds?days=300&seed=1', { topK: 2, rebalance: 5, short: true }],
    [
      'multi-factor',
      'synthetic:equities?assets=30&days=300&seed=1',
      {
        momLookback: 60,
        momSkip: 5,
        betaWindow: 40,
        betaNeutral: true,
        timing: true,
        timingLookback: 60,
        rebalance: 5,
      },
    ],
    ['dual-momentum', 'synthetic:macro?days=300&seed=1', { lookback: 40, topK: 2, rebalance: 5 }],
    [
      'global-macro',
      'synthetic:macro?days=300&seed=1',
      { trendLookback: 60, momLookback: 30, volWindow: 20, rebalance: 5 },
    ],
  ];
  it.each(cases)('%s (with vol-target sizing)', (strategy, source, params) => {
    const base = loadSynthetic(source);
    const full = runBacktest(base, { strategy, params, sizing: 'vol-target:target=0.1,window=20' });
    expect(full.positions.some((c) => c.some((x) => x !== 0))).toBe(true);
    for (const t of [80, 150, 250]) {
      const res = runBacktest(alterAfter(base, t), {
        strategy,
        params,
        sizing: 'vol-target:target=0.1,window=20',
      });
      for (let a = 0; a < base.symbols.length; a++) {
        expect(Array.from(res.positions[a].subarray(0, t + 1))).toEqual(
          Array.from(full.positions[a].subarray(0, t + 1)),
        );
      }
    }
  });
});
