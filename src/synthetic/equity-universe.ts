/**
 * A seeded synthetic equity cross-section for the multi-factor strategies: N stocks in GICS-like
 * sectors with betas, a market and sector factors, and fundamentals published quarterly with a
 * 45-day reporting lag (book-to-price, earnings yield, return on equity, debt to equity). Expected
 * returns carry the premia the factors are meant to find, with realistic sizes: value and quality
 * pay a few percent a year, expected returns drift slowly (so past winners keep winning for a
 * while: momentum), and high idiosyncratic volatility pays less (the low-volatility anomaly).
 */
import type { Panel } from '../backtest/types';
import { mulberry32, normals, weekdays } from './random';

export const SECTORS: readonly string[] = [
  'Energy',
  'Materials',
  'Industrials',
  'ConsumerDiscretionary',
  'ConsumerStaples',
  'HealthCare',
  'Financials',
  'InformationTechnology',
  'CommunicationServices',
  'Utilities',
  'RealEstate',
];

export const FUNDAMENTAL_FIELDS = ['bookToPrice', 'earningsYield', 'roe', 'debtToEquity'] as const;

export interface EquityUniverseOptions {
  /** @default 20260105 */
  readonly seed?: number;
  /** @default 500 */
  readonly assets?: number;
  /** @default 2520 */
  readonly days?: number;
  /** @default 2015-01-02 */
  readonly start?: string;
}

/** Daily closes and volumes, `aux.labels.sector`, and the fundamentals as point-in-time fields. */
export function equityUniverse(opts: EquityUniverseOptions = {}): Panel {
  const k = opts.assets ?? 500;
  const n = opts.days ?? 2520;
  const u = mulberry32(opts.seed ?? 20260105);
  const z = normals(u);
  const dates = weekdays(opts.start ?? '2015-01-02', n).map((ms) => new Date(ms).toISOString().slice(0, 10));
  const dt = 1 / 252;
  const sector = Array.from({ length: k }, (_, a) => SECTORS[a % SECTORS.length]);
  const sectorIdx = Array.from({ length: k }, (_, a) => a % SECTORS.length);
  const beta = Float64Array.from({ length: k }, () => 0.6 + 0.8 * u());
  const idioVol = Float64Array.from({ length: k }, () => 0.15 + 0.3 * u());
  // Latent characteristics (standardised): value and quality are persistent, the drift wanders.
  const value = Float64Array.from({ length: k }, () => z());
  const quality = Float64Array.from({ length: k }, () => z());
  const drift = Float64Array.from({ length: k }, () => 0.03 * z());
  const close = Array.from({ length: k }, () => new Float64Array(n));
  const volume = Array.from({ length: k }, () => new Float64Array(n));
  const fields = Object.fromEntries(
    FUNDAMENTAL_FIELDS.map((f) => [f, Array.from({ length: k }, () => new Float64Array(n).fill(NaN))]),
  ) as Record<(typeof FUNDAMENTAL_FIELDS)[number], Float64Array[]>;
  const price = Float64Array.from({ length: k }, () => 20 + 80 * u());
  const sectorRet = new Float64Array(SECTORS.length);
  // Fundamentals measured at quarter ends (every 63 days) and published 45 days (31 bars) later.
  const pending: { at: number; a: number; vals: number[] }[] = [];
  const published = Array.from({ length: k }, () => [NaN, NaN, NaN, NaN]);
  for (let t = 0; t < n; t++) {
    const mkt = 0.06 * dt + 0.16 * Math.sqrt(dt) * z();
    for (let s = 0; s < SECTORS.length; s++) sectorRet[s] = 0.08 * Math.sqrt(dt) * z();
    for (let a = 0; a < k; a++) {
      if (t > 0) {
        value[a] = 0.999 * value[a] + Math.sqrt(1 - 0.999 ** 2) * z();
        quality[a] = 0.9995 * quality[a] + Math.sqrt(1 - 0.9995 ** 2) * z();
        drift[a] = 0.995 * drift[a] + Math.sqrt(1 - 0.995 ** 2) * 0.1 * z();
        const mu = 0.02 * value[a] + 0.02 * quality[a] + drift[a] - 0.1 * (idioVol[a] - 0.3);
        const sigma = idioVol[a] * Math.sqrt(dt);
        const r = beta[a] * mkt + sectorRet[sectorIdx[a]] + mu * dt + sigma * z() - 0.5 * sigma * sigma;
        price[a] *= Math.exp(r);
      }
      close[a][t] = Math.round(price[a] * 1e4) / 1e4;
      volume[a][t] = Math.round(1e6 * Math.exp(0.5 * z()));
      if (t % 63 === 0) {
        pending.push({
          at: t + 31,
          a,
          vals: [
            Math.exp(-0.7 + 0.5 * value[a] + 0.1 * z()),
            0.06 + 0.03 * value[a] + 0.01 * z(),
            0.12 + 0.06 * quality[a] + 0.02 * z(),
            Math.exp(-0.3 - 0.4 * quality[a] + 0.2 * z()),
          ],
        });
      }
    }
    while (pending.length > 0 && pending[0].at <= t) {
      const p = pending.shift()!;
      published[p.a] = p.vals.map((v) => Math.round(v * 1e6) / 1e6);
    }
    for (let a = 0; a < k; a++) {
      FUNDAMENTAL_FIELDS.forEach((f, i) => (fields[f][a][t] = published[a][i]));
    }
  }
  return {
    symbols: Array.from({ length: k }, (_, a) => `EQ${String(a + 1).padStart(4, '0')}`),
    dates,
    close,
    volume,
    aux: { fields, labels: { sector } },
  };
}
