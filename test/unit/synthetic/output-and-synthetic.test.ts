import { describe, expect, it } from 'vitest';
import { formatCsv, formatTable, jsonReplacer } from '../../../src/cli/output';
import { cholesky, mulberry32, weekdays } from '../../../src/synthetic/random';
import { macroUniverse, MACRO_ASSETS } from '../../../src/synthetic/macro-universe';

describe('output formatting', () => {
  it('aligns tables, right-aligning numeric columns', () => {
    expect(
      formatTable([
        { s: 'SPY', n: 5 },
        { s: 'EFA', n: 120 },
      ]),
    ).toBe('s      n\n---  ---\nSPY    5\nEFA  120');
  });
  it('quotes CSV fields that need it', () => {
    expect(formatCsv([{ a: 'x,y', b: 'say "hi"', c: 1.5 }])).toBe('a,b,c\n"x,y","say ""hi""",1.5');
  });
  it('keeps bigints exact in JSON', () => {
    expect(JSON.stringify({ a: 5n, b: 2n ** 60n }, jsonReplacer)).toBe('{"a":5,"b":"1152921504606846976"}');
  });
});

describe('synthetic data', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
  });

  it('factors a positive-definite matrix and rejects one that is not', () => {
    const l = cholesky([
      [4, 2],
      [2, 3],
    ]);
    expect(l).toEqual([
      [2, 0],
      [1, Math.sqrt(2)],
    ]);
    expect(() =>
      cholesky([
        [1, 2],
        [2, 1],
      ]),
    ).toThrow('not positive definite');
  });

  it('skips weekends', () => {
    const days = weekdays('2024-01-05', 3).map((t) => new Date(t).toISOString().slice(0, 10));
    expect(days).toEqual(['2024-01-05', '2024-01-08', '2024-01-09']);
  });

  it('builds a consistent, correlated macro universe', () => {
    const u = macroUniverse({ days: 1000 });
    expect(u.ts.length).toBe(1000 * MACRO_ASSETS.length);
    expect(macroUniverse({ days: 1000 }).close).toEqual(u.close);
    const inconsistent = u.ts.filter(
      (_, i) =>
        u.high[i] < Math.max(u.open[i], u.close[i]) ||
        u.low[i] > Math.min(u.open[i], u.close[i]) ||
        u.low[i] <= 0,
    );
    expect(inconsistent).toEqual([]);
    const returns = (sym: string): number[] => {
      const c = u.close.filter((_, i) => u.symbol[i] === sym);
      return c.slice(1).map((x, i) => Math.log(x / c[i]));
    };
    const corr = (x: number[], y: number[]): number => {
      const mx = x.reduce((s, v) => s + v, 0) / x.length;
      const my = y.reduce((s, v) => s + v, 0) / y.length;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      x.forEach((v, i) => {
        sxy += (v - mx) * (y[i] - my);
        sxx += (v - mx) ** 2;
        syy += (y[i] - my) ** 2;
      });
      return sxy / Math.sqrt(sxx * syy);
    };
    expect(corr(returns('SPY'), returns('EFA'))).toBeGreaterThan(0.6);
    expect(corr(returns('UUP'), returns('FXE'))).toBeLessThan(-0.6);
    expect(Math.abs(corr(returns('SPY'), returns('GLD')))).toBeLessThan(0.4);
  });
});
