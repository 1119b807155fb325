/**
 * The `quant risk check` contract (docs/trading.md) with hand-computed numbers: every group cap, the
 * "above the limit and above the value before" exposure semantics, shorts, resize as the largest
 * whole quantity that breaches nothing, and exit code 2 from the real `quant` binary.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main';

const dir = mkdtempSync(path.join(os.tmpdir(), 'risk-contract-'));
let seq = 0;
const file = (name: string, value: unknown): string => {
  const p = path.join(dir, `${++seq}-${name}`);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
};

const LIMITS = {
  securities: {
    AAPL: { region: 'US', assetClass: 'equity', sector: 'Technology', adv: 50_000_000, referencePrice: 190 },
    XOM: { region: 'US', assetClass: 'equity', sector: 'Energy', adv: 15_000_000, referencePrice: 100 },
    SAP: {
      region: 'Europe',
      assetClass: 'equity',
      sector: 'Technology',
      adv: 1_000_000,
      referencePrice: 100,
    },
    BUND: { region: 'Europe', assetClass: 'fixedIncome', adv: 1_000_000, referencePrice: 100 },
  },
  limits: {
    maxPositionWeight: 0.25,
    maxOrderAdvFraction: 0.1,
    maxGrossLeverage: 1.0,
    maxOrderNotional: 1_000_000,
    priceCollarPct: 0.05,
    regionCaps: { US: 0.4, Europe: 0.7 },
    assetClassCaps: { equity: 0.5 },
    sectorCaps: { Technology: 0.2 },
  },
};
// Before any order (nav 1,000,000): AAPL 190,000 (0.19), XOM 200,000 (0.2), BUND 500,000 (0.5),
// SAP short 100,000 (0.1). Gross 0.99; US 0.39; Europe 0.6; equity 0.49; Technology 0.29 (already
// above its 0.2 cap).
const POSITIONS = [
  { symbol: 'AAPL', qty: 1000, price: 190 },
  { symbol: 'XOM', qty: 2000, price: 100 },
  { symbol: 'BUND', qty: 5000, price: 100 },
  { symbol: 'SAP', qty: -1000, price: 100 },
];
const portfolio = (state = 'ACTIVE') => ({ nav: 1_000_000, state, positions: POSITIONS });

interface Result {
  decision: string;
  breaches: { rule: string; limit: number; value: number }[];
  approvedQty: number;
}

async function check(
  order: unknown,
  opts: { resize?: boolean; state?: string; limits?: unknown; returns?: unknown } = {},
): Promise<Result> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  let code: number;
  try {
    code = await main([
      'node',
      'quant',
      'risk',
      'check',
      '--limits',
      file('limits.json', opts.limits ?? LIMITS),
      '--portfolio',
      file('portfolio.json', portfolio(opts.state)),
      '--order',
      file('order.json', order),
      ...(opts.resize ? ['--resize'] : []),
      ...(opts.returns ? ['--returns', file('returns.json', opts.returns)] : []),
      '--json',
    ]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  expect({ code, err }).toEqual({ code: 0, err: '' });
  const r = JSON.parse(out) as Result;
  expect(Object.keys(r).sort()).toEqual(['approvedQty', 'breaches', 'decision']);
  // The contract does not fix the order of breaches: compare them sorted by rule.
  r.breaches.sort((a, b) => a.rule.localeCompare(b.rule));
  return r;
}

const buy = (symbol: string, qty: number, price: number) => ({ symbol, side: 'buy', qty, price });
const sell = (symbol: string, qty: number, price: number) => ({ symbol, side: 'sell', qty, price });

afterEach(() => vi.restoreAllMocks());

describe('quant risk check: group caps and the resize bound', () => {
  it('buy 200 XOM: US 0.41, equity 0.51, gross 1.01 breached; resize to 100 lands exactly on all three', async () => {
    // XOM after 2,200 × 100 = 220,000 (0.22 ≤ 0.25); US 190,000 + 220,000 = 0.41; equity 0.51;
    // gross 0.99 + 0.02 = 1.01; Energy has no cap.
    const breaches = [
      { rule: 'assetClassCap', limit: 0.5, value: 0.51 },
      { rule: 'maxGrossLeverage', limit: 1, value: 1.01 },
      { rule: 'regionCap', limit: 0.4, value: 0.41 },
    ];
    expect(await check(buy('XOM', 200, 100))).toEqual({ decision: 'reject', breaches, approvedQty: 0 });
    // Each cap allows 100 × q ≤ 10,000: q ≤ 100, where every value equals its limit (not above it).
    expect(await check(buy('XOM', 200, 100), { resize: true })).toEqual({
      decision: 'resize',
      breaches,
      approvedQty: 100,
    });
    expect(await check(buy('XOM', 100, 100))).toEqual({
      decision: 'approve',
      breaches: [],
      approvedQty: 100,
    });
    expect((await check(buy('XOM', 101, 100))).breaches.map((b) => b.rule)).toEqual([
      'assetClassCap',
      'maxGrossLeverage',
      'regionCap',
    ]);
  });

  it('a sector already over its cap: shrinking it passes, growing it by one share is breached', async () => {
    // sell 100 AAPL: Technology 0.29 → 0.27, still above 0.2 but below the value before.
    expect(await check(sell('AAPL', 100, 190))).toEqual({
      decision: 'approve',
      breaches: [],
      approvedQty: 100,
    });
    // buy 1 AAPL: Technology (1,001 × 190 + 100,000) / 1,000,000 = 0.29019 > 0.29; US 0.39019,
    // equity 0.49019 and gross 0.99019 stay within their limits.
    const grow = await check(buy('AAPL', 1, 190), { resize: true });
    expect(grow).toEqual({
      decision: 'reject', // no quantity ≥ 1 passes
      breaches: [{ rule: 'sectorCap', limit: 0.2, value: 0.29019 }],
      approvedQty: 0,
    });
  });

  it('exposure is |position|: covering a short shrinks it, covering past it grows it', async () => {
    // buy 1,500 SAP: −1,000 → +500, |50,000| = 0.05 < 0.1 before; Technology 0.24 < 0.29.
    expect(await check(buy('SAP', 1500, 100))).toEqual({
      decision: 'approve',
      breaches: [],
      approvedQty: 1500,
    });
    // buy 2,500 SAP: → +1,500 = 150,000: Technology 0.19 + 0.15 = 0.34 > 0.29; equity 0.39 + 0.15 =
    // 0.54 > 0.5; gross 0.89 + 0.15 = 1.04 > 1; position 0.15 ≤ 0.25; Europe 0.5 + 0.15 = 0.65 ≤ 0.7.
    // Resize: Technology needs |q − 1,000| × 100 ≤ 100,000 (q ≤ 2,000); equity and gross q ≤ 2,100.
    expect(await check(buy('SAP', 2500, 100), { resize: true })).toEqual({
      decision: 'resize',
      breaches: [
        { rule: 'assetClassCap', limit: 0.5, value: 0.54 },
        { rule: 'maxGrossLeverage', limit: 1, value: 1.04 },
        { rule: 'sectorCap', limit: 0.2, value: 0.34 },
      ],
      approvedQty: 2000,
    });
  });

  it('every quantity rule at once; resize takes the tightest (gross leverage: 100)', async () => {
    // buy 120,000 BUND at 100: notional 12,000,000; ADV 0.12; BUND 125,000 × 100 = 12.5 of nav;
    // gross 0.99 + 12 = 12.99; Europe 0.6 + 12 = 12.6; fixed income has no cap.
    const breaches = (weightLimit: number) => [
      { rule: 'maxGrossLeverage', limit: 1, value: 12.99 },
      { rule: 'maxOrderAdvFraction', limit: 0.1, value: 0.12 },
      { rule: 'maxOrderNotional', limit: 1_000_000, value: 12_000_000 },
      { rule: 'maxPositionWeight', limit: weightLimit, value: 12.5 },
      { rule: 'regionCap', limit: 0.7, value: 12.6 },
    ];
    // BUND (0.5) is already above the 0.25 weight limit: no buy of any size fits.
    expect(await check(buy('BUND', 120_000, 100), { resize: true })).toEqual({
      decision: 'reject',
      breaches: breaches(0.25),
      approvedQty: 0,
    });
    // With a 0.6 weight limit the bounds are: notional q ≤ 10,000; ADV q ≤ 100,000; weight
    // q ≤ 1,000; Europe q ≤ 1,000; gross q ≤ 100.
    const limits = { ...LIMITS, limits: { ...LIMITS.limits, maxPositionWeight: 0.6 } };
    expect(await check(buy('BUND', 120_000, 100), { resize: true, limits })).toEqual({
      decision: 'resize',
      breaches: breaches(0.6),
      approvedQty: 100,
    });
  });

  it('order-size rules compare the value itself (no "before"): a reducing order can breach them', async () => {
    // sell 4,000 BUND: position shrinks, but notional 400,000 ≤ 1,000,000 and ADV 0.004: approve.
    expect((await check(sell('BUND', 4000, 100))).decision).toBe('approve');
    // a tighter notional limit: 400,000 > 300,000 although the order only reduces exposure
    const limits = { ...LIMITS, limits: { ...LIMITS.limits, maxOrderNotional: 300_000 } };
    expect(await check(sell('BUND', 4000, 100), { limits, resize: true })).toEqual({
      decision: 'resize',
      breaches: [{ rule: 'maxOrderNotional', limit: 300_000, value: 400_000 }],
      approvedQty: 3000,
    });
  });

  it('priceCollarPct is |price − ref| / ref and never resizable; exactly 5% passes', async () => {
    // sell 10 AAPL at 180: |180 − 190| / 190 = 0.0526… > 0.05
    expect(await check(sell('AAPL', 10, 180), { resize: true })).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'priceCollarPct', limit: 0.05, value: 10 / 190 }],
      approvedQty: 0,
    });
    // 199.5: 9.5 / 190 = 0.05 exactly, not above the limit
    expect((await check(sell('AAPL', 10, 199.5))).decision).toBe('approve');
  });

  it('HALTED rejects everything with tradingState (value 0), even a reducing order with --resize', async () => {
    expect(await check(sell('AAPL', 1, 190), { state: 'HALTED', resize: true })).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'tradingState', limit: 0, value: 0 }],
      approvedQty: 0,
    });
  });

  it('REDUCING rejects an order that increases |position| and approves one that reduces it', async () => {
    expect(await check(buy('XOM', 1, 100), { state: 'REDUCING' })).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'tradingState', limit: 0, value: 0 }],
      approvedQty: 0,
    });
    expect(await check(buy('SAP', 10, 100), { state: 'REDUCING' })).toEqual({
      decision: 'approve', // covering part of the short reduces |position|
      breaches: [],
      approvedQty: 10,
    });
  });

  it('an absent limit is not checked', async () => {
    const limits = { securities: { AAPL: {} }, limits: {} };
    expect(await check(buy('AAPL', 9_000_000, 500), { limits })).toEqual({
      decision: 'approve',
      breaches: [],
      approvedQty: 9_000_000,
    });
  });
});

describe('quant risk check: VaR budget with --returns', () => {
  it('parametric VaR of the order from a returns window; resize to the budget', async () => {
    // returns ±1%: mean 0, sample variance 4 × 0.0001 / 3, σ = 0.011547; VaR of e = 100 q is
    // Z99 × σ × 100 q; a 2% budget of 1,000,000 allows q ≤ 20,000 / (Z99 × σ × 100) = 7,445.3.
    const sigma = Math.sqrt(0.0004 / 3);
    const limits = { securities: { A: {} }, limits: { varBudget: 0.02, varMethod: 'parametric' } };
    const returns = { A: [0.01, -0.01, 0.01, -0.01] };
    const r = await check(buy('A', 10_000, 100), { limits, returns, resize: true });
    expect(r.decision).toBe('resize');
    expect(r.approvedQty).toBe(7445);
    expect(r.breaches).toHaveLength(1);
    expect(r.breaches[0].rule).toBe('varBudget');
    expect(r.breaches[0].value).toBeCloseTo((2.3263478740408408 * sigma * 1_000_000) / 1_000_000, 12);
  });
});

describe('quant risk check: the real binary', () => {
  const bin = path.resolve(import.meta.dirname, '../../../bin/quant.js');
  const run = (order: unknown, portfolioValue: unknown = portfolio()) =>
    spawnSync(
      process.execPath,
      [
        bin,
        'risk',
        'check',
        '--limits',
        file('limits.json', LIMITS),
        '--portfolio',
        file('portfolio.json', portfolioValue),
        '--order',
        file('order.json', order),
        '--resize',
        '--json',
      ],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );

  it('prints the decision JSON on stdout and exits 0', () => {
    const r = run(buy('XOM', 200, 100));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'resize', approvedQty: 100 });
  });

  it('a VaR budget without --returns cannot be checked: exit 2 naming the limit', () => {
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'risk',
        'check',
        '--limits',
        file('limits.json', { securities: { A: {} }, limits: { varBudget: 0.02 } }),
        '--portfolio',
        file('portfolio.json', portfolio()),
        '--order',
        file('order.json', buy('A', 1, 1)),
        '--json',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/limits\.json: limits\.varBudget: needs --returns/);
  });

  it('malformed input: exit code 2, nothing on stdout, the file and the field on stderr', () => {
    const noPrice = run({ symbol: 'AAPL', side: 'buy', qty: 10 });
    expect(noPrice.status).toBe(2);
    expect(noPrice.stdout).toBe('');
    expect(noPrice.stderr).toMatch(/order\.json: price: /);
    const badPosition = run(buy('AAPL', 1, 190), {
      nav: 1_000_000,
      state: 'ACTIVE',
      positions: [{ symbol: 'AAPL', qty: 10, price: -1 }],
    });
    expect(badPosition.status).toBe(2);
    expect(badPosition.stderr).toMatch(/portfolio\.json: positions\.0\.price: must be greater than 0/);
  });
});
