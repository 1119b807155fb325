/**
 * The backtest report's benchmark, rolling and exposure sections and the risk engine's table: their
 * numbers are in the HTML, and nothing is fetched from anywhere.
 */
import { describe, expect, it } from 'vitest';
import { renderReport, runBacktest } from '../../../src/backtest';
import { benchmarkStats, buyAndHoldReturns, rollingStats } from '../../../src/backtest/benchmark';
import { EXPOSURE_NEEDS_REFERENCE, exposureByGroup, reportExposure } from '../../../src/backtest/exposure';
import { macroReference } from '../../../src/synthetic/point-in-time';
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

describe('backtest report: the risk engine section', () => {
  const n = 40;
  const panel = { symbols: ['AAA', 'BBB'], dates: days(n), close: [gbm(n, 21), gbm(n, 22)] };
  const res = runBacktest(panel, { strategy: 'xs-momentum', params: { lookback: 5, topK: 1, rebalance: 5 } });
  const riskGate = {
    orders: 9,
    approved: 4,
    resized: 3,
    rejected: 2,
    byRule: { sectorCap: 3, unknownSymbol: 1, maxOrderNotional: 2 },
    byRuleDecision: {
      sectorCap: { resized: 2, rejected: 1 },
      unknownSymbol: { resized: 0, rejected: 1 },
      maxOrderNotional: { resized: 2, rejected: 0 },
    },
  };
  const html = renderReport({ ...res, riskGate });
  const section = html.slice(html.indexOf('<h2>Risk engine</h2>'), html.indexOf('<h2>Trades'));

  it('splits every rule into resized and rejected orders, most frequent rule first', () => {
    const rows = [
      ...section.matchAll(/<tr><td>(\w+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><\/tr>/g),
    ];
    expect(rows.map((m) => m.slice(1).join(' '))).toEqual([
      'sectorCap 2 1 3',
      'maxOrderNotional 2 0 2',
      'unknownSymbol 0 1 1',
    ]);
  });

  it('draws one bar per rule and decision: resized to the right, rejected to the left', () => {
    const titles = [...section.matchAll(/<title>([^<]+)<\/title>/g)].map((m) => m[1]);
    expect(titles).toEqual([
      'sectorCap resized: 2',
      'sectorCap rejected: 1',
      'maxOrderNotional resized: 2',
      'unknownSymbol rejected: 1',
    ]);
    // Mixed signs put zero in the middle of the plot (label 170 + half of 900 - 170 - 110).
    expect(section).toContain('<line x1="480" x2="480"');
  });

  it('says so when no order was resized or rejected', () => {
    const clean = renderReport({
      ...res,
      riskGate: { orders: 2, approved: 2, resized: 0, rejected: 0, byRule: {}, byRuleDecision: {} },
    });
    expect(clean).toContain('No order was resized or rejected.');
  });
});

describe('backtest report: exposure without --reference', () => {
  // Two periods; SPY 0.5 then 0.25, TLT 0.3 both, XYZ −0.2 then 0.
  const run = {
    symbols: ['SPY', 'TLT', 'XYZ'],
    dates: ['2024-01-02', '2024-01-03', '2024-01-04'],
    positions: [new Float64Array([0.5, 0.25]), new Float64Array([0.3, 0.3]), new Float64Array([-0.2, 0])],
  };
  const builtIn = new ReferenceIndex(macroReference('2024-01-02'));

  it("falls back to the macro universe's built-in reference for the symbols it knows", () => {
    const e = reportExposure(run, { builtIn });
    if ('missing' in e) throw new Error(e.missing);
    // SPY and TLT are US (src/synthetic/point-in-time.ts); XYZ is unknown: unclassified.
    expect(e.region.groups).toEqual(['US', 'unclassified']);
    expect(Array.from(e.region.net[0])).toEqual([0.8, 0.55]);
    expect(Array.from(e.region.net[1])).toEqual([-0.2, 0]);
    expect(e.assetClass.groups).toEqual(['equity', 'fixedIncome', 'unclassified']);
    expect(Array.from(e.assetClass.net[0])).toEqual([0.5, 0.25]);
    expect(e.source).toBe("the synthetic macro universe's built-in reference; XYZ not in it (unclassified)");
  });

  it("uses the limits file's securities before the built-in reference, the run's own before both", () => {
    const securities = { SPY: { region: 'Americas', assetClass: 'equity' }, TLT: { region: 'Americas' } };
    const e = reportExposure(run, { securities, builtIn });
    if ('missing' in e) throw new Error(e.missing);
    expect(e.region.groups).toEqual(['Americas', 'unclassified']);
    expect(e.source).toBe("the limits file's securities (--limits); XYZ not in it (unclassified)");
    const reference = new ReferenceIndex([{ symbol: 'XYZ', from: '2024-01-01', region: 'Mars' }]);
    const own = reportExposure(run, { reference, securities, builtIn });
    if ('missing' in own) throw new Error(own.missing);
    expect(own.region.groups).toEqual(['unclassified', 'Mars']); // gross 1.35 against 0.2
  });

  it('says plainly that exposure needs --reference when nothing knows the symbols', () => {
    const unknown = { ...run, symbols: ['AAA', 'BBB', 'CCC'] };
    const e = reportExposure(unknown, { builtIn });
    expect(e).toEqual({ missing: EXPOSURE_NEEDS_REFERENCE });
    const n = 40;
    const panel = { symbols: ['AAA', 'BBB'], dates: days(n), close: [gbm(n, 31), gbm(n, 32)] };
    const res = runBacktest(panel, {
      strategy: 'xs-momentum',
      params: { lookback: 5, topK: 1, rebalance: 5 },
    });
    const html = renderReport(res, { exposure: reportExposure(res, { builtIn }) });
    expect(html).toContain(
      '<h2>Exposure</h2><p class="missing">Exposure by region and asset class needs reference data: run with --reference FILE',
    );
    expect(html).not.toContain('Net exposure by region');
  });
});
