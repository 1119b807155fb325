/**
 * The backtest report's benchmark, rolling and exposure sections and the risk engine's table: their
 * numbers are in the HTML, and nothing is fetched from anywhere.
 */
import { describe, expect, it } from 'vitest';
import { renderReport, runBacktest } from '../../../src/backtest';
import { benchmarkStats, buyAndHoldReturns, rollingStats } from '../../../src/backtest/benchmark';
import { exposureByGroup } from '../../../src/backtest/exposure';
import { ReferenceIndex } from '../../../src/backtest/point-in-time';
import { days, gbm } from './fixtures';
import { ANY_URL, FETCHES } from '../../helpers/offline-html';

describe('backtest report extras', () => {
  const n = 300;
  const panel = { symbols: ['AAA', 'BBB'], dates: days(n), close: [gbm(n, 11), gbm(n, 12)] };
  const res = runBacktest(panel, {
    strategy: 'xs-momentum',
    params: { lookback: 20, topK: 1, rebalance: 10 },
  });
  const bReturns = buyAndHoldReturns(panel);
  const stats = benchmarkStats(res.returns, bReturns, res.periodsPerYear, 'buy-and-hold');
  const rolling = rollingStats(res.returns, 63, res.periodsPerYear);
  const reference = new ReferenceIndex([
    { symbol: 'AAA', from: '2000-01-01', region: 'US', assetClass: 'equity' },
    { symbol: 'BBB', from: '2000-01-01', region: 'Europe', assetClass: 'fixed income' },
  ]);
  const exposure = {
    region: exposureByGroup(res.positions, res.symbols, res.dates, reference, 'region'),
    assetClass: exposureByGroup(res.positions, res.symbols, res.dates, reference, 'assetClass'),
  };
  const html = renderReport(res, { benchmark: { stats, returns: bReturns }, rolling, exposure });

  it('shows the benchmark statistics as computed', () => {
    expect(html).toContain('Against the benchmark: buy-and-hold');
    expect(html).toContain(`<b>Beta</b>${stats.beta.toFixed(2)}`);
    expect(html).toContain(`<b>Alpha (annualised)</b>${(stats.alpha * 100).toFixed(2)}%`);
    expect(html).toContain(`<b>Information ratio</b>${stats.informationRatio.toFixed(2)}`);
    expect(html).toContain(`<b>Tracking error</b>${(stats.trackingError * 100).toFixed(2)}%`);
    expect(html).toContain(`<b>Excess return</b>${(stats.excessReturn * 100).toFixed(2)}%`);
    expect(html).toContain('benchmark: buy-and-hold'); // the equity chart's legend
  });

  it('draws the benchmark line, the rolling panels and one stacked area per grouping', () => {
    // Equity + benchmark; drawdown, rolling volatility and Sharpe in one figure; region; asset class.
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(html).toContain('Rolling volatility (63 periods, annualised)');
    expect(html).toContain('Rolling Sharpe (63 periods)');
    expect(html).toContain('Net exposure by region');
    expect(html).toContain('<title>US</title>');
    expect(html).toContain('<title>Europe</title>');
    expect(html).toContain('<title>fixed income</title>');
    // The strategy and benchmark equity lines end at their final values' positions: two polylines.
    const equityFigure = html.slice(html.indexOf('<h2>Equity</h2>'), html.indexOf('<h2>Against'));
    expect(equityFigure.match(/<polyline /g)).toHaveLength(2);
  });

  it('the rolling panels start after the first full window (a gap, not zeros)', () => {
    const fig = html.slice(html.indexOf('<h2>Drawdown and rolling risk</h2>'));
    const polylines = [...fig.matchAll(/<polyline points="([^"]+)"/g)].map((m) => m[1].split(' '));
    // Drawdown from the first bar; rolling series from bar 63 (the 63rd return ends there).
    const firstX = polylines.map((p) => Number(p[0].split(',')[0]));
    expect(firstX[0]).toBeCloseTo(70, 5);
    const x63 = 70 + ((900 - 70 - 10) * 63) / (n - 1);
    expect(firstX[1]).toBeCloseTo(x63, 0);
    expect(firstX[2]).toBeCloseTo(x63, 0);
  });

  it('fetches nothing', () => {
    expect(html).not.toMatch(FETCHES);
    expect(html).not.toMatch(ANY_URL);
  });

  it('without extras the report is as before: equity and drawdown only', () => {
    const plain = renderReport(res);
    expect(plain.match(/<svg /g)).toHaveLength(2);
    expect(plain).not.toContain('Against the benchmark');
    expect(plain).not.toContain('Rolling');
  });
});
