/**
 * `dual-momentum`: relative plus absolute momentum (Antonacci). Every `rebalance` bars, rank the
 * symbols by their return from `lookback` bars ago to `skip` bars ago (relative momentum) and keep
 * the topK; each of them is held at 1/topK only if that return also beats `threshold` (absolute
 * momentum: the asset is trending up on its own), otherwise its slot is left in cash.
 */
import * as z from 'zod';
import { InputError } from '../../errors';
import type { Panel } from '../types';
import { onSchedule } from './cross-section';
import type { Strategy } from './types';

export const dualMomentumSchema = z
  .object({
    lookback: z.number().int().min(1).max(100_000).default(252),
    skip: z.number().int().min(0).max(100_000).default(0),
    topK: z.number().int().min(1).max(10_000).default(1),
    rebalance: z.number().int().min(1).max(100_000).default(21),
    threshold: z.number().min(-1).max(10).default(0),
  })
  .strict()
  .refine((p) => p.skip < p.lookback, { message: 'skip must be smaller than lookback', path: ['skip'] });
export type DualMomentumParams = z.infer<typeof dualMomentumSchema>;

export function dualMomentumPositions(panel: Panel, p: DualMomentumParams): Float64Array[] {
  const k = panel.symbols.length;
  const n = panel.dates.length;
  if (p.topK > k)
    throw new InputError(`param.topK: ${p.topK} is more than the ${k} symbols of the universe`, 'param.topK');
  const w = panel.symbols.map(() => new Float64Array(n));
  const ret = new Float64Array(k);
  const order = Array.from({ length: k }, (_, a) => a);
  onSchedule(w, p.lookback, n, p.rebalance, (t) => {
    for (let a = 0; a < k; a++) ret[a] = panel.close[a][t - p.skip] / panel.close[a][t - p.lookback] - 1;
    order.sort((i, j) => ret[j] - ret[i] || i - j);
    for (let r = 0; r < k; r++) {
      const a = order[r];
      w[a][t] = r < p.topK && ret[a] > p.threshold ? 1 / p.topK : 0;
    }
  });
  return w;
}

export const dualMomentum: Strategy<DualMomentumParams> = {
  name: 'dual-momentum',
  description:
    'Dual momentum: the top-k by trailing return, each only while it beats the threshold (else cash)',
  kind: 'multi',
  minSymbols: 1,
  maxSymbols: 100_000,
  paramDocs: {
    lookback: 'bars back to the start of the momentum return (integer >= 1, default 252)',
    skip: 'most recent bars left out (integer >= 0, < lookback, default 0)',
    topK: 'symbols held (integer >= 1, default 1)',
    rebalance: 'bars between rebalances (integer >= 1, default 21)',
    threshold: 'absolute momentum hurdle: the return a held symbol must beat (default 0)',
  },
  schema: dualMomentumSchema,
  positions: dualMomentumPositions,
};
