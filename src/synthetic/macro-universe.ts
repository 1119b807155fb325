/**
 * A seeded synthetic daily universe for the macro portfolio of the design: equities (US, developed,
 * emerging), bonds, gold, commodities, dollar and euro. Returns are correlated (a fixed correlation
 * matrix through its Cholesky factor) and switch between a calm and a stress volatility regime (a
 * two-state Markov chain shared by all assets, with correlations rising in stress), so strategies see
 * volatility clustering and crisis co-movement, not i.i.d. noise.
 */
import type { BarRows } from '../lake/bars';
import { cholesky, mulberry32, normals, weekdays } from './random';

export interface AssetSpec {
  readonly symbol: string;
  readonly description: string;
  readonly start: number;
  /** Annualized drift and volatility in the calm regime. */
  readonly drift: number;
  readonly vol: number;
  readonly avgVolume: number;
}

export const MACRO_ASSETS: readonly AssetSpec[] = [
  { symbol: 'SPY', description: 'US equities', start: 205, drift: 0.09, vol: 0.15, avgVolume: 8e7 },
  {
    symbol: 'EFA',
    description: 'Developed ex-US equities',
    start: 64,
    drift: 0.05,
    vol: 0.16,
    avgVolume: 2e7,
  },
  {
    symbol: 'EEM',
    description: 'Emerging-market equities',
    start: 40,
    drift: 0.04,
    vol: 0.2,
    avgVolume: 4e7,
  },
  { symbol: 'AGG', description: 'US aggregate bonds', start: 110, drift: 0.02, vol: 0.04, avgVolume: 6e6 },
  { symbol: 'TLT', description: 'US long treasuries', start: 125, drift: 0.02, vol: 0.13, avgVolume: 1e7 },
  { symbol: 'GLD', description: 'Gold', start: 115, drift: 0.05, vol: 0.14, avgVolume: 8e6 },
  { symbol: 'DBC', description: 'Commodities', start: 18, drift: 0.01, vol: 0.18, avgVolume: 2e6 },
  { symbol: 'UUP', description: 'US dollar index', start: 25, drift: 0.01, vol: 0.07, avgVolume: 2e6 },
  { symbol: 'FXE', description: 'Euro', start: 115, drift: -0.01, vol: 0.08, avgVolume: 5e5 },
];

// Calm-regime correlations in the order of MACRO_ASSETS.
const CALM: readonly (readonly number[])[] = [
  [1.0, 0.85, 0.75, -0.1, -0.3, 0.05, 0.35, -0.2, 0.15],
  [0.85, 1.0, 0.8, -0.05, -0.25, 0.1, 0.4, -0.4, 0.45],
  [0.75, 0.8, 1.0, -0.05, -0.25, 0.15, 0.45, -0.35, 0.35],
  [-0.1, -0.05, -0.05, 1.0, 0.8, 0.25, -0.1, 0.0, 0.05],
  [-0.3, -0.25, -0.25, 0.8, 1.0, 0.3, -0.2, 0.05, 0.0],
  [0.05, 0.1, 0.15, 0.25, 0.3, 1.0, 0.3, -0.4, 0.4],
  [0.35, 0.4, 0.45, -0.1, -0.2, 0.3, 1.0, -0.3, 0.3],
  [-0.2, -0.4, -0.35, 0.0, 0.05, -0.4, -0.3, 1.0, -0.9],
  [0.15, 0.45, 0.35, 0.05, 0.0, 0.4, 0.3, -0.9, 1.0],
];

export interface UniverseOptions {
  /** @default 20260101 */
  readonly seed?: number;
  /** Trading days. @default 2520 (10 years) */
  readonly days?: number;
  /** First day (YYYY-MM-DD). @default 2015-01-02 */
  readonly start?: string;
}

/**
 * Hand-set correlations need not be positive definite: shrink towards the identity in small steps
 * until they are (the smallest change that makes the matrix usable).
 */
function choleskyShrunk(m: readonly (readonly number[])[]): number[][] {
  for (let lambda = 0; lambda < 1; lambda += 0.02) {
    try {
      return cholesky(m.map((row, i) => row.map((c, j) => (i === j ? 1 : (1 - lambda) * c))));
    } catch {
      // not yet positive definite
    }
  }
  throw new Error('correlation matrix cannot be made positive definite');
}

/** Daily OHLCV bars of every asset, deterministic for a seed. */
export function macroUniverse(opts: UniverseOptions = {}): BarRows {
  const seed = opts.seed ?? 20260101;
  const days = opts.days ?? 2520;
  const dates = weekdays(opts.start ?? '2015-01-02', days);
  const n = MACRO_ASSETS.length;
  // Stress: volatility x2.2 and correlations pulled 40% towards the equity-crisis pattern.
  const stressCorr = CALM.map((row, i) =>
    row.map((c, j) =>
      i === j ? 1 : c + 0.4 * (Math.sign(c || 1) * 0.9 - c) * (Math.abs(c) > 0.3 ? 1 : 0.3),
    ),
  );
  const lCalm = choleskyShrunk(CALM);
  const lStress = choleskyShrunk(stressCorr);
  const u = mulberry32(seed);
  const z = normals(u);
  const out: BarRows = { symbol: [], ts: [], open: [], high: [], low: [], close: [], volume: [] };
  const price = MACRO_ASSETS.map((a) => a.start);
  let stress = false;
  const eps = new Array<number>(n);
  const shock = new Array<number>(n);
  const rows: { open: number; high: number; low: number; close: number; volume: number }[][] =
    MACRO_ASSETS.map(() => []);
  for (let d = 0; d < days; d++) {
    // Regime persistence: calm lasts ~250 days on average, stress ~40.
    stress = stress ? u() > 1 / 40 : u() < 1 / 250;
    const l = stress ? lStress : lCalm;
    const volMult = stress ? 2.2 : 1;
    for (let i = 0; i < n; i++) eps[i] = z();
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += l[i][k] * eps[k];
      shock[i] = s;
    }
    for (let i = 0; i < n; i++) {
      const a = MACRO_ASSETS[i];
      const sigma = (a.vol * volMult) / Math.sqrt(252);
      const mu = a.drift / 252 - (stress ? 0.0008 * (a.vol > 0.1 ? 1 : 0) : 0);
      const r = mu - 0.5 * sigma * sigma + sigma * shock[i];
      const prev = price[i];
      const open = prev * Math.exp(0.15 * sigma * z());
      const close = prev * Math.exp(r);
      const range = Math.abs(z()) * 0.6 * sigma;
      const high = Math.max(open, close) * Math.exp(range * u());
      const low = Math.min(open, close) * Math.exp(-range * u());
      const volume = Math.round(a.avgVolume * Math.exp(0.3 * z() + (stress ? 0.5 : 0)));
      price[i] = close;
      rows[i].push({ open, high, low, close, volume });
    }
  }
  const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;
  MACRO_ASSETS.forEach((a, i) => {
    rows[i].forEach((b, d) => {
      out.symbol.push(a.symbol);
      out.ts.push(dates[d]);
      out.open.push(r6(b.open));
      out.high.push(r6(b.high));
      out.low.push(r6(b.low));
      out.close.push(r6(b.close));
      out.volume.push(b.volume);
    });
  });
  return out;
}
