/**
 * `multi-factor`: equity factors on a cross-section. Every `rebalance` bars each stock gets a
 * composite score, the weighted sum of cross-sectional z-scores (winsorised at ±3):
 *   value     mean of z(bookToPrice) and z(earningsYield)         (fields from --data fields=)
 *   momentum  z of the return from `momLookback` to `momSkip` bars ago
 *   quality   mean of z(roe) and −z(debtToEquity)                  (fields)
 *   lowVol    −z of the sample stdev of the last `volWindow` returns
 * Stocks missing a used input are left out. Neutralisation: `sectorNeutral` demeans the score
 * within each sector (labels.sector); `betaNeutral` regresses it on each stock's beta (over
 * `betaWindow` returns against the equal-weighted universe) and keeps the residual, then scales
 * the short leg so the book's beta is zero. The book: long the top `quantile` at equal weight and
 * (short=true) short the bottom `quantile`, gross 1.
 * Factor timing (`timing=true`, factor momentum): a factor whose own quantile long-short book
 * lost money over the last `timingLookback` bars is switched off (all off: none is).
 */
import * as z from 'zod';
import { InputError } from '../../errors';
import { trailingVol } from '../sizing/estimate';
import type { Panel } from '../types';
import { onSchedule, requireField, zScores } from './cross-section';
import type { Strategy } from './types';

export const multiFactorSchema = z
  .object({
    value: z.number().min(0).max(100).default(1),
    momentum: z.number().min(0).max(100).default(1),
    quality: z.number().min(0).max(100).default(1),
    lowVol: z.number().min(0).max(100).default(1),
    momLookback: z.number().int().min(2).max(100_000).default(252),
    momSkip: z.number().int().min(0).max(100_000).default(21),
    volWindow: z.number().int().min(2).max(100_000).default(63),
    betaWindow: z.number().int().min(2).max(100_000).default(252),
    sectorNeutral: z.boolean().default(true),
    betaNeutral: z.boolean().default(false),
    timing: z.boolean().default(false),
    timingLookback: z.number().int().min(1).max(100_000).default(252),
    quantile: z.number().gt(0).max(0.5).default(0.2),
    short: z.boolean().default(true),
    rebalance: z.number().int().min(1).max(100_000).default(21),
  })
  .strict()
  .refine((p) => p.momSkip < p.momLookback, {
    message: 'momSkip must be smaller than momLookback',
    path: ['momSkip'],
  })
  .refine((p) => p.value + p.momentum + p.quality + p.lowVol > 0, {
    message: 'at least one factor weight must be > 0',
    path: ['value'],
  });
export type MultiFactorParams = z.infer<typeof multiFactorSchema>;

export const FACTORS = ['value', 'momentum', 'quality', 'lowVol'] as const;
type Factor = (typeof FACTORS)[number];

/** Mean of two z-score vectors where both are finite (NaN otherwise). */
function avg2(x: Float64Array, y: Float64Array, signY: number): Float64Array {
  return Float64Array.from(x, (v, i) => (v + signY * y[i]) / 2);
}

function column(f: readonly Float64Array[], t: number): Float64Array {
  return Float64Array.from(f, (c) => c[t]);
}

/** Each stock's beta against the equal-weighted universe over the `window` returns ending at t. */
export function betas(close: readonly Float64Array[], t: number, window: number): Float64Array {
  const k = close.length;
  const mkt = new Float64Array(window);
  for (let s = 0; s < window; s++) {
    const u = t - window + 1 + s;
    let m = 0;
    for (let a = 0; a < k; a++) m += close[a][u] / close[a][u - 1] - 1;
    mkt[s] = m / k;
  }
  let mm = 0;
  for (let s = 0; s < window; s++) mm += mkt[s];
  mm /= window;
  let vm = 0;
  for (let s = 0; s < window; s++) vm += (mkt[s] - mm) ** 2;
  const out = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    let ra = 0;
    let cov = 0;
    for (let s = 0; s < window; s++) {
      const u = t - window + 1 + s;
      ra += close[a][u] / close[a][u - 1] - 1;
    }
    ra /= window;
    for (let s = 0; s < window; s++) {
      const u = t - window + 1 + s;
      cov += (close[a][u] / close[a][u - 1] - 1 - ra) * (mkt[s] - mm);
    }
    out[a] = vm > 0 ? cov / vm : 0;
  }
  return out;
}

/** Demeans x within each group (NaN entries ignored and kept). */
export function demeanBy(x: Float64Array, group: readonly string[]): Float64Array {
  const sum = new Map<string, [number, number]>();
  x.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    const s = sum.get(group[i]) ?? [0, 0];
    s[0] += v;
    s[1]++;
    sum.set(group[i], s);
  });
  return Float64Array.from(x, (v, i) => {
    if (!Number.isFinite(v)) return v;
    const [s, m] = sum.get(group[i])!;
    return v - s / m;
  });
}

/** Residual of x regressed on b with an intercept (over the entries where x is finite). */
export function residualOn(x: Float64Array, b: Float64Array): Float64Array {
  let m = 0;
  let sx = 0;
  let sb = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) {
      m++;
      sx += x[i];
      sb += b[i];
    }
  }
  if (m < 2) return x;
  const mx = sx / m;
  const mb = sb / m;
  let cxb = 0;
  let vb = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) {
      cxb += (x[i] - mx) * (b[i] - mb);
      vb += (b[i] - mb) ** 2;
    }
  }
  const slope = vb > 0 ? cxb / vb : 0;
  return Float64Array.from(x, (v, i) => (Number.isFinite(v) ? v - mx - slope * (b[i] - mb) : v));
}

/** Equal-weight quantile book from a score: top long, bottom short (gross 1 with short). */
export function quantileBook(score: Float64Array, quantile: number, short: boolean): Float64Array {
  const idx: number[] = [];
  for (let a = 0; a < score.length; a++) if (Number.isFinite(score[a])) idx.push(a);
  idx.sort((i, j) => score[j] - score[i] || i - j);
  const w = new Float64Array(score.length);
  const q = Math.floor(idx.length * quantile);
  if (q === 0) return w;
  for (let r = 0; r < q; r++) {
    w[idx[r]] = short ? 0.5 / q : 1 / q;
    if (short) w[idx[idx.length - 1 - r]] = -0.5 / q;
  }
  return w;
}

export function multiFactorPositions(panel: Panel, p: MultiFactorParams): Float64Array[] {
  const k = panel.symbols.length;
  const n = panel.dates.length;
  const why = 'multi-factor';
  const f =
    p.value > 0
      ? { bp: requireField(panel, 'bookToPrice', why), ey: requireField(panel, 'earningsYield', why) }
      : undefined;
  const q =
    p.quality > 0
      ? { roe: requireField(panel, 'roe', why), de: requireField(panel, 'debtToEquity', why) }
      : undefined;
  const sector = p.sectorNeutral ? panel.aux?.labels?.sector : undefined;
  if (p.sectorNeutral && !sector) {
    throw new InputError(
      'data.labels.sector: sectorNeutral needs a sector per symbol (--data labels=FILE with symbol,sector, or set sectorNeutral=false)',
      'data.labels.sector',
    );
  }
  const w = panel.symbols.map(() => new Float64Array(n));
  const start = Math.max(p.momLookback, p.volWindow, p.betaNeutral ? p.betaWindow : 0);
  // Factor timing: each factor's own quantile book from the previous rebalance and its realised
  // returns per rebalance period (from closes up to now only).
  const factorBook: Partial<Record<Factor, Float64Array>> = {};
  const factorHist = {} as Record<Factor, { t: number; r: number }[]>;
  for (const x of FACTORS) factorHist[x] = [];
  let lastRebalance = -1;
  onSchedule(w, start, n, p.rebalance, (t) => {
    const z: Partial<Record<Factor, Float64Array>> = {};
    if (f) z.value = avg2(zScores(column(f.bp, t)), zScores(column(f.ey, t)), 1);
    if (q) z.quality = avg2(zScores(column(q.roe, t)), zScores(column(q.de, t)), -1);
    if (p.momentum > 0)
      z.momentum = zScores(
        Float64Array.from(panel.close, (c) => c[t - p.momSkip] / c[t - p.momLookback] - 1),
      );
    if (p.lowVol > 0)
      z.lowVol = zScores(Float64Array.from(panel.close, (c) => -trailingVol(c, t, p.volWindow)));
    const used = FACTORS.filter((x) => p[x] > 0);
    let active = used;
    if (p.timing) {
      if (lastRebalance >= 0) {
        for (const x of used) {
          const book = factorBook[x]!;
          let r = 0;
          for (let a = 0; a < k; a++)
            if (book[a] !== 0) r += book[a] * (panel.close[a][t] / panel.close[a][lastRebalance] - 1);
          factorHist[x].push({ t, r });
        }
      }
      for (const x of used) factorBook[x] = quantileBook(z[x]!, p.quantile, true);
      const on = used.filter((x) => {
        const past = factorHist[x].filter((h) => h.t > t - p.timingLookback);
        return past.length === 0 || past.reduce((s, h) => s + h.r, 0) > 0;
      });
      if (on.length > 0) active = on;
    }
    lastRebalance = t;
    let score: Float64Array = new Float64Array(k);
    for (const x of active) {
      const zx = z[x]!;
      for (let a = 0; a < k; a++) score[a] += p[x] * zx[a];
    }
    if (sector) score = demeanBy(score, sector);
    const beta = p.betaNeutral ? betas(panel.close, t, p.betaWindow) : undefined;
    if (beta) score = residualOn(score, beta);
    const book = quantileBook(score, p.quantile, p.short);
    if (beta && p.short) {
      // Scale the short leg so that Σ w·β = 0.
      let bl = 0;
      let bs = 0;
      for (let a = 0; a < k; a++) {
        if (book[a] > 0) bl += book[a] * beta[a];
        else if (book[a] < 0) bs += book[a] * beta[a];
      }
      if (bs < 0 && bl > 0) for (let a = 0; a < k; a++) if (book[a] < 0) book[a] *= bl / -bs;
    }
    for (let a = 0; a < k; a++) w[a][t] = book[a];
  });
  return w;
}

export const multiFactor: Strategy<MultiFactorParams> = {
  name: 'multi-factor',
  description: 'Multi-factor equity: value, momentum, quality and low volatility, sector/beta neutral',
  kind: 'multi',
  minSymbols: 4,
  maxSymbols: 100_000,
  paramDocs: {
    value: 'weight of value: book-to-price and earnings yield (>= 0, default 1)',
    momentum: 'weight of momentum (>= 0, default 1)',
    quality: 'weight of quality: return on equity and low debt to equity (>= 0, default 1)',
    lowVol: 'weight of low volatility (>= 0, default 1)',
    momLookback: 'bars back to the start of the momentum return (default 252)',
    momSkip: 'most recent bars left out of momentum (default 21)',
    volWindow: 'returns in the volatility estimate (default 63)',
    betaWindow: 'returns in the beta estimate (default 252)',
    sectorNeutral: 'demean scores within sectors (default true; needs labels.sector)',
    betaNeutral: 'residualise scores on beta and hedge the book to beta 0 (default false)',
    timing: 'switch off factors whose own book lost over timingLookback (default false)',
    timingLookback: 'bars of factor performance for timing (default 252)',
    quantile: 'share of the scored stocks held in each leg (0 < q <= 0.5, default 0.2)',
    short: 'short the bottom quantile (default true)',
    rebalance: 'bars between rebalances (default 21)',
  },
  schema: multiFactorSchema,
  positions: multiFactorPositions,
};
