import { describe, expect, it } from 'vitest';
import { monthlyReturns, renderReport, runBacktest } from '../../../src/backtest';
import { days, gbm } from './fixtures';

describe('HTML report', () => {
  const n = 400;
  const res = runBacktest(
    { symbols: ['<A&B>', 'C"D'], dates: days(n), close: [gbm(n, 1), gbm(n, 2)] },
    { strategy: 'xs-momentum', params: { lookback: 20, topK: 1, rebalance: 10 }, costBps: 3 },
  );

  it('monthly returns compound the period returns by the month each period ends in', () => {
    const m = monthlyReturns(res);
    let jan = 1;
    res.returns.forEach((r, t) => {
      if (res.dates[t + 1].startsWith('2020-01')) jan *= 1 + r;
    });
    expect(m.get('2020-01')).toBeCloseTo(jan - 1, 14);
    const all = [...m.values()].reduce((e, r) => e * (1 + r), 1);
    expect(all - 1).toBeCloseTo(res.summary.totalReturn, 12);
    expect([...m.keys()][0]).toBe('2020-01');
  });

  it('escapes names, lists every round trip and draws both curves', () => {
    const html = renderReport(res);
    expect(html).not.toContain('<A&B>');
    expect(html).toContain('&lt;A&amp;B&gt;');
    expect(html).toContain('C&quot;D');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain(`Trades (${res.roundTrips.length})`);
    expect((html.match(/<tr><td>(&lt;A&amp;B&gt;|C&quot;D)<\/td><td>(long|short)</g) ?? []).length).toBe(
      res.roundTrips.length,
    );
    const capped = renderReport(res, { maxTrades: 2 });
    expect(capped).toContain(`${res.roundTrips.length - 2} more trades not shown`);
  });

  it('keeps long series small: at most ~1,200 plotted points per curve', () => {
    const long = runBacktest(
      {
        symbol: 'L',
        dates: Array.from({ length: 20_000 }, (_, i) => String(100_000 + i)),
        close: gbm(20_000, 3),
      },
      { strategy: 'sma-cross', params: { fast: 5, slow: 20 } },
    );
    const html = renderReport(long, { maxTrades: 10 });
    const points = [...html.matchAll(/<polyline points="([^"]+)"/g)].map((m) => m[1].split(' ').length);
    expect(points).toHaveLength(2);
    for (const p of points) expect(p).toBeLessThanOrEqual(1201);
  });
});
