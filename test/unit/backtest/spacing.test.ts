import { describe, expect, it } from 'vitest';
import { detectBarSpacing } from '../../../src/backtest/spacing';

/** Dates every `stepMs` from 2020-01-06 (a Monday), skipping weekends when `weekdays`. */
function series(n: number, stepMs: number, weekdays = false): string[] {
  const out: string[] = [];
  let t = Date.parse('2020-01-06T14:30:00Z');
  while (out.length < n) {
    const d = new Date(t).getUTCDay();
    if (!weekdays || (d !== 0 && d !== 6)) out.push(new Date(t).toISOString());
    t += stepMs;
  }
  return out;
}
const DAY = 86_400_000;

describe('detectBarSpacing', () => {
  it('finds business-daily bars (weekends and holidays are regular gaps)', () => {
    const s = detectBarSpacing(series(500, DAY, true));
    expect(s).toMatchObject({ kind: 'daily', periodsPerYear: 252 });
    expect(s.regularity).toBe(1);
  });

  it('finds weekly, monthly, quarterly and yearly bars', () => {
    expect(detectBarSpacing(series(100, 7 * DAY)).periodsPerYear).toBe(52);
    const months = Array.from(
      { length: 60 },
      (_, i) => `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`,
    );
    expect(detectBarSpacing(months)).toMatchObject({ kind: 'monthly', periodsPerYear: 12, regularity: 1 });
    const quarters = months.filter((_, i) => i % 3 === 0);
    expect(detectBarSpacing(quarters).periodsPerYear).toBe(4);
    const years = Array.from({ length: 10 }, (_, i) => `${2000 + i}-12-31`);
    expect(detectBarSpacing(years).periodsPerYear).toBe(1);
  });

  it('finds intraday bars by their minutes, ignoring overnight gaps', () => {
    const day1 = series(78, 5 * 60_000);
    const day2 = series(78, 5 * 60_000).map((d) => new Date(Date.parse(d) + DAY).toISOString());
    const s = detectBarSpacing([...day1, ...day2]);
    expect(s).toMatchObject({ kind: 'intraday', minutes: 5, periodsPerYear: Math.round((252 * 390) / 5) });
    expect(s.regularity).toBe(1);
    expect(detectBarSpacing(series(100, 60_000)).periodsPerYear).toBe(252 * 390);
  });

  it('reports how irregular a series is', () => {
    const dates = series(40, DAY, true);
    // Every other gap becomes a month: half the gaps do not fit daily spacing.
    const irregular = dates.map((d, i) =>
      new Date(Date.parse(d) + Math.floor(i / 2) * 30 * DAY).toISOString(),
    );
    const s = detectBarSpacing(irregular);
    expect(s.regularity).toBeLessThan(0.8);
  });
});
