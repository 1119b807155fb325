import { describe, expect, it } from 'vitest';
import {
  SimulatedClock,
  apportion,
  povSchedule,
  runSchedule,
  twapSchedule,
  volumeCurveFromBars,
  vwapSchedule,
} from '../../../src/trading/algos';

const T0 = Date.UTC(2026, 10, 20, 14, 30);

describe('execution algorithms', () => {
  it('apportion: whole shares, exact total, largest remainders first', () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]); // 3.33 each: the first gets the extra
    expect(apportion(100, [1, 2, 7])).toEqual([10, 20, 70]);
    expect(apportion(5, [0.5, 0.3, 0.2])).toEqual([3, 1, 1]); // 2.5, 1.5, 1.0 → 2+1+1, +1 to the first
    expect(() => apportion(5, [0, 0])).toThrow(/positive weight/);
  });

  it('TWAP: 1,000 over 60 minutes in 4 slices = 250 every 15 minutes', () => {
    expect(twapSchedule(1000, T0, T0 + 3_600_000, 4)).toEqual([
      { time: T0, qty: 250 },
      { time: T0 + 900_000, qty: 250 },
      { time: T0 + 1_800_000, qty: 250 },
      { time: T0 + 2_700_000, qty: 250 },
    ]);
    expect(twapSchedule(3, T0, T0 + 4000, 4).map((c) => c.qty)).toEqual([1, 1, 1]); // empty slice dropped
    expect(() => twapSchedule(-1, T0, T0 + 1, 1)).toThrow(/qty/);
    expect(() => twapSchedule(1, T0, T0, 1)).toThrow(/end/);
  });

  it('VWAP: proportional to the volume curve', () => {
    const curve = [
      { time: T0, volume: 500 },
      { time: T0 + 60_000, volume: 300 },
      { time: T0 + 120_000, volume: 200 },
    ];
    expect(vwapSchedule(1000, curve).map((c) => c.qty)).toEqual([500, 300, 200]);
    expect(vwapSchedule(7, curve).map((c) => c.qty)).toEqual([4, 2, 1]); // 3.5, 2.1, 1.4 → 3,2,1 + 1 to the first
  });

  it('POV: at most rate × market volume per bucket; leftovers reported', () => {
    const vols = [1000, 50, 2000, 10_000].map((v, i) => ({ time: T0 + i * 60_000, volume: v }));
    // 10%: 100, 5, 200 → then 95 left of 400 in the last bucket
    expect(povSchedule(400, 0.1, vols)).toEqual({
      children: [
        { time: T0, qty: 100 },
        { time: T0 + 60_000, qty: 5 },
        { time: T0 + 120_000, qty: 200 },
        { time: T0 + 180_000, qty: 95 },
      ],
      remaining: 0,
    });
    expect(povSchedule(10_000, 0.1, vols).remaining).toBe(10_000 - 100 - 5 - 200 - 1000);
    expect(() => povSchedule(1, 1.5, vols)).toThrow(/rate/);
  });

  it('volume curve: mean volume per minute of day across days', () => {
    const day = Date.UTC(2026, 10, 20);
    const d1 = Date.UTC(2026, 10, 18);
    const d2 = Date.UTC(2026, 10, 19);
    const bars = [
      { time: d1 + 870 * 60_000, volume: 100 },
      { time: d2 + 870 * 60_000, volume: 300 },
      { time: d1 + 871 * 60_000, volume: 50 },
    ];
    expect(volumeCurveFromBars(bars, day)).toEqual([
      { time: day + 870 * 60_000, volume: 200 },
      { time: day + 871 * 60_000, volume: 50 },
    ]);
  });

  it('runs a schedule on a simulated clock in time order', async () => {
    const clock = new SimulatedClock(T0 - 1);
    const seen: [number, number][] = [];
    await runSchedule(twapSchedule(10, T0, T0 + 20_000, 2).reverse(), clock, async (c) => {
      seen.push([clock.now(), c.qty]);
    });
    expect(seen).toEqual([
      [T0, 5],
      [T0 + 10_000, 5],
    ]);
    expect(() => clock.advanceTo(T0)).toThrow(/cannot go back/);
  });
});
