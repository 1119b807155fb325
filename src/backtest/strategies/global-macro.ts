/**
 * `global-macro`: top-down allocation over a multi-asset universe (the design's SPY, EFA, EEM,
 * AGG, TLT, GLD, DBC, UUP, FXE, or whatever is loaded). Every `rebalance` bars each asset gets a
 * score, the weighted mean of three signals in [-1, 1]:
 *   trend  sign of the return over `trendLookback` (time-series momentum);
 *   rank   its cross-sectional rank by the return over `momLookback`, scaled to [-1, 1];
 *   carry  when the data has a per-asset `carry` field: its cross-sectional z-score / 3, clipped.
 * The target weight is score / σ (σ the sample stdev of the last `volWindow` returns), so each
 * asset's risk follows its conviction; the book is then scaled to `gross` and each weight capped
 * at `maxWeight` (the remainder stays in cash). With short=false negative scores are flat.
 */
import * as z from 'zod';
import { trailingVol } from '../sizing/estimate';
import type { Panel } from '../types';
import { onSchedule, zScores } from './cross-section';
import type { Strategy } from './types';

export const globalMacroSchema = z
  .object({
    trendLookback: z.number().int().min(2).max(100_000).default(252),
    momLookback: z.number().int().min(2).max(100_000).default(126),
    trendWeight: z.number().min(0).max(100).default(1),
    rankWeight: z.number().min(0).max(100).default(1),
    carryWeight: z.number().min(0).max(100).default(1),
    volWindow: z.number().int().min(2).max(100_000).default(63),
    rebalance: z.number().int().min(1).max(100_000).default(21),
    gross: z.number().gt(0).max(10).default(1),
    maxWeight: z.number().gt(0).max(10).default(0.4),
    short: z.boolean().default(true),
  })
  .strict()
  .refine((p) => p.trendWeight + p.rankWeight + p.carryWeight > 0, {
    message: 'at least one signal weight must be > 0',
    path: ['trendWeight'],
  });
export type GlobalMacroParams = z.infer<typeof globalMacroSchema>;

export function globalMacroPositions(panel: Panel, p: GlobalMacroParams): Float64Array[] {
  const k = panel.symbols.length;
  const n = panel.dates.length;
  const w = panel.symbols.map(() => new Float64Array(n));
  const carry = p.carryWeight > 0 ? panel.aux?.fields?.carry : undefined;
  const start = Math.max(p.trendLookback, p.momLookback, p.volWindow);
  const mom = new Float64Array(k);
  const cs = new Float64Array(k);
  const raw = new Float64Array(k);
  const order = Array.from({ length: k }, (_, a) => a);
  onSchedule(w, start, n, p.rebalance, (t) => {
    for (let a = 0; a < k; a++) mom[a] = panel.close[a][t] / panel.close[a][t - p.momLookback] - 1;
    order.sort((i, j) => mom[i] - mom[j] || i - j);
    const carryZ = carry ? zScores(Float64Array.from(carry, (c) => c[t])) : undefined;
    let gross = 0;
    for (let r = 0; r < k; r++) {
      const a = order[r];
      const trend = Math.sign(panel.close[a][t] / panel.close[a][t - p.trendLookback] - 1);
      const rank = k > 1 ? (2 * r) / (k - 1) - 1 : 0;
      let s = p.trendWeight * trend + p.rankWeight * rank;
      let wsum = p.trendWeight + p.rankWeight;
      if (carryZ && Number.isFinite(carryZ[a])) {
        s += (p.carryWeight * carryZ[a]) / 3;
        wsum += p.carryWeight;
      }
      cs[a] = s / wsum;
      if (!p.short && cs[a] < 0) cs[a] = 0;
      const vol = trailingVol(panel.close[a], t, p.volWindow);
      raw[a] = vol > 0 ? cs[a] / vol : 0;
      gross += Math.abs(raw[a]);
    }
    for (let a = 0; a < k; a++) {
      const x = gross > 0 ? (raw[a] * p.gross) / gross : 0;
      w[a][t] = Math.max(-p.maxWeight, Math.min(p.maxWeight, x));
    }
  });
  return w;
}

export const globalMacro: Strategy<GlobalMacroParams> = {
  name: 'global-macro',
  description: 'Global macro allocation: trend, cross-sectional momentum and carry, risk-weighted',
  kind: 'multi',
  minSymbols: 2,
  maxSymbols: 10_000,
  paramDocs: {
    trendLookback: 'bars of the trend signal (integer >= 2, default 252)',
    momLookback: 'bars of the cross-sectional momentum signal (integer >= 2, default 126)',
    trendWeight: 'weight of the trend signal (>= 0, default 1)',
    rankWeight: 'weight of the cross-sectional rank (>= 0, default 1)',
    carryWeight: 'weight of the carry field when the data has one (>= 0, default 1)',
    volWindow: 'returns in the volatility estimate (integer >= 2, default 63)',
    rebalance: 'bars between rebalances (integer >= 1, default 21)',
    gross: 'gross exposure before the caps (default 1)',
    maxWeight: 'largest |weight| of one asset (default 0.4)',
    short: 'allow short positions (default true)',
  },
  schema: globalMacroSchema,
  positions: globalMacroPositions,
};
