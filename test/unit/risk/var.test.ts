import { describe, expect, it } from 'vitest';
import { checkOrder } from '../../../src/risk/engine';
import {
  ReturnsWindow,
  Z99,
  historicalVar,
  lowQuantile,
  lowQuantileShifted,
  parametricVar,
  quantileInPlace,
} from '../../../src/risk/var';

const X = [-0.1, -0.05, 0, 0.02, 0.03];

describe('VaR', () => {
  it('quantile interpolates like numpy (type 7)', () => {
    // h = (5 − 1) × 0.25 = 1 → the second smallest
    expect(quantileInPlace(Float64Array.from([3, 1, 2, 5, 4]), 0.25)).toBe(2);
    // h = 4 × 0.1 = 0.4 → 1 + 0.4 × (2 − 1)
    expect(quantileInPlace(Float64Array.from([5, 4, 3, 2, 1]), 0.1)).toBeCloseTo(1.4, 12);
  });

  it('historical: the 1% quantile of scenario P&L, as a positive loss', () => {
    const w = new ReturnsWindow({ X });
    // pnl = 1,000 × r = [−100, −50, 0, 20, 30]; h = 0.04 → −100 + 0.04 × 50 = −98
    expect(historicalVar(w, new Map([['X', 1000]]))).toBeCloseTo(98, 9);
    // short 1,000: pnl = [100, 50, 0, −20, −30]; h = 0.04 → −30 + 0.04 × 10 = −29.6
    expect(historicalVar(w, new Map([['X', -1000]]))).toBeCloseTo(29.6, 9);
  });

  it('parametric: z × σ of P&L (zero mean, sample variance)', () => {
    const w = new ReturnsWindow({ A: [0.01, -0.01, 0.02, -0.02], B: [-0.01, 0.01, -0.02, 0.02] });
    // var(A) = (1 + 1 + 4 + 4)e−4 / 3
    expect(parametricVar(w, new Map([['A', 1000]]))).toBeCloseTo(Z99 * 1000 * Math.sqrt(0.001 / 3), 9);
    // B = −A: equal long exposures cancel
    expect(
      parametricVar(
        w,
        new Map([
          ['A', 1000],
          ['B', 1000],
        ]),
      ),
    ).toBeCloseTo(0, 9);
    expect(w.corr('A', 'B')).toBeCloseTo(-1, 12);
  });

  it('rejects misaligned or non-finite series', () => {
    expect(() => new ReturnsWindow({ A: [0.1, 0.2], B: [0.1] })).toThrow(/returns.B/);
    expect(() => new ReturnsWindow({ A: [0.1, Number.NaN] })).toThrow(/returns.A\[1\]/);
  });
});

describe('fast paths of the pre-trade VaR check', () => {
  const base = Float64Array.from({ length: 250 }, (_, t) => Math.sin(t * 1.7) * 1000 - (t % 11) * 30);
  const r = Float64Array.from({ length: 250 }, (_, t) => Math.cos(t * 0.9) * 0.02);

  it('lowQuantileShifted is lowQuantile of base + delta × r, with the small buffer and without', () => {
    for (const delta of [0, 1e4, -3.5e4]) {
      for (const q of [0.01, 0.05, 0.5]) {
        const want = quantileInPlace(
          Float64Array.from(base, (b, t) => b + delta * r[t]),
          q,
        );
        const buf = new Float64Array(32); // q = 0.5 needs more than 32: the sorting fallback
        expect(lowQuantileShifted(base, r, delta, q, buf)).toBe(want);
        expect(lowQuantile(base.length, q, (t) => base[t] + delta * r[t], buf)).toBe(want);
      }
    }
  });

  it('ReturnsWindow.fromViews gives the covariances of the checking constructor', () => {
    const series = { A: r, B: Float64Array.from(r, (x, t) => x * 0.5 + 0.001 * (t % 3)) };
    const checked = new ReturnsWindow(series);
    const means = new Map(
      Object.entries(series).map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length]),
    );
    const views = ReturnsWindow.fromViews(new Map(Object.entries(series)), means);
    expect(views.length).toBe(250);
    expect(views.get('A')).toBe(r); // adopted, not copied
    for (const [a, b] of [
      ['A', 'A'],
      ['A', 'B'],
      ['B', 'B'],
    ])
      expect(views.cov(a, b)).toBe(checked.cov(a, b));
  });
});

describe('risk rules that use a returns window', () => {
  it('varBudget (historical): VaR after the order / nav', () => {
    const w = new ReturnsWindow({ X });
    const c = { securities: { X: {} }, limits: { varBudget: 0.01 } };
    const p = { nav: 10_000, state: 'ACTIVE' as const, positions: [] };
    // 10 × 100 = 1,000 → VaR 98 → 0.0098; 11 → 107.8 → 0.01078
    expect(checkOrder(c, p, { symbol: 'X', side: 'buy', qty: 10, price: 100 }, {}, w).decision).toBe(
      'approve',
    );
    const r = checkOrder(c, p, { symbol: 'X', side: 'buy', qty: 20, price: 100 }, { resize: true }, w);
    expect(r.decision).toBe('resize');
    expect(r.approvedQty).toBe(10);
    expect(r.breaches[0].rule).toBe('varBudget');
    expect(r.breaches[0].value).toBeCloseTo(0.0196, 12); // 2,000 × 0.098 / 10,000
  });

  it('varBudget (parametric) uses the incremental formula against the held book', () => {
    const w = new ReturnsWindow({ A: [0.01, -0.01, 0.02, -0.02], B: [-0.01, 0.01, -0.02, 0.02] });
    const c = {
      securities: { A: {}, B: {} },
      limits: { varBudget: 0.001, varMethod: 'parametric' as const },
    };
    // holding A 100 × 100 = 10,000: VaR = Z99 × 10,000 × σ ≈ 424.7 → 0.0042 of nav > 0.001 already;
    // a hedge in B shrinks it and passes, more A grows it and fails
    const p = { nav: 100_000, state: 'ACTIVE' as const, positions: [{ symbol: 'A', qty: 100, price: 100 }] };
    expect(checkOrder(c, p, { symbol: 'B', side: 'buy', qty: 50, price: 100 }, {}, w).decision).toBe(
      'approve',
    );
    const grow = checkOrder(c, p, { symbol: 'A', side: 'buy', qty: 1, price: 100 }, {}, w);
    expect(grow.breaches[0].rule).toBe('varBudget');
    expect(grow.breaches[0].value).toBeCloseTo((Z99 * 10_100 * Math.sqrt(0.001 / 3)) / 100_000, 9);
  });

  it('correlationConcentration: Σ|exposure| of correlated holdings / nav', () => {
    const w = new ReturnsWindow({ A: X, B: X.map((r) => 2 * r), C: X.map((r) => -r) });
    const c = { securities: { A: {}, B: {}, C: {} }, limits: { maxCorrelatedExposure: 0.3 } };
    const p = {
      nav: 100_000,
      state: 'ACTIVE' as const,
      positions: [
        { symbol: 'B', qty: 200, price: 100 }, // 20,000, corr(A, B) = 1
        { symbol: 'C', qty: 500, price: 100 }, // corr(A, C) = −1: not counted
      ],
    };
    // (20,000 + 100 × 100) / 100,000 = 0.3 passes; 101 → 0.301
    expect(checkOrder(c, p, { symbol: 'A', side: 'buy', qty: 100, price: 100 }, {}, w).decision).toBe(
      'approve',
    );
    expect(checkOrder(c, p, { symbol: 'A', side: 'buy', qty: 101, price: 100 }, {}, w).breaches).toEqual([
      { rule: 'correlationConcentration', limit: 0.3, value: 0.301 },
    ]);
  });
});

describe('lowQuantile', () => {
  it('equals the sorted quantile for small q, and falls back to sorting for large q', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
    const v = Float64Array.from({ length: 250 }, rnd);
    for (const q of [0.01, 0.05, 0.5]) {
      const expected = quantileInPlace(Float64Array.from(v), q);
      expect(lowQuantile(v.length, q, (t) => v[t], new Float64Array(32))).toBe(expected);
    }
  });
});
