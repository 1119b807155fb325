import { describe, expect, it } from 'vitest';
import {
  almgrenChrissKappa,
  almgrenChrissTrajectory,
  algoSpecSchema,
  isSchedule,
  planChildren,
  twapSchedule,
} from '../../../src/trading/algos';
import {
  calibrateCosts,
  computeTca,
  summarizeTca,
  type TcaInput,
  type TcaRow,
} from '../../../src/trading/tca';
import { panelTape } from '../../../src/trading/tca-lake';

describe('implementation shortfall (Almgren-Chriss)', () => {
  it('follows the closed form x_j = X sinh(κT(1 - j/N)) / sinh(κT)', () => {
    // κT = 2 ln 2: sinh(2 ln 2) = (4 - 1/4) / 2 = 1.875, sinh(ln 2) = (2 - 1/2) / 2 = 0.75, so
    // x_1 = 1000 * 0.75 / 1.875 = 400: trade 600 then 400.
    const x = almgrenChrissTrajectory(1000, 2, 2 * Math.LN2);
    expect(x[0]).toBe(1000);
    expect(x[1]).toBeCloseTo(400, 10);
    expect(x[2]).toBe(0);
    expect(isSchedule(1000, 0, 3_600_000, 2, 2 * Math.LN2)).toEqual([
      { time: 0, qty: 600 },
      { time: 1_800_000, qty: 400 },
    ]);
  });

  it('derives κ from risk aversion, volatility and impact by the discrete relation', () => {
    // (2/τ²)(cosh κτ - 1) = λσ²/η. λ = 8, σ = 0.5, η = 1: κ̃² = 2; τ = 0.5 day gives
    // cosh κτ = 1 + 2 * 0.25 / 2 = 1.25, κτ = ln 2, κ = 2 ln 2 per day; over one day κT = 2 ln 2.
    expect(almgrenChrissKappa({ riskAversion: 8, sigma: 0.5, eta: 1, tau: 0.5 })).toBeCloseTo(
      2 * Math.LN2,
      12,
    );
    const spec = algoSpecSchema.parse({
      algo: 'is',
      durationSec: 23_400,
      slices: 2,
      riskAversion: 8,
      volatility: 0.5,
      impact: 1,
    });
    expect(planChildren(1000, spec, 0).children).toEqual([
      { time: 0, qty: 600 },
      { time: 11_700_000, qty: 400 },
    ]);
  });

  it('the trajectory solves the discrete Euler-Lagrange equation of the mean-variance problem', () => {
    // Optimality of E + λV: (x_{j-1} - 2x_j + x_{j+1}) / τ² = κ̃² x_j at every inner point.
    const N = 10;
    const tau = 0.1;
    const k2 = 30;
    const kappa = almgrenChrissKappa({ riskAversion: k2, sigma: 1, eta: 1, tau });
    const x = almgrenChrissTrajectory(1, N, kappa * N * tau);
    for (let j = 1; j < N; j++) expect((x[j - 1] - 2 * x[j] + x[j + 1]) / tau ** 2).toBeCloseTo(k2 * x[j], 9);
  });

  it('is TWAP at urgency 0, front-loaded above it, and validates its spec', () => {
    expect(isSchedule(1001, 0, 4000, 4, 0)).toEqual(twapSchedule(1001, 0, 4000, 4));
    const q = isSchedule(1000, 0, 4000, 4, 3).map((c) => c.qty);
    expect(q.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(q[0]).toBeGreaterThan(q[1]);
    expect(q[1]).toBeGreaterThan(q[2]);
    const bad = algoSpecSchema.parse({ algo: 'is', durationSec: 60, slices: 2, urgency: 1, riskAversion: 1 });
    expect(() => planChildren(10, bad, 0)).toThrow(/algo.urgency: give urgency or/);
    const none = algoSpecSchema.parse({ algo: 'is', durationSec: 60, slices: 2 });
    expect(() => planChildren(10, none, 0)).toThrow(/algo.urgency: needs urgency/);
    expect(algoSpecSchema.safeParse({ algo: 'is', durationSec: 60, slices: 2, urgency: 51 }).success).toBe(
      false,
    );
  });
});

const BUY: TcaInput = {
  parentId: 'p1',
  account: 'acct',
  strategy: 's',
  symbol: 'ZZ',
  side: 'buy',
  algo: 'is',
  qty: 1000,
  decisionTime: 0,
  decisionPrice: 100,
  children: [
    { time: 1000, market: 101, filledQty: 400, fillPrice: 101.2 },
    { time: 2000, market: 102, filledQty: 400, fillPrice: 102.1 },
    { time: 3000, market: 103, filledQty: 0, fillPrice: 0 },
  ],
  endPrice: 103,
  interval: { vwap: 101.5, twap: 101.8, volume: 8000 },
};

describe('transaction cost analysis', () => {
  it('splits the shortfall into delay, timing, impact and opportunity (hand-computed)', () => {
    // Q = 800, Pa = 101, P̄f = 81,320 / 800 = 101.65, P̄m = 81,200 / 800 = 101.5, X·Pd = 100,000.
    const r = computeTca(BUY);
    expect(r.arrivalPrice).toBe(101);
    expect(r.avgFillPrice).toBeCloseTo(101.65, 12);
    expect(r.delayBps).toBeCloseTo(80, 9); // 800 * 1 / 100,000
    expect(r.timingBps).toBeCloseTo(40, 9); // 800 * 0.5 / 100,000
    expect(r.impactBps).toBeCloseTo(12, 9); // 120 / 100,000
    expect(r.opportunityBps).toBeCloseTo(60, 9); // 200 * 3 / 100,000
    expect(r.shortfallBps).toBeCloseTo(192, 9); // (81,320 - 80,000 + 600) / 100,000
    expect(r.vsVwapBps).toBeCloseTo((0.15 / 101.5) * 1e4, 9); // 14.778 bps
    expect(r.vsIntervalBps).toBeCloseTo((-0.15 / 101.8) * 1e4, 9); // -14.735 bps
    expect(r.participation).toBe(0.1);
    expect(r.filledQty).toBe(800);
    expect(r.children).toBe(3);
  });

  it('a sell gains from a rising market: the signs flip', () => {
    const r = computeTca({ ...BUY, side: 'sell' });
    expect(r.delayBps).toBeCloseTo(-80, 9);
    expect(r.impactBps).toBeCloseTo(-12, 9);
    expect(r.shortfallBps).toBeCloseTo(-192, 9);
  });

  it('summarises by decision notional and calibrates the cost model', () => {
    const row = (qty: number, adv: number, impactBps: number): TcaRow => ({
      ...computeTca({ ...BUY, qty, children: [{ time: 0, market: 100, filledQty: qty, fillPrice: 100 }] }),
      impactBps,
      sigma: 0.01,
      adv,
    });
    // x = σ·√(q/ADV)·10⁴: 10, 20 and 5 bps; impact = 5 + 0.5·x exactly.
    const rows = [row(100, 10_000, 10), row(400, 10_000, 15), row(25, 10_000, 7.5)];
    const fit = calibrateCosts(rows);
    expect(fit.slippageBps).toBeCloseTo(5, 9);
    expect(fit.impactK).toBeCloseTo(0.5, 9);
    expect(fit.rows).toBe(3);
    // A negative slope is not a cost: k = 0 and a the weighted mean.
    const flat = calibrateCosts([row(100, 10_000, 10), row(400, 10_000, 4)]);
    expect(flat.impactK).toBe(0);
    expect(flat.slippageBps).toBeCloseTo((100 * 10 + 400 * 4) / 500, 9);
    const s = summarizeTca([
      computeTca(BUY),
      computeTca({ ...BUY, parentId: 'p2', qty: 3000, decisionPrice: 100 }),
    ]);
    expect(s.parents).toBe(2);
    expect(s.notional).toBe(400_000);
  });

  it('a paper tape prices an interval between two daily bars at the bar it starts in', async () => {
    const tape = panelTape({
      symbols: ['ZZ'],
      dates: ['2026-01-05', '2026-01-06'],
      close: [Float64Array.from([100, 110])],
      volume: [Float64Array.from([5000, 7000])],
    });
    const t0 = Date.UTC(2026, 0, 5);
    expect(await tape.priceAt('ZZ', t0 + 3_600_000)).toBe(100);
    expect(await tape.interval('ZZ', t0, t0 + 3_600_000)).toEqual({ vwap: 100, twap: 100, volume: 5000 });
    expect(await tape.priceAt('ZZ', t0 - 1)).toBeUndefined();
  });
});
