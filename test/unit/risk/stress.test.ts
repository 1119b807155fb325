/**
 * Stress tests with hand-computed numbers: each factor's linear P&L, the groupings, the
 * portfolio-level breaches on the shocked NAV, and the input errors.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import { StressBook, factorOf, parseShock, parseShocks, stressTest } from '../../../src/risk/stress';
import type { RiskConfig, RiskPortfolio } from '../../../src/risk/types';
import { ReturnsWindow, historicalVar } from '../../../src/risk/var';

const CONFIG: RiskConfig = {
  securities: {
    AAPL: { region: 'US', assetClass: 'equity', sector: 'Technology', beta: 1.2 },
    SAP: { region: 'Europe', assetClass: 'Equity', sector: 'Technology' },
    BUND: { region: 'Europe', assetClass: 'Fixed Income', duration: 8 },
    FXE: { region: 'Europe', assetClass: 'FX' },
    GLD: { region: 'US', assetClass: 'Commodities' },
    CASH: { region: 'US', assetClass: 'cash' },
    DBC: { assetClass: 'commodity' },
  },
  limits: { maxDrawdown: 0.1, maxDailyLoss: 0.05 },
};
const PORTFOLIO: RiskPortfolio = {
  nav: 1_000_000,
  state: 'ACTIVE',
  peakNav: 1_050_000,
  positions: [
    { symbol: 'AAPL', qty: 1000, price: 190 }, // 190,000
    { symbol: 'SAP', qty: -1000, price: 100 }, // -100,000 (short)
    { symbol: 'BUND', qty: 5000, price: 100 }, // 500,000
    { symbol: 'FXE', qty: 2000, price: 100 }, // 200,000
    { symbol: 'GLD', qty: 1000, price: 150 }, // 150,000
    { symbol: 'CASH', qty: 1, price: 50_000 },
    { symbol: 'DBC', qty: 100, price: 20 }, // 2,000
  ],
};
const SHOCKS = { equity: -0.2, rates: 0.01, fx: 0.1, commodity: -0.3 };

describe('stressTest', () => {
  it('moves each asset class by its own factor', () => {
    const r = stressTest(PORTFOLIO, CONFIG, SHOCKS);
    expect(r.positions).toEqual([
      { symbol: 'AAPL', pnl: -45_600 }, // 190,000 × 1.2 × −0.2
      { symbol: 'SAP', pnl: 20_000 }, // −100,000 × 1 × −0.2 (beta defaults to 1)
      { symbol: 'BUND', pnl: -40_000 }, // −500,000 × 8 × 0.01
      { symbol: 'FXE', pnl: 20_000 }, // 200,000 × 0.1
      { symbol: 'GLD', pnl: -45_000 }, // 150,000 × −0.3
      { symbol: 'CASH', pnl: 0 }, // not moved
      { symbol: 'DBC', pnl: -600 }, // 2,000 × −0.3
    ]);
    expect(r.pnl).toBe(-91_200);
    expect(r.byAssetClass).toEqual({
      equity: -45_600,
      Equity: 20_000,
      'Fixed Income': -40_000,
      FX: 20_000,
      Commodities: -45_000,
      cash: 0,
      commodity: -600,
    });
    expect(r.byRegion).toEqual({ US: -90_600, Europe: 0, unclassified: -600 });
    expect(r.bySector).toEqual({ Technology: -25_600, unclassified: -65_600 });
  });

  it('lists maxDrawdown (vs peakNav) and maxDailyLoss (vs nav by default) above their limits', () => {
    const r = stressTest(PORTFOLIO, CONFIG, SHOCKS);
    // shocked NAV 908,800: drawdown 1 − 908,800 / 1,050,000; daily loss 1 − 908,800 / 1,000,000.
    expect(r.breaches).toEqual([
      { rule: 'maxDrawdown', limit: 0.1, value: 1 - 908_800 / 1_050_000 },
      { rule: 'maxDailyLoss', limit: 0.05, value: 1 - 908_800 / 1_000_000 },
    ]);
    expect(r.breaches[0].value).toBeCloseTo(0.134476, 6);
    const loose = { ...CONFIG, limits: { maxDrawdown: 0.14, maxDailyLoss: 0.1 } };
    expect(stressTest(PORTFOLIO, loose, SHOCKS).breaches).toEqual([]);
    // startOfDayNav replaces nav for the daily loss: 1 − 908,800 / 950,000 = 0.04337 < 0.05.
    const sod = { ...PORTFOLIO, startOfDayNav: 950_000 };
    expect(stressTest(sod, CONFIG, SHOCKS).breaches.map((b) => b.rule)).toEqual(['maxDrawdown']);
  });

  it('leaves unshocked factors alone and never prints -0', () => {
    const r = stressTest(PORTFOLIO, CONFIG, { fx: 0.1 });
    expect(r.pnl).toBe(20_000);
    expect(Object.is(r.positions[0].pnl, -0)).toBe(false);
    expect(Object.is(r.byAssetClass.equity, -0)).toBe(false);
  });

  it('evaluates varBudget on the shocked exposures and NAV when a returns window is given', () => {
    const config: RiskConfig = { securities: { A: { assetClass: 'equity' } }, limits: { varBudget: 0.03 } };
    const p: RiskPortfolio = {
      nav: 200_000,
      state: 'ACTIVE',
      positions: [{ symbol: 'A', qty: 1000, price: 100 }],
    };
    const window = new ReturnsWindow({ A: [-0.1, 0.1] });
    // Shocked exposure 100,000 × 0.5 = 50,000; daily P&L [−5,000, 5,000]; the 1% quantile
    // (type 7) is −5,000 + 0.01 × 10,000 = −4,900; VaR / shocked NAV = 4,900 / 150,000.
    const r = stressTest(p, config, { equity: -0.5 }, { window });
    expect(r.breaches).toHaveLength(1);
    expect(r.breaches[0].rule).toBe('varBudget');
    expect(r.breaches[0].value).toBeCloseTo(4_900 / 150_000, 12);
    expect(stressTest(p, config, { equity: -0.5 }).breaches).toEqual([]); // no window: not evaluated
    const loose = { ...config, limits: { varBudget: 0.05 } };
    expect(stressTest(p, loose, { equity: -0.5 }, { window }).breaches).toEqual([]);
    expect(() =>
      stressTest(p, config, { equity: -0.5 }, { window: new ReturnsWindow({ B: [0, 0] }) }),
    ).toThrow(/returns: A: no returns for a held position/);
  });

  it('computes the VaR of a multi-factor book as a direct sum over positions would', () => {
    const secs = Object.fromEntries(PORTFOLIO.positions.map((p) => [p.symbol, [0, 0, 0, 0, 0, 0]]));
    let x = 1;
    for (const r of Object.values(secs))
      for (let t = 0; t < r.length; t++) r[t] = ((x = (x * 7919) % 1009) - 504) / 10_000;
    const window = new ReturnsWindow(secs);
    const config = { ...CONFIG, limits: { varBudget: 0 } };
    for (const scenario of [
      { name: 'all', shocks: SHOCKS },
      { name: 'corr1', shocks: { equity: -0.3, rates: 0.02 }, correlationOne: true },
    ]) {
      const r = new StressBook(PORTFOLIO, config).run(scenario, window);
      const exposures = new Map<string, number>();
      PORTFOLIO.positions.forEach((p, i) => exposures.set(p.symbol, p.qty * p.price + r.positions[i].pnl));
      const direct = historicalVar(window, exposures) / (PORTFOLIO.nav + r.pnl);
      expect(r.breaches[0].rule).toBe('varBudget');
      expect(r.breaches[0].value).toBeCloseTo(direct, 9);
    }
  });

  it('moves every class with the equity shock under correlationOne', () => {
    const book = new StressBook(PORTFOLIO, CONFIG);
    const r = book.run({ name: 'corr1', shocks: { equity: -0.1 }, correlationOne: true });
    // Σ value × beta × −0.1: AAPL 228,000, SAP −100,000, BUND 500,000, FXE 200,000, GLD 150,000,
    // CASH 50,000, DBC 2,000 → 1,030,000 × −0.1.
    expect(r.pnl).toBe(-103_000);
    expect(r.positions[5]).toEqual({ symbol: 'CASH', pnl: -5_000 });
  });

  it('names an unknown symbol and a missing duration', () => {
    const p = { ...PORTFOLIO, positions: [...PORTFOLIO.positions, { symbol: 'XYZ', qty: 1, price: 1 }] };
    expect(() => stressTest(p, CONFIG, SHOCKS)).toThrow(InputError);
    expect(() => stressTest(p, CONFIG, SHOCKS)).toThrow(
      'portfolio: positions.7.symbol: "XYZ" is not in limits securities (unknownSymbol)',
    );
    const noDuration = {
      ...CONFIG,
      securities: { ...CONFIG.securities, BUND: { assetClass: 'fixedIncome' } },
    };
    expect(() => stressTest(PORTFOLIO, noDuration, SHOCKS)).toThrow(
      'limits: securities.BUND.duration: required for a rates shock on a fixed-income position',
    );
    expect(stressTest(PORTFOLIO, noDuration, { equity: -0.2 }).pnl).toBe(-25_600);
  });
});

describe('factorOf and parseShock', () => {
  it('matches asset classes case-insensitively', () => {
    expect(
      ['EQUITY', 'fixedIncome', 'Fixed Income', 'fx', 'Commodities', 'COMMODITY', 'cash', undefined].map(
        factorOf,
      ),
    ).toEqual(['equity', 'rates', 'rates', 'fx', 'commodity', 'commodity', undefined, undefined]);
  });

  it('parses factor=number and rejects anything else', () => {
    expect(parseShock('equity=-0.20')).toEqual(['equity', -0.2]);
    expect(parseShock('rates=+0.01')).toEqual(['rates', 0.01]);
    expect(parseShocks(['fx=+0.10', 'commodity=-0.30'])).toEqual({ fx: 0.1, commodity: -0.3 });
    expect(() => parseShock('oil=-0.3')).toThrow('--shock: unknown factor "oil"');
    expect(() => parseShock('equity=abc')).toThrow('--shock: equity: not a number: "abc"');
    expect(() => parseShock('equity=')).toThrow('not a number');
    expect(() => parseShock('equity')).toThrow('expected factor=number');
    expect(() => parseShocks(['equity=-0.1', 'equity=-0.2'])).toThrow('--shock: equity given more than once');
  });
});
