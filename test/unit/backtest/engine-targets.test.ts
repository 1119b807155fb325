/** runPortfolio's check of the strategy's targets (made symbol by symbol, reported bar first). */
import { describe, expect, it } from 'vitest';
import { runPortfolio } from '../../../src/backtest/engine';
import type { Panel } from '../../../src/backtest/types';

const n = 10;
const panel: Panel = {
  symbols: ['AAA', 'BBB'],
  dates: Array.from({ length: n }, (_, t) => `2024-01-${String(t + 1).padStart(2, '0')}`),
  close: [
    Float64Array.from({ length: n }, (_, t) => 100 + t),
    Float64Array.from({ length: n }, (_, t) => 50 - t),
  ],
};
const targets = (bad: [number, number][]): Float64Array[] => {
  const w = [new Float64Array(n).fill(0.5), new Float64Array(n).fill(0.5)];
  for (const [a, t] of bad) w[a][t] = NaN;
  return w;
};
const run = (w: Float64Array[]) =>
  runPortfolio(panel, w, { strategy: 'test', params: {}, costBps: 0, periodsPerYear: 252 });

describe('runPortfolio', () => {
  it('names the first bar with a non-finite target, and at that bar the first symbol', () => {
    expect(() =>
      run(
        targets([
          [0, 7],
          [1, 5],
        ]),
      ),
    ).toThrow('strategy test produced a non-finite position for BBB at bar 5');
    expect(() =>
      run(
        targets([
          [1, 3],
          [0, 3],
        ]),
      ),
    ).toThrow('strategy test produced a non-finite position for AAA at bar 3');
  });

  it('holds constant targets: one trade per symbol at the first bar', () => {
    const r = run(targets([]));
    expect(r.ledger.map((e) => [e.bar, e.symbol])).toEqual([
      [0, 'AAA'],
      [0, 'BBB'],
    ]);
  });
});
