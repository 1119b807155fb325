/**
 * Seeded synthetic data for the carry strategies, next to the macro universe (macro-universe.ts):
 * currency pairs with the short rates of both currencies, commodity futures with their curves
 * (front and next contract), and constant-maturity government bonds with the yield curve they are
 * priced from. Carry is paid, but only in part (uncovered interest parity holds for a quarter of
 * the differential, the futures basis for half), and carry trades crash together in the stress
 * regime, as they do in the data.
 * Each generator returns a Panel with its side data (Panel.aux) in the shape the loaders
 * (src/backtest/aux-load.ts) read from files.
 */
import type { Panel } from '../backtest/types';
import { mulberry32, normals, weekdays } from './random';

export interface CarryDataOptions {
  /** @default 20260102 */
  readonly seed?: number;
  /** Trading days. @default 2520 */
  readonly days?: number;
  /** @default 2015-01-02 */
  readonly start?: string;
}

const DT = 1 / 252;

function isoDates(start: string, days: number): string[] {
  return weekdays(start, days).map((ms) => new Date(ms).toISOString().slice(0, 10));
}

/** A two-state regime path (calm ~250 days, stress ~40 days), shared by an asset class. */
function regimes(u: () => number, days: number): Uint8Array {
  const out = new Uint8Array(days);
  let stress = false;
  for (let d = 0; d < days; d++) {
    stress = stress ? u() > 1 / 40 : u() < 1 / 250;
    out[d] = stress ? 1 : 0;
  }
  return out;
}

/** Long-run short rate, its daily-shock volatility (annual) and FX spot volatility per currency. */
export const CURRENCIES: ReadonlyArray<{ ccy: string; rate: number; fxVol: number }> = [
  { ccy: 'USD', rate: 0.025, fxVol: 0 },
  { ccy: 'EUR', rate: 0.012, fxVol: 0.08 },
  { ccy: 'JPY', rate: 0.001, fxVol: 0.1 },
  { ccy: 'GBP', rate: 0.025, fxVol: 0.09 },
  { ccy: 'CHF', rate: 0.003, fxVol: 0.08 },
  { ccy: 'AUD', rate: 0.035, fxVol: 0.11 },
  { ccy: 'NZD', rate: 0.038, fxVol: 0.12 },
  { ccy: 'CAD', rate: 0.026, fxVol: 0.08 },
  { ccy: 'NOK', rate: 0.028, fxVol: 0.11 },
  { ccy: 'SEK', rate: 0.012, fxVol: 0.1 },
];

/**
 * Currency pairs XXXUSD (USD per unit of XXX) as total-return indices of holding XXX funded in
 * USD (spot change plus the rate differential), and each currency's short rate. Rates are
 * mean-reverting (Ornstein-Uhlenbeck); spot drifts against the differential by a quarter of it, so
 * carry earns about three quarters of it; in stress high-yielders fall and funders rally.
 */
export function fxCarryData(opts: CarryDataOptions = {}): Panel {
  const days = opts.days ?? 2520;
  const u = mulberry32(opts.seed ?? 20260102);
  const z = normals(u);
  const dates = isoDates(opts.start ?? '2015-01-02', days);
  const reg = regimes(u, days);
  const rates: Record<string, Float64Array> = {};
  for (const c of CURRENCIES) {
    const r = new Float64Array(days);
    let x = c.rate + 0.005 * z();
    for (let d = 0; d < days; d++) {
      x += 0.5 * (c.rate - x) * DT + 0.006 * Math.sqrt(DT) * z();
      x = Math.max(-0.0075, x);
      r[d] = Math.round(x * 1e6) / 1e6;
    }
    rates[c.ccy] = r;
  }
  const pairs = CURRENCIES.filter((c) => c.ccy !== 'USD');
  const usd = rates.USD;
  const close = pairs.map(() => new Float64Array(days));
  const level = pairs.map(() => 100);
  const dollar = new Float64Array(days);
  for (let d = 0; d < days; d++) dollar[d] = z();
  pairs.forEach((c, i) => {
    for (let d = 0; d < days; d++) {
      if (d > 0) {
        const diff = rates[c.ccy][d - 1] - usd[d - 1];
        const stress = reg[d] === 1;
        // Risk-off: high-yield currencies fall, low-yield (funding) currencies rise.
        const crash = stress ? -0.6 * diff : 0;
        const sigma = c.fxVol * (stress ? 1.8 : 1) * Math.sqrt(DT);
        const spot = -0.25 * diff * DT + crash * DT * 10 + sigma * (0.5 * dollar[d] + Math.sqrt(0.75) * z());
        level[i] *= Math.exp(spot - 0.5 * sigma * sigma) * (1 + diff * DT);
      }
      close[i][d] = Math.round(level[i] * 1e6) / 1e6;
    }
  });
  return { symbols: pairs.map((c) => `${c.ccy}USD`), dates, close, aux: { rates } };
}

export const COMMODITIES: ReadonlyArray<{ symbol: string; basis: number; vol: number }> = [
  { symbol: 'CL', basis: 0.004, vol: 0.32 },
  { symbol: 'NG', basis: -0.03, vol: 0.45 },
  { symbol: 'HO', basis: 0.003, vol: 0.3 },
  { symbol: 'GC', basis: -0.003, vol: 0.15 },
  { symbol: 'SI', basis: -0.004, vol: 0.25 },
  { symbol: 'HG', basis: 0.002, vol: 0.22 },
  { symbol: 'ZC', basis: -0.012, vol: 0.24 },
  { symbol: 'ZW', basis: -0.015, vol: 0.27 },
  { symbol: 'ZS', basis: -0.004, vol: 0.2 },
  { symbol: 'KC', basis: -0.008, vol: 0.3 },
  { symbol: 'SB', basis: 0.001, vol: 0.3 },
  { symbol: 'LC', basis: 0.005, vol: 0.15 },
];

/**
 * Commodity futures: the close is the total-return index of holding the front contract and
 * rolling it; fields `front`, `next` (contract prices) and `days` (days between their expiries,
 * 30). The log basis ln(front/next) is mean-reverting around each commodity's normal shape
 * (backwardation > 0, contango < 0); half of the roll yield it implies is earned.
 */
export function commodityCarryData(opts: CarryDataOptions = {}): Panel {
  const days = opts.days ?? 2520;
  const u = mulberry32(opts.seed ?? 20260103);
  const z = normals(u);
  const dates = isoDates(opts.start ?? '2015-01-02', days);
  const reg = regimes(u, days);
  const k = COMMODITIES.length;
  const close = COMMODITIES.map(() => new Float64Array(days));
  const front = COMMODITIES.map(() => new Float64Array(days));
  const next = COMMODITIES.map(() => new Float64Array(days));
  const gap = COMMODITIES.map(() => new Float64Array(days).fill(30));
  const common = new Float64Array(days);
  for (let d = 0; d < days; d++) common[d] = z();
  for (let a = 0; a < k; a++) {
    const c = COMMODITIES[a];
    let basis = c.basis;
    let spot = 50 + 50 * u();
    let idx = 100;
    for (let d = 0; d < days; d++) {
      if (d > 0) {
        basis += 3 * (c.basis - basis) * DT + 0.03 * Math.sqrt(DT) * z();
        const roll = (basis * 365) / 30;
        const sigma = c.vol * (reg[d] ? 1.6 : 1) * Math.sqrt(DT);
        const r = 0.5 * roll * DT + sigma * (0.4 * common[d] + Math.sqrt(0.84) * z()) - 0.5 * sigma * sigma;
        idx *= Math.exp(r);
        spot *= Math.exp(r - 0.5 * roll * DT);
      }
      close[a][d] = Math.round(idx * 1e6) / 1e6;
      front[a][d] = Math.round(spot * 1e4) / 1e4;
      next[a][d] = Math.round(spot * Math.exp(-basis) * 1e4) / 1e4;
    }
  }
  return {
    symbols: COMMODITIES.map((c) => c.symbol),
    dates,
    close,
    aux: { fields: { front, next, days: gap } },
  };
}

export const CURVE_TENORS: readonly number[] = [0.25, 0.5, 1, 2, 3, 5, 7, 10, 20, 30];
export const BONDS: ReadonlyArray<{ symbol: string; maturity: number }> = [
  { symbol: 'UST2Y', maturity: 2 },
  { symbol: 'UST3Y', maturity: 3 },
  { symbol: 'UST5Y', maturity: 5 },
  { symbol: 'UST7Y', maturity: 7 },
  { symbol: 'UST10Y', maturity: 10 },
  { symbol: 'UST20Y', maturity: 20 },
  { symbol: 'UST30Y', maturity: 30 },
];

/** Nelson-Siegel yield for maturity m (years) with decay 1.5 years. */
export function nelsonSiegel(level: number, slope: number, curve: number, m: number): number {
  const x = m / 1.5;
  const f = (1 - Math.exp(-x)) / x;
  return level + slope * f + curve * (f - Math.exp(-x));
}

/**
 * Government bonds: constant-maturity zero-coupon total-return indices priced off a Nelson-Siegel
 * curve whose level, slope and curvature are mean-reverting; `aux.curve` holds the curve at
 * CURVE_TENORS and `aux.rates.USD` the 3-month yield. Each day's return is exactly that of buying
 * the m-year zero yesterday and selling it (now m - 1/252 years) today, so carry and roll-down
 * are in the prices.
 */
export function bondCarryData(opts: CarryDataOptions = {}): Panel {
  const days = opts.days ?? 2520;
  const u = mulberry32(opts.seed ?? 20260104);
  const z = normals(u);
  const dates = isoDates(opts.start ?? '2015-01-02', days);
  let level = 0.035;
  let slope = -0.015;
  let curv = 0.005;
  const yields = CURVE_TENORS.map(() => new Float64Array(days));
  const close = BONDS.map(() => new Float64Array(days));
  const idx = BONDS.map(() => 100);
  const prev = { level, slope, curv };
  for (let d = 0; d < days; d++) {
    if (d > 0) {
      prev.level = level;
      prev.slope = slope;
      prev.curv = curv;
      level += 0.3 * (0.035 - level) * DT + 0.008 * Math.sqrt(DT) * z();
      slope += 0.6 * (-0.015 - slope) * DT + 0.01 * Math.sqrt(DT) * z();
      curv += 0.8 * (0.005 - curv) * DT + 0.012 * Math.sqrt(DT) * z();
      BONDS.forEach((b, i) => {
        const m = b.maturity;
        const bought = m * nelsonSiegel(prev.level, prev.slope, prev.curv, m);
        const sold = (m - DT) * nelsonSiegel(level, slope, curv, m - DT);
        idx[i] *= Math.exp(bought - sold);
      });
    }
    CURVE_TENORS.forEach(
      (m, j) => (yields[j][d] = Math.round(nelsonSiegel(level, slope, curv, m) * 1e8) / 1e8),
    );
    BONDS.forEach((_, i) => (close[i][d] = Math.round(idx[i] * 1e6) / 1e6));
  }
  return {
    symbols: BONDS.map((b) => b.symbol),
    dates,
    close,
    aux: { curve: { tenors: CURVE_TENORS, yields }, rates: { USD: yields[0] } },
  };
}
