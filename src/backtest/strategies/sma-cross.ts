/**
 * `sma-cross`: long when SMA(fast) > SMA(slow) at the close, flat otherwise (short instead of
 * flat when `short=true` and SMA(fast) < SMA(slow)); flat while SMA(slow) does not exist yet.
 */
import * as z from 'zod';
import type { Panel } from '../types';
import type { Strategy } from './types';

export const smaCrossSchema = z
  .object({
    fast: z.number().int().min(1).max(1_000_000),
    slow: z.number().int().min(2).max(1_000_000),
    short: z.boolean().default(false),
  })
  .refine((p) => p.fast < p.slow, { message: 'fast must be smaller than slow', path: ['fast'] });

export type SmaCrossParams = z.infer<typeof smaCrossSchema>;

/**
 * Positions of an SMA crossover over one close series: +1, 0 (or -1 with `short`), computed with
 * rolling sums in one pass. `out[t]` uses closes up to t only.
 */
export function smaCrossPositions(
  close: Float64Array,
  fast: number,
  slow: number,
  short = false,
): Float64Array {
  const n = close.length;
  const out = new Float64Array(n);
  const neg = short ? -1 : 0;
  let sf = 0;
  let ss = 0;
  const invF = 1 / fast;
  const invS = 1 / slow;
  for (let t = 0; t < n; t++) {
    const c = close[t];
    sf += c;
    ss += c;
    if (t >= fast) sf -= close[t - fast];
    if (t >= slow) ss -= close[t - slow];
    if (t >= slow - 1) {
      const mf = sf * invF;
      const ms = ss * invS;
      out[t] = mf > ms ? 1 : mf < ms ? neg : 0;
    }
  }
  return out;
}

export const smaCross: Strategy<SmaCrossParams> = {
  name: 'sma-cross',
  description: 'Long when SMA(fast) > SMA(slow), flat otherwise (short=true: short when below)',
  kind: 'single',
  minSymbols: 1,
  maxSymbols: 1,
  paramDocs: {
    fast: 'bars in the fast simple moving average (integer >= 1, < slow)',
    slow: 'bars in the slow simple moving average (integer >= 2)',
    short: 'go short when the fast SMA is below the slow one (default false)',
  },
  schema: smaCrossSchema,
  positions(panel: Panel, p: SmaCrossParams) {
    return panel.close.map((c) => smaCrossPositions(c, p.fast, p.slow, p.short));
  },
};
