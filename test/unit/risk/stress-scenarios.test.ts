/**
 * Named scenarios, historical replays of the real S&P 500 closes and reverse stress, with
 * hand-computed numbers (the replay falls checked independently with Python on the same CSV).
 */
import { describe, expect, it } from 'vitest';
import { StressBook } from '../../../src/risk/stress';
import {
  readCloses,
  readSp500,
  resolveScenarios,
  reverseStress,
  runScenarios,
  scenariosFileSchema,
  worstDrawdown,
} from '../../../src/risk/stress-scenarios';
import { riskConfigSchema } from '../../../src/risk/schemas';
import type { RiskConfig, RiskPortfolio } from '../../../src/risk/types';
import { ReturnsWindow } from '../../../src/risk/var';

const CONFIG: RiskConfig = {
  securities: {
    SPY: { region: 'US', assetClass: 'equity', beta: 1 },
    EEM: { region: 'EM', assetClass: 'equity', beta: 1.5 },
    TLT: { region: 'US', assetClass: 'fixedIncome', duration: 10 },
  },
  limits: { maxDrawdown: 0.1 },
};
const PORTFOLIO: RiskPortfolio = {
  nav: 1_000_000,
  state: 'ACTIVE',
  positions: [
    { symbol: 'SPY', qty: 1000, price: 300 }, // 300,000
    { symbol: 'EEM', qty: 2000, price: 50 }, // 100,000 (× 1.5 = 150,000 equity-equivalent)
    { symbol: 'TLT', qty: 1000, price: 100 }, // 100,000
  ],
};

describe('worstDrawdown', () => {
  it('finds the largest peak-to-trough fall inside the window', () => {
    const closes = readCloses(
      'date,close\n2020-01-01,100\n2020-01-02,120\n2020-01-03,90\n2020-01-04,130\n2020-01-05,104\n2021-01-01,10\n',
      'x.csv',
    );
    // 120 → 90 is −25%; 130 → 104 is −20%; the 2021 close is outside the window.
    expect(worstDrawdown(closes, '2020-01-01', '2020-12-31')).toEqual({
      shock: 90 / 120 - 1,
      peak: '2020-01-02',
      trough: '2020-01-03',
      peakClose: 120,
      troughClose: 90,
    });
  });

  it('replays 2000-02, 2008 and 2020 from the real S&P 500 closes', () => {
    const file = scenariosFileSchema.parse({
      scenarios: [
        { name: 'dot-com', replay: '2000-02' },
        { name: 'GFC', replay: '2008' },
        { name: 'covid', replay: '2020' },
      ],
    });
    const sp = readSp500();
    const s = resolveScenarios(file, () => sp);
    expect(s.map((x) => [x.replay?.peak, x.replay?.trough])).toEqual([
      ['2000-03-24', '2002-10-09'],
      ['2007-10-09', '2009-03-09'],
      ['2020-02-19', '2020-03-23'],
    ]);
    expect(s[0].shocks.equity).toBeCloseTo(776.76001 / 1527.459961 - 1, 12); // −49.1%
    expect(s[1].shocks.equity).toBeCloseTo(676.530029 / 1565.150024 - 1, 12); // −56.8%
    expect(s[2].shocks.equity).toBeCloseTo(2237.399902 / 3386.149902 - 1, 12); // −33.9%
    // The episode's other markets over the same peak → trough dates (REPLAYS).
    expect(s.map((x) => [x.shocks.rates, x.shocks.fx, x.shocks.commodity])).toEqual([
      [-0.026, 0.02, 0],
      [-0.0175, 0.13, -0.35],
      [-0.008, 0.03, -0.25],
    ]);
    // 2020: equities through beta, SPY 300,000 × 1 and EEM 100,000 × 1.5 → 450,000 × shock; the
    // bonds gain as the 10-year yield falls 80 bp: −100,000 × 10 × −0.008 = +8,000.
    const [covid] = runScenarios(new StressBook(PORTFOLIO, CONFIG), [s[2]]);
    expect(covid.pnl).toBeCloseTo(450_000 * (2237.399902 / 3386.149902 - 1) + 8_000, 1);
    expect(covid.byRegion.US).toBeCloseTo(300_000 * (2237.399902 / 3386.149902 - 1) + 8_000, 1);
    expect(covid.byAssetClass.fixedIncome).toBe(8_000);
  });

  it('maps a replay to every asset class of a multi-asset book', () => {
    const config: RiskConfig = {
      securities: {
        ...CONFIG.securities,
        GLD: { region: 'Global', assetClass: 'commodity' },
        UUP: { region: 'US', assetClass: 'fx' },
        CASH: { region: 'US', assetClass: 'cash' },
      },
      limits: {},
    };
    const portfolio: RiskPortfolio = {
      ...PORTFOLIO,
      positions: [
        ...PORTFOLIO.positions,
        { symbol: 'GLD', qty: 500, price: 100 }, // 50,000
        { symbol: 'UUP', qty: 2000, price: 20 }, // 40,000
        { symbol: 'CASH', qty: 1, price: 10_000 }, // not moved
      ],
    };
    const sp = readSp500();
    const [gfc] = resolveScenarios(
      scenariosFileSchema.parse({ scenarios: [{ name: 'GFC', replay: '2008' }] }),
      () => sp,
    );
    const [r] = runScenarios(new StressBook(portfolio, config), [gfc]);
    const e = 676.530029 / 1565.150024 - 1; // −56.78%
    // By hand, 2008 (10-year −175 bp, dollar +13%, commodities −35%):
    //   equity       (300,000 + 100,000 × 1.5) × e
    //   fixed income −100,000 × 10 × −0.0175 = +17,500
    //   commodity     50,000 × −0.35         = −17,500
    //   fx            40,000 × 0.13          =  +5,200
    expect(r.byAssetClass.equity).toBeCloseTo(450_000 * e, 1);
    expect(r.byAssetClass.fixedIncome).toBe(17_500);
    expect(r.byAssetClass.commodity).toBe(-17_500);
    expect(r.byAssetClass.fx).toBe(5_200);
    expect(r.byAssetClass.cash).toBe(0);
    expect(r.pnl).toBeCloseTo(450_000 * e + 5_200, 1);
    // Global is the gold alone; US is SPY, TLT, UUP and the cash.
    expect(r.byRegion.Global).toBe(-17_500);
    expect(r.byRegion.US).toBeCloseTo(300_000 * e + 17_500 + 5_200, 1);
  });

  it("moves each FX position by the replay's dollar move times its usd sign; --shock fx stays linear", () => {
    const config: RiskConfig = {
      securities: {
        UUP: { region: 'US', assetClass: 'fx', usd: 1 },
        FXE: { region: 'Europe', assetClass: 'fx', usd: -1 },
        JPY: { region: 'Japan', assetClass: 'FX' }, // no sign: long dollar, as before
      },
      limits: {},
    };
    const portfolio: RiskPortfolio = {
      nav: 1_000_000,
      state: 'ACTIVE',
      positions: [
        { symbol: 'UUP', qty: 2000, price: 20 }, // 40,000
        { symbol: 'FXE', qty: 1000, price: 100 }, // 100,000
        { symbol: 'JPY', qty: 100, price: 100 }, // 10,000
      ],
    };
    const sp = readSp500();
    const [gfc] = resolveScenarios(
      scenariosFileSchema.parse({ scenarios: [{ name: 'GFC', replay: '2008' }] }),
      () => sp,
    );
    const book = new StressBook(portfolio, config);
    const [r] = runScenarios(book, [gfc]);
    // By hand, dollar +13%: UUP 40,000 × 0.13 = +5,200; FXE 100,000 × −0.13 = −13,000; JPY +1,300.
    expect(r.positions).toEqual([
      { symbol: 'UUP', pnl: 5_200 },
      { symbol: 'FXE', pnl: -13_000 },
      { symbol: 'JPY', pnl: 1_300 },
    ]);
    expect(r.pnl).toBe(-6_500);
    // The linear contract (`--shock fx=+0.10`): value × s for every FX position, whatever its sign.
    const linear = book.run({ name: 'fx', shocks: { fx: 0.1 } });
    expect(linear.positions.map((p) => p.pnl)).toEqual([4_000, 10_000, 1_000]);
  });
});

describe('security usd sign', () => {
  it('is 1 or -1, named in the error', () => {
    const r = riskConfigSchema.safeParse({ securities: { FXE: { assetClass: 'fx', usd: 2 } }, limits: {} });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/"path":\["securities","FXE","usd"\].*must be 1 or -1/);
  });
});

describe('scenarios file', () => {
  it('runs hypothetical shocks and correlation to 1', () => {
    const file = scenariosFileSchema.parse({
      scenarios: [
        { name: 'rates +100bp', shocks: { rates: 0.01 } },
        { name: 'corr 1', shocks: { equity: -0.1 }, correlationOne: true },
      ],
    });
    const r = runScenarios(
      new StressBook(PORTFOLIO, CONFIG),
      resolveScenarios(file, () => []),
    );
    expect(r.map((x) => [x.name, x.pnl])).toEqual([
      ['rates +100bp', -10_000], // −100,000 × 10 × 0.01
      ['corr 1', -55_000], // (300,000 + 150,000 + 100,000) × −0.1: the bonds no longer hedge
    ]);
  });

  it('rejects a scenario with both or neither of shocks and replay, and unknown names', () => {
    const bad = (v: unknown) => scenariosFileSchema.safeParse(v).success;
    expect(bad({ scenarios: [{ name: 'x', shocks: { equity: -0.1 }, replay: '2008' }] })).toBe(false);
    expect(bad({ scenarios: [{ name: 'x' }] })).toBe(false);
    expect(bad({ scenarios: [{ name: 'x', replay: '1987' }] })).toBe(false);
    expect(bad({ scenarios: [{ name: 'x', shocks: { oil: -0.3 } }] })).toBe(false);
    expect(bad({ scenarios: [] })).toBe(false);
    expect(bad({ scenarios: [{ name: 'x', shocks: { equity: -0.1 } }] })).toBe(true);
  });
});

describe('reverseStress', () => {
  it('finds the equity fall at which the drawdown passes its limit', () => {
    // Loss 450,000 × |s| > 10% of 1,000,000 → s < −2/9.
    const r = reverseStress(new StressBook(PORTFOLIO, CONFIG));
    expect(r.equity!).toBeLessThan(-2 / 9);
    expect(r.equity!).toBeGreaterThan(-2 / 9 - 2e-6);
    expect(r.rules).toEqual(['maxDrawdown']);
  });

  it('finds the shock that breaches the VaR budget', () => {
    // Exposure 100,000 × (1 + s), returns [−0.1, 0.1]: VaR 0.098 × exposure (type-7 1% quantile);
    // shocked NAV 200,000 + 100,000 s. VaR / NAV = 0.098 (1 + s) / (2 + s) grows with s and passes
    // 0.05 at s = 0.002 / 0.048 = 1/24; a fall only lowers it.
    const config: RiskConfig = { securities: { A: { assetClass: 'equity' } }, limits: { varBudget: 0.05 } };
    const p: RiskPortfolio = {
      nav: 200_000,
      state: 'ACTIVE',
      positions: [{ symbol: 'A', qty: 1000, price: 100 }],
    };
    const r = reverseStress(new StressBook(p, config), new ReturnsWindow({ A: [-0.1, 0.1] }));
    expect(r.rules).toEqual(['varBudget']);
    expect(r.equity!).toBeGreaterThan(1 / 24);
    expect(r.equity!).toBeLessThan(1 / 24 + 2e-6);
  });

  it('tries rises for a net-short equity book, and says when nothing breaches', () => {
    const short = { ...PORTFOLIO, positions: [{ symbol: 'SPY', qty: -1000, price: 400 }] };
    const r = reverseStress(new StressBook(short, CONFIG));
    // Loss 400,000 × s > 100,000 → s > 0.25.
    expect(r.equity!).toBeGreaterThan(0.25);
    expect(r.equity!).toBeLessThan(0.25 + 2e-6);
    const none = reverseStress(new StressBook(PORTFOLIO, { ...CONFIG, limits: {} }));
    expect(none).toEqual({ equity: null, rules: [], pnl: null });
  });
});
