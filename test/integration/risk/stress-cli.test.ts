/**
 * `quant risk stress` through the real CLI entry point: the JSON contract with hand-computed
 * numbers, the text output, and exit 2 naming the file and field for bad input.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runQuant } from '../../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'risk-stress-'));
let seq = 0;
const file = (name: string, value: unknown): string => {
  const p = path.join(dir, `${++seq}`, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
};

const LIMITS = {
  securities: {
    SPY: { region: 'US', assetClass: 'equity', sector: 'Broad', beta: 1 },
    EEM: { region: 'EM', assetClass: 'Equity', sector: 'Broad', beta: 1.5 },
    TLT: { region: 'US', assetClass: 'fixed income', duration: 17 },
    FXE: { region: 'Europe', assetClass: 'fx' },
    DBC: { region: 'Global', assetClass: 'commodities' },
  },
  limits: { maxDrawdown: 0.08, maxDailyLoss: 0.12, maxPositionWeight: 0.9 },
};
const PORTFOLIO = {
  nav: 1_000_000,
  state: 'ACTIVE',
  positions: [
    { symbol: 'SPY', qty: 500, price: 400 }, // 200,000 × −0.2 = −40,000
    { symbol: 'EEM', qty: 2500, price: 40 }, // 100,000 × 1.5 × −0.2 = −30,000
    { symbol: 'TLT', qty: 1000, price: 100 }, // −100,000 × 17 × 0.01 = −17,000
    { symbol: 'FXE', qty: -500, price: 100 }, // −50,000 × 0.1 = −5,000
    { symbol: 'DBC', qty: 2000, price: 25 }, // 50,000 × −0.3 = −15,000
  ],
};
const SHOCKS = [
  '--shock',
  'equity=-0.20',
  '--shock',
  'rates=+0.01',
  '--shock',
  'fx=+0.10',
  '--shock',
  'commodity=-0.30',
];

const run = (limits: unknown, portfolio: unknown, ...rest: string[]) =>
  runQuant([
    'risk',
    'stress',
    '--limits',
    file('limits.json', limits),
    '--portfolio',
    file('portfolio.json', portfolio),
    ...rest,
  ]);

describe('quant risk stress', () => {
  it('prints the contract JSON with hand-computed numbers', async () => {
    const r = await run(LIMITS, PORTFOLIO, ...SHOCKS, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // Total −107,000; shocked NAV 893,000: drawdown and daily loss 0.107 (peakNav, startOfDayNav
    // default to nav); only maxDrawdown (0.08, not maxDailyLoss 0.12) is exceeded.
    expect(JSON.parse(r.out)).toEqual({
      pnl: -107_000,
      byAssetClass: {
        equity: -40_000,
        Equity: -30_000,
        'fixed income': -17_000,
        fx: -5_000,
        commodities: -15_000,
      },
      byRegion: { US: -57_000, EM: -30_000, Europe: -5_000, Global: -15_000 },
      positions: [
        { symbol: 'SPY', pnl: -40_000 },
        { symbol: 'EEM', pnl: -30_000 },
        { symbol: 'TLT', pnl: -17_000 },
        { symbol: 'FXE', pnl: -5_000 },
        { symbol: 'DBC', pnl: -15_000 },
      ],
      breaches: [{ rule: 'maxDrawdown', limit: 0.08, value: 1 - 893_000 / 1_000_000 }],
    });
  });

  it('prints tables without --json', async () => {
    const r = await run(LIMITS, PORTFOLIO, ...SHOCKS);
    expect(r.code).toBe(0);
    expect(r.out).toContain('pnl: -107000.00');
    expect(r.out).toMatch(/maxDrawdown\s+0\.08/);
  });

  it('evaluates varBudget only with --returns, and says so on stderr otherwise', async () => {
    const limits = { ...LIMITS, limits: { varBudget: 0.001 } };
    const without = await run(limits, PORTFOLIO, '--shock', 'equity=-0.1', '--json');
    expect(without.code).toBe(0);
    expect(JSON.parse(without.out).breaches).toEqual([]);
    expect(without.err).toContain('varBudget not evaluated');
    const returns = file('returns.json', {
      SPY: [-0.02, 0.01, 0.0],
      EEM: [-0.03, 0.02, 0.01],
      TLT: [0.01, -0.01, 0.0],
      FXE: [0.0, 0.005, -0.005],
      DBC: [-0.01, 0.01, 0.0],
    });
    const withR = await run(limits, PORTFOLIO, '--shock', 'equity=-0.1', '--returns', returns, '--json');
    expect(withR.code).toBe(0);
    expect(JSON.parse(withR.out).breaches.map((b: { rule: string }) => b.rule)).toEqual(['varBudget']);
  });

  it.each([
    [['--shock', 'oil=-0.3'], '--shock: unknown factor "oil"'],
    [['--shock', 'equity=-20%'], '--shock: equity: not a number: "-20%"'],
    [[], '--shock: at least one shock is required'],
  ])('exits 2 on a bad --shock %j', async (args, message) => {
    const r = await run(LIMITS, PORTFOLIO, ...args, '--json');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(message);
  });

  it('exits 2 naming the file and field of malformed input', async () => {
    const badBeta = {
      ...LIMITS,
      securities: { ...LIMITS.securities, SPY: { assetClass: 'equity', beta: 'high' } },
    };
    let r = await run(badBeta, PORTFOLIO, ...SHOCKS, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('limits.json: securities.SPY.beta');
    r = await run(LIMITS, { ...PORTFOLIO, nav: -1 }, ...SHOCKS, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('portfolio.json: nav');
    const unknown = {
      ...PORTFOLIO,
      positions: [...PORTFOLIO.positions, { symbol: 'XYZ', qty: 1, price: 1 }],
    };
    r = await run(LIMITS, unknown, ...SHOCKS, '--json');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('portfolio.json: positions.5.symbol: "XYZ" is not in limits.json securities');
    r = await run(LIMITS, '{"nav": 1', ...SHOCKS, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('portfolio.json: not valid JSON');
  });

  it('runs a scenarios file: shocks, correlation to 1, a replay, and reverse stress', async () => {
    const scenarios = file('scenarios.json', {
      scenarios: [
        { name: 'equity -20%', shocks: { equity: -0.2 } },
        { name: 'correlation 1', shocks: { equity: -0.2 }, correlationOne: true },
        { name: '2008', replay: '2008' },
        { name: 'fx +10%', shocks: { fx: 0.1 } },
      ],
    });
    const r = await run(LIMITS, PORTFOLIO, '--scenarios', scenarios, '--reverse', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as {
      scenarios: {
        name: string;
        pnl: number;
        breaches: { rule: string }[];
        fxIsDollar: boolean;
        replay?: { trough: string };
      }[];
      reverse: { equity: number; rules: string[] };
    };
    expect(out.scenarios.map((s) => s.name)).toEqual(['equity -20%', 'correlation 1', '2008', 'fx +10%']);
    // Only the replay's fx shock is a dollar move (applied by each FX security's usd sign).
    expect(out.scenarios.map((s) => s.fxIsDollar)).toEqual([false, false, true, false]);
    expect(out.scenarios[3].pnl).toBe(-5_000); // FXE −50,000 × 0.1: the linear contract
    expect(out.scenarios[0].pnl).toBe(-70_000); // (200,000 + 100,000 × 1.5) × −0.2
    // Every value × beta × −0.2: 200,000 + 150,000 + 100,000 − 50,000 + 50,000 = 450,000.
    expect(out.scenarios[1].pnl).toBe(-90_000);
    expect(out.scenarios[2].replay?.trough).toBe('2009-03-09');
    // 2008: equities 350,000 × the S&P 500's fall; TLT −100,000 × 17 × −0.0175 = +29,750; FXE
    // −50,000 × 0.13 = −6,500; DBC 50,000 × −0.35 = −17,500 (src/risk/stress-scenarios.ts REPLAYS).
    expect(out.scenarios[2].pnl).toBeCloseTo(350_000 * (676.530029 / 1565.150024 - 1) + 5_750, 1);
    // maxDrawdown 0.08 of 1,000,000 → a loss above 80,000 = 350,000 × |s| → s < −0.228571.
    expect(out.reverse.equity).toBeCloseTo(-80_000 / 350_000, 5);
    expect(out.reverse.rules).toEqual(['maxDrawdown']);

    const text = await run(LIMITS, PORTFOLIO, '--scenarios', scenarios);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(
      /correlation 1\s+equity -20\.00%, correlation 1\s+-90000\.00\s+-9\.00\s+maxDrawdown/,
    );
    expect(text.out).toContain('S&P 500 2007-10-09 -> 2009-03-09');
    // The replay's fx move is labelled a dollar move; a hypothetical fx shock keeps its label.
    expect(text.out).toMatch(
      /2008\s+equity -56\.78%, rates -1\.75%, fx \(dollar\) \+13\.00%, commodity -35\.00%/,
    );
    expect(text.out).not.toContain('fx +13.00%');
    expect(text.out).toMatch(/fx \+10%\s+fx \+10\.00%\s+-5000\.00/);
  });

  it('exits 2 on a bad scenarios file, or --shock with --scenarios', async () => {
    const bad = file('scenarios.json', { scenarios: [{ name: 'x', replay: '1987' }] });
    let r = await run(LIMITS, PORTFOLIO, '--scenarios', bad, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('scenarios.json: scenarios.0.replay');
    const good = file('scenarios.json', { scenarios: [{ name: 'x', shocks: { equity: -0.1 } }] });
    r = await run(LIMITS, PORTFOLIO, '--scenarios', good, '--shock', 'equity=-0.1', '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--shock: give either --shock or --scenarios, not both');
  });
});
