import { describe, expect, it } from 'vitest';
import { algoSpecSchema, curveLookback, planChildren, vwapCurveForWindow } from '../../../src/trading/algos';
import { decideQuote } from '../../../src/trading/quotes';

const T0 = Date.UTC(2026, 10, 20, 14, 30);
const MIN = 60_000;

describe('decideQuote (a child is priced fresh or rejected)', () => {
  const q = { price: 101.5, priceTime: T0, source: '1m bar' };
  it('takes a quote within the tighter of the source bound and maxReferenceAgeMs', () => {
    expect(decideQuote('AAPL', { quote: q }, T0 + 60_000, 300_000)).toEqual({ quote: q });
    expect(decideQuote('AAPL', { quote: q }, T0 + 60_000, 300_000, 30_000)).toMatchObject({
      breach: { rule: 'staleReferencePrice', limit: 30_000, value: 60_000 },
    });
    expect(decideQuote('AAPL', { quote: q }, T0 + 300_001, 300_000)).toMatchObject({
      breach: { rule: 'staleReferencePrice', limit: 300_000, value: 300_001 },
      reason: expect.stringMatching(
        /^quote for AAPL is 300001 ms old \(1m bar at 2026-11-20T14:30:00\.000Z\)/,
      ),
    });
  });
  it('no quote: rejected with the source problem (value -1)', () => {
    expect(decideQuote('AAPL', { problem: 'no bars' }, T0, 1000)).toEqual({
      breach: { rule: 'staleReferencePrice', limit: 1000, value: -1 },
      reason: 'no quote for AAPL: no bars',
    });
  });
});

describe('VWAP curve from past 1-minute bars', () => {
  // Two past days; bars labelled by close time: the 14:31 bar is the 14:30 minute.
  const bars = [1, 2].flatMap((d) => [
    { time: T0 - d * 86_400_000 + MIN, volume: 10 * d },
    { time: T0 - d * 86_400_000 + 2 * MIN, volume: 30 },
    { time: T0 - d * 86_400_000 + 3 * MIN, volume: NaN }, // no volume: not used
  ]);
  it('averages each minute of the day and lays it on the window', () => {
    expect(vwapCurveForWindow(bars, T0, T0 + 10 * MIN)).toEqual([
      { time: T0, volume: 15 },
      { time: T0 + MIN, volume: 30 },
    ]);
    // only minutes inside [start, end)
    expect(vwapCurveForWindow(bars, T0 + MIN, T0 + 2 * MIN)).toEqual([{ time: T0 + MIN, volume: 30 }]);
    expect(vwapCurveForWindow(bars, T0 + 5 * MIN, T0 + 9 * MIN)).toEqual([]);
  });
  it('merges consecutive minutes into at most maxBuckets buckets', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      time: T0 - 86_400_000 + (i + 1) * MIN,
      volume: i + 1,
    }));
    expect(vwapCurveForWindow(many, T0, T0 + 10 * MIN, 4)).toEqual([
      { time: T0, volume: 6 },
      { time: T0 + 3 * MIN, volume: 15 },
      { time: T0 + 6 * MIN, volume: 24 },
      { time: T0 + 9 * MIN, volume: 10 },
    ]);
  });
  it('the lookback is whole days before the schedule day; a VWAP spec without a curve needs one', () => {
    expect(curveLookback(T0, 2)).toEqual({ from: Date.UTC(2026, 10, 18), to: Date.UTC(2026, 10, 20) - 1 });
    const spec = algoSpecSchema.parse({ algo: 'vwap', durationSec: 120, lookbackDays: 5 });
    expect(() => planChildren(10, spec, T0)).toThrow(/algo\.volumeCurve: none given/);
    expect(
      planChildren(10, spec, T0, [
        { time: T0, volume: 1 },
        { time: T0 + MIN, volume: 4 },
      ]).children,
    ).toEqual([
      { time: T0, qty: 2 },
      { time: T0 + MIN, qty: 8 },
    ]);
    expect(() => algoSpecSchema.parse({ algo: 'vwap', durationSec: 60, lookbackDays: 0 })).toThrow(
      /days, 1 to 250/,
    );
  });
});
