/**
 * `xs-momentum`: cross-sectional momentum over a universe. Every `rebalance` bars, rank symbols by
 * the return from `lookback` bars ago to `skip` bars ago and hold the top `topK` at equal weight
 * (1/topK each). With `short=true` the book is dollar-neutral: +0.5/topK for the top and
 * -0.5/topK for the bottom `topK`. Ties rank by universe order so results are deterministic.
 */
import * as z from 'zod';
import { onSchedule, topKNeed } from './cross-section';
import type { Panel } from '../types';
import type { Strategy } from './types';

export const xsMomentumSchema = z
  .object({
    lookback: z.number().int().min(1).max(1_000_000),
    skip: z.number().int().min(0).max(1_000_000).default(0),
    topK: z.number().int().min(1).max(100_000),
    rebalance: z.number().int().min(1).max(1_000_000).default(21),
    short: z.boolean().default(false),
  })
  .refine((p) => p.skip < p.lookback, { message: 'skip must be smaller than lookback', path: ['skip'] });

export type XsMomentumParams = z.infer<typeof xsMomentumSchema>;

export function xsMomentumPositions(panel: Panel, p: XsMomentumParams): Float64Array[] {
  const k = panel.symbols.length;
  const n = panel.dates.length;
  topKNeed(p.topK, p.short, k);
  const w = panel.close.map(() => new Float64Array(n));
  const score = new Float64Array(k);
  const order = Array.from({ length: k }, (_, i) => i);
  const longW = p.short ? 0.5 / p.topK : 1 / p.topK;
  const shortW = p.short ? -0.5 / p.topK : 0;
  onSchedule(w, p.lookback, n, p.rebalance, (t) => {
    for (let a = 0; a < k; a++) score[a] = panel.close[a][t - p.skip] / panel.close[a][t - p.lookback] - 1;
    order.sort((i, j) => score[j] - score[i] || i - j);
    for (let r = 0; r < k; r++) {
      const a = order[r];
      w[a][t] = r < p.topK ? longW : r >= k - p.topK ? shortW : 0;
    }
  });
  return w;
}

export const xsMomentum: Strategy<XsMomentumParams> = {
  name: 'xs-momentum',
  description: 'Cross-sectional momentum: hold the top-k of a universe, rebalanced every N bars',
  kind: 'multi',
  minSymbols: 2,
  maxSymbols: 100_000,
  paramDocs: {
    lookback: 'bars back to the start of the ranking return (integer >= 1)',
    skip: 'most recent bars left out of the ranking return (integer >= 0, < lookback, default 0)',
    topK: 'symbols held long (and short with short=true) (integer >= 1)',
    rebalance: 'bars between rebalances (integer >= 1, default 21)',
    short: 'also short the bottom topK, dollar-neutral (default false)',
  },
  schema: xsMomentumSchema,
  positions: xsMomentumPositions,
};
