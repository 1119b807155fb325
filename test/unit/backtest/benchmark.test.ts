/** Benchmark statistics, rolling statistics, buy-and-hold and exposure by group, against hand-computed values. */
import { describe, expect, it } from 'vitest';
import {
  alignBenchmark,
  benchmarkStats,
  buyAndHoldReturns,
  priceReturns,
  rollingStats,
} from '../../../src/backtest/benchmark';
import { exposureByGroup, UNCLASSIFIED } from '../../../src/backtest/exposure';
import { ReferenceIndex } from '../../../src/backtest/point-in-time';
import { InputError } from '../../../src/errors';

describe('benchmarkStats', () => {
  // r = [2%, -1%, 3%, 0%], b = [1%, -2%, 2%, 1%]: mean r 0.01, mean b 0.005;
  // deviations r [.01, -.02, .02, -.01], b [.005, -.025, .015, .005];
  // sum dr*db = .00005 + .0005 + .0003 - .00005 = .0008, sum db^2 = .0009, sum dr^2 = .001.
  const r = [0.02, -0.01, 0.03, 0];
  const b = [0.01, -0.02, 0.02, 0.01];
  const s = benchmarkStats(r, b, 252, 'SPY');

  it('beta is cov / var of the benchmark: .0008 / .0009 = 8/9', () => {
    expect(s.beta).toBeCloseTo(8 / 9, 14);
  });

  it("alpha is Jensen's, annualised: (0.01 - 8/9 x 0.005) x 252 = 1.4", () => {
    expect(s.alpha).toBeCloseTo(1.4, 12);
  });

  it('tracking error and information ratio from the active returns [.01, .01, .01, -.01]', () => {
    // mean .005, sample variance (3 x .005^2 + .015^2) / 3 = .0001: stdev .01.
    expect(s.trackingError).toBeCloseTo(0.01 * Math.sqrt(252), 12);
    expect(s.informationRatio).toBeCloseTo((0.005 * 252) / (0.01 * Math.sqrt(252)), 10);
    expect(s.informationRatio).toBeCloseTo(0.5 * Math.sqrt(252), 10);
  });

  it('excess return of the compounded totals, and the correlation', () => {
    expect(s.totalReturn).toBeCloseTo(1.02 * 0.99 * 1.03 - 1, 14); // 0.040094
    expect(s.benchmarkTotalReturn).toBeCloseTo(1.01 * 0.98 * 1.02 * 1.01 - 1, 14); // 0.01969196
    expect(s.excessReturn).toBeCloseTo(0.040094 - 0.01969196, 12);
    expect(s.correlation).toBeCloseTo(0.0008 / Math.sqrt(0.0009 * 0.001), 12);
    expect(s.name).toBe('SPY');
  });

  it('a strategy that is its benchmark: beta 1, no alpha, no active risk (ratios 0, not NaN)', () => {
    const same = benchmarkStats(r, r, 252);
    expect(same.beta).toBeCloseTo(1, 14);
    expect(same.alpha).toBeCloseTo(0, 14);
    expect(same.trackingError).toBe(0);
    expect(same.informationRatio).toBe(0);
    expect(same.excessReturn).toBe(0);
  });

  it('a flat benchmark: beta and correlation 0, alpha is the mean return annualised', () => {
    const flat = benchmarkStats(r, [0, 0, 0, 0], 12);
    expect(flat.beta).toBe(0);
    expect(flat.correlation).toBe(0);
    expect(flat.alpha).toBeCloseTo(0.01 * 12, 14);
  });

  it('refuses series of different lengths', () => {
    expect(() => benchmarkStats([0.1], [0.1, 0.2], 252)).toThrow(RangeError);
  });
});

describe('rollingStats', () => {
  it('Sharpe and volatility over each full window, NaN before', () => {
    // Window 2, 4 periods a year (sqrt 2): [.01, .03] mean .02 stdev sqrt(.0002);
    // [.03, -.01] mean .01 stdev sqrt(.0008); [-.01, .02] mean .005 stdev sqrt(.00045).
    const s = rollingStats([0.01, 0.03, -0.01, 0.02], 2, 4);
    expect(Number.isNaN(s.sharpe[0])).toBe(true);
    expect(Number.isNaN(s.volatility[0])).toBe(true);
    expect(s.volatility[1]).toBeCloseTo(Math.sqrt(0.0002) * 2, 14);
    expect(s.sharpe[1]).toBeCloseTo((0.02 / Math.sqrt(0.0002)) * 2, 12); // 2.828427
    expect(s.volatility[2]).toBeCloseTo(Math.sqrt(0.0008) * 2, 14);
    expect(s.sharpe[2]).toBeCloseTo((0.01 / Math.sqrt(0.0008)) * 2, 12); // 0.707107
    expect(s.sharpe[3]).toBeCloseTo((0.005 / Math.sqrt(0.00045)) * 2, 12); // 0.471405
    expect(s.window).toBe(2);
  });

  it('a window without variance has Sharpe 0 and volatility 0', () => {
    const s = rollingStats([0.01, 0.01, 0.01], 3, 252);
    expect(s.sharpe[2]).toBe(0);
    expect(s.volatility[2]).toBe(0);
  });

  it('refuses a window below 2', () => {
    expect(() => rollingStats([0.1, 0.2], 1, 252)).toThrow(RangeError);
  });
});

describe('buy-and-hold and alignment', () => {
  it('equal weights at the first bar, never rebalanced', () => {
    // A 100 -> 110 -> 121, B 50 -> 50 -> 25: value 1, (1.1 + 1) / 2 = 1.05, (1.21 + 0.5) / 2 = 0.855.
    const r = buyAndHoldReturns({
      symbols: ['A', 'B'],
      dates: ['d0', 'd1', 'd2'],
      close: [Float64Array.from([100, 110, 121]), Float64Array.from([50, 50, 25])],
    });
    expect(r).toHaveLength(2);
    expect(r[0]).toBeCloseTo(0.05, 14);
    expect(r[1]).toBeCloseTo(0.855 / 1.05 - 1, 14);
  });

  it('a missing later price keeps the last one', () => {
    const r = buyAndHoldReturns({
      symbols: ['A', 'B'],
      dates: ['d0', 'd1', 'd2'],
      close: [Float64Array.from([100, 120, 120]), Float64Array.from([10, NaN, 10])],
    });
    expect(r[0]).toBeCloseTo((1.2 + 1) / 2 - 1, 14);
    expect(r[1]).toBeCloseTo(0, 14);
  });

  it('priceReturns of one series', () => {
    const r = priceReturns([100, 110, 99]);
    expect(r[0]).toBeCloseTo(0.1, 14);
    expect(r[1]).toBeCloseTo(-0.1, 14);
  });

  it("the benchmark's last close on or before each date; a late start names the field", () => {
    const bench = { dates: ['2020-01-01', '2020-01-03'], close: Float64Array.from([10, 12]) };
    expect([...alignBenchmark(bench, ['2020-01-01', '2020-01-02', '2020-01-03'], '--benchmark')]).toEqual([
      10, 10, 12,
    ]);
    expect(() => alignBenchmark(bench, ['2019-12-31', '2020-01-02'], '--benchmark')).toThrow(InputError);
    expect(() => alignBenchmark(bench, ['2019-12-31'], '--benchmark')).toThrow(
      /^--benchmark: the benchmark starts on 2020-01-01/,
    );
  });
});

describe('exposureByGroup', () => {
  it('sums signed and absolute weights by the group in force on each date', () => {
    const reference = new ReferenceIndex([
      { symbol: 'A', from: '2020-01-01', region: 'US', assetClass: 'equity' },
      { symbol: 'B', from: '2020-01-02', region: 'EU', assetClass: 'equity' },
    ]);
    const positions = [Float64Array.from([0.5, 0.5, -0.2]), Float64Array.from([0.3, 0, 0.4])];
    const dates = ['2020-01-01', '2020-01-02', '2020-01-03', '2020-01-06'];
    const e = exposureByGroup(positions, ['A', 'B'], dates, reference, 'region');
    // Gross totals: US 0.5 + 0.5 + 0.2 = 1.2, EU 0.4, unclassified (B before its record) 0.3.
    expect(e.groups).toEqual(['US', 'EU', UNCLASSIFIED]);
    expect([...e.net[0]]).toEqual([0.5, 0.5, -0.2]);
    expect([...e.gross[0]]).toEqual([0.5, 0.5, 0.2]);
    expect([...e.net[1]]).toEqual([0, 0, 0.4]);
    expect([...e.net[2]]).toEqual([0.3, 0, 0]);
    const byClass = exposureByGroup(positions, ['A', 'B'], dates, reference, 'assetClass');
    expect(byClass.groups).toEqual(['equity', UNCLASSIFIED]);
    expect(byClass.net[0][2]).toBeCloseTo(0.2, 14);
  });
});
