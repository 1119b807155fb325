/**
 * `mean-reversion`: z = (close - mean) / stdev over the last `window` closes (sample stdev).
 * Enter long when z < -entry (short when z > entry, unless `short=false`); leave a long when
 * z >= -exit and a short when z <= exit.
 */
import * as z from 'zod';
import type { Panel } from '../types';
import type { Strategy } from './types';

export const meanReversionSchema = z
  .object({
    window: z.number().int().min(2).max(1_000_000),
    entry: z.number().gt(0).max(100),
    exit: z.number().min(0).max(100).default(0),
    short: z.boolean().default(true),
  })
  .refine((p) => p.exit < p.entry, { message: 'exit must be smaller than entry', path: ['exit'] });

export type MeanReversionParams = z.infer<typeof meanReversionSchema>;

export function meanReversionPositions(close: Float64Array, p: MeanReversionParams): Float64Array {
  const n = close.length;
  const out = new Float64Array(n);
  const w = p.window;
  let pos = 0;
  for (let t = w - 1; t < n; t++) {
    // Direct window sums (not rolling) so that the z-score is exact for flat stretches.
    let s = 0;
    for (let i = t - w + 1; i <= t; i++) s += close[i];
    const mean = s / w;
    let ss = 0;
    for (let i = t - w + 1; i <= t; i++) ss += (close[i] - mean) * (close[i] - mean);
    const sd = Math.sqrt(ss / (w - 1));
    const z = sd > 0 ? (close[t] - mean) / sd : 0;
    if (pos === 0) {
      if (z < -p.entry) pos = 1;
      else if (z > p.entry && p.short) pos = -1;
    } else if ((pos > 0 && z >= -p.exit) || (pos < 0 && z <= p.exit)) {
      pos = 0;
    }
    out[t] = pos;
  }
  return out;
}

export const meanReversion: Strategy<MeanReversionParams> = {
  name: 'mean-reversion',
  description: 'Trade the z-score of the close against its rolling mean back to the mean',
  kind: 'single',
  minSymbols: 1,
  maxSymbols: 1,
  paramDocs: {
    window: 'closes in the rolling mean and stdev (integer >= 2)',
    entry: 'enter when |z| exceeds this (> 0)',
    exit: 'leave when z is back within this of 0 (>= 0, < entry, default 0)',
    short: 'also short when z > entry (default true)',
  },
  schema: meanReversionSchema,
  positions(panel: Panel, p: MeanReversionParams) {
    return panel.close.map((c) => meanReversionPositions(c, p));
  },
};
