/**
 * The stress report: the hand-computed P&L of the CLI contract's example in its tables, a row and a
 * bar for each group and position, the breaches, and nothing fetched.
 */
import { describe, expect, it } from 'vitest';
import { StressBook } from '../../../src/risk/stress';
import { renderStressReport, shockText } from '../../../src/risk/stress-report';
import type { RiskConfig, RiskPortfolio } from '../../../src/risk/types';
import { ANY_URL, FETCHES } from '../../helpers/offline-html';

const CONFIG: RiskConfig = {
  securities: {
    SPY: { region: 'US', assetClass: 'equity', sector: 'Broad', beta: 1 },
    EEM: { region: 'EM', assetClass: 'equity', sector: 'Broad', beta: 1.5 },
    TLT: { region: 'US', assetClass: 'fixed income', duration: 17 },
    FXE: { region: 'Europe', assetClass: 'fx' },
    DBC: { region: 'Global', assetClass: 'commodities' },
  },
  limits: { maxDrawdown: 0.08, maxDailyLoss: 0.12 },
};
const PORTFOLIO: RiskPortfolio = {
  nav: 1_000_000,
  state: 'ACTIVE',
  positions: [
    { symbol: 'SPY', qty: 500, price: 400 }, // 200,000 x -0.2 = -40,000
    { symbol: 'EEM', qty: 2500, price: 40 }, // 100,000 x 1.5 x -0.2 = -30,000
    { symbol: 'TLT', qty: 1000, price: 100 }, // -100,000 x 17 x 0.01 = -17,000
    { symbol: 'FXE', qty: -500, price: 100 }, // -50,000 x 0.1 = -5,000
    { symbol: 'DBC', qty: 2000, price: 25 }, // 50,000 x -0.3 = -15,000
  ],
};
const shocks = { equity: -0.2, rates: 0.01, fx: 0.1, commodity: -0.3 };

describe('renderStressReport', () => {
  const book = new StressBook(PORTFOLIO, CONFIG);
  const r = book.run({ name: 'shocks', shocks });
  const mild = book.run({ name: 'mild', shocks: { equity: -0.05 } }); // -10,000 - 7,500 = -17,500
  const html = renderStressReport({
    nav: PORTFOLIO.nav,
    sources: { limits: 'limits.json', portfolio: 'portfolio.json', returns: undefined },
    scenarios: [
      { ...r, name: 'shocks', shocks },
      { ...mild, name: 'mild', shocks: { equity: -0.05 } },
    ],
    reverse: { equity: -0.4, rules: ['maxDrawdown'], pnl: -80_000 },
  });

  it('the hand-computed totals and the summary row per scenario', () => {
    expect(r.pnl).toBeCloseTo(-107_000, 6);
    expect(html).toContain('<b>P&amp;L</b>-107,000.00');
    expect(html).toContain('<b>Shocked NAV</b>893,000.00');
    expect(html).toContain('<b>P&amp;L % of NAV</b>-10.70%');
    expect(html).toContain('<b>P&amp;L</b>-17,500.00');
    const summary = html.slice(
      html.indexOf('<table class="scenarios">'),
      html.indexOf('</table>', html.indexOf('<table class="scenarios">')),
    );
    expect(summary.match(/<tr>/g)).toHaveLength(3); // header + 2 scenarios
    expect(summary).toContain('equity -20.00%, rates +1.00%, fx +10.00%, commodity -30.00%');
    expect(summary).toContain('<span class="breach">maxDrawdown</span>');
  });

  it('a row and a bar per asset class, region and position, with its P&L', () => {
    const rows = (name: string, value: string): RegExp =>
      new RegExp(`<tr><td>${name}</td><td><span class="neg">${value}</span></td>`, 'g');
    expect(html.match(rows('equity', '-70,000.00'))).toHaveLength(1);
    expect(html.match(rows('fixed income', '-17,000.00'))).toHaveLength(1);
    expect(html.match(rows('US', '-57,000.00'))).toHaveLength(1);
    expect(html.match(rows('EM', '-30,000.00'))).toHaveLength(1);
    expect(html.match(rows('Europe', '-5,000.00'))).toHaveLength(1);
    for (const [sym, v] of [
      ['SPY', '-40,000.00'],
      ['EEM', '-30,000.00'],
      ['TLT', '-17,000.00'],
      ['FXE', '-5,000.00'],
      ['DBC', '-15,000.00'],
    ])
      expect(html).toContain(`<tr><td>${sym}</td><td><span class="neg">${v}</span></td>`);
    // Bars: each carries its name and value in a tooltip.
    expect(html).toContain('<title>EEM: -30,000.00</title>');
    expect(html).toContain('<title>Global: -15,000.00</title>');
    expect(html).toContain('<figcaption>P&amp;L by scenario</figcaption>');
  });

  it('lists the breaches with limit and value; none for the mild scenario', () => {
    // 1 - 893,000 / 1,000,000 = 10.7% > 8%; daily loss 10.7% < 12%: not breached.
    expect(html).toContain('<tr><td>maxDrawdown</td><td>8.00%</td><td>10.70%</td></tr>');
    expect(html).not.toContain('<tr><td>maxDailyLoss</td>');
    expect(html).toContain('Limits breached: none.');
    expect(html).toContain('A uniform equity shock of -40.0000% breaches maxDrawdown');
  });

  it('fetches nothing', () => {
    expect(html).not.toMatch(FETCHES);
    expect(html).not.toMatch(ANY_URL);
    expect(html).toContain('From limits: limits.json, portfolio: portfolio.json.');
  });
});

describe('shockText', () => {
  it("labels a replay's fx shock a dollar move; a hypothetical fx shock keeps the factor's name", () => {
    const replay = { peak: '2007-10-09', trough: '2009-03-09' };
    expect(shockText({ shocks: { equity: -0.5, fx: 0.13 }, fxIsDollar: true, replay })).toBe(
      'equity -50.00%, fx (dollar) +13.00%, S&P 500 2007-10-09 -> 2009-03-09',
    );
    expect(shockText({ shocks: { fx: 0.1 } })).toBe('fx +10.00%');
    expect(shockText({ shocks: { fx: -0.1 }, fxIsDollar: false })).toBe('fx -10.00%');
  });

  it('shows the label in the HTML report', () => {
    const book = new StressBook(PORTFOLIO, CONFIG);
    const s = { name: 'replay 2008', shocks: { fx: 0.13 }, fxIsDollar: true };
    const html = renderStressReport({
      nav: PORTFOLIO.nav,
      sources: { limits: 'limits.json', portfolio: 'portfolio.json' },
      scenarios: [{ ...book.run(s), ...s }],
    });
    expect(html).toContain('fx (dollar) +13.00%');
  });
});
