/**
 * `pairs`: statistical arbitrage on two symbols (y = first, x = second). At each close, an OLS of
 * log(y) on log(x) over the last `window` bars gives the hedge ratio beta and the residual's
 * standard error; z = residual / standard error. Enter short the spread (short y, long beta x)
 * when z > entry, long the spread when z < -entry; leave when |z| falls back within `exit`. The
 * book is scaled to a gross exposure of 1 (y weight 1/(1+|beta|)) and the hedge ratio is kept
 * from entry until exit.
 */
import * as z from 'zod';
import type { Panel } from '../types';
import type { Strategy } from './types';

export const pairsSchema = z
  .object({
    window: z.number().int().min(3).max(1_000_000),
    entry: z.number().gt(0).max(100),
    exit: z.number().min(0).max(100).default(0),
  })
  .refine((p) => p.exit < p.entry, { message: 'exit must be smaller than entry', path: ['exit'] });

export type PairsParams = z.infer<typeof pairsSchema>;

/** Rolling OLS of log(y) on log(x): hedge ratio and residual z-score per bar (NaN in warm-up). */
export function rollingHedge(
  y: Float64Array,
  x: Float64Array,
  window: number,
): { beta: Float64Array; z: Float64Array } {
  const n = y.length;
  const beta = new Float64Array(n).fill(NaN);
  const zs = new Float64Array(n).fill(NaN);
  for (let t = window - 1; t < n; t++) {
    let mx = 0;
    let my = 0;
    for (let i = t - window + 1; i <= t; i++) {
      mx += Math.log(x[i]);
      my += Math.log(y[i]);
    }
    mx /= window;
    my /= window;
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    for (let i = t - window + 1; i <= t; i++) {
      const dx = Math.log(x[i]) - mx;
      const dy = Math.log(y[i]) - my;
      sxx += dx * dx;
      sxy += dx * dy;
      syy += dy * dy;
    }
    if (!(sxx > 0)) continue;
    const b = sxy / sxx;
    const se = Math.sqrt(Math.max(0, syy - b * sxy) / (window - 2));
    const resid = Math.log(y[t]) - my - b * (Math.log(x[t]) - mx);
    beta[t] = b;
    zs[t] = se > 0 ? resid / se : 0;
  }
  return { beta, z: zs };
}

export function pairsPositions(panel: Panel, p: PairsParams): Float64Array[] {
  const [y, x] = panel.close;
  const n = y.length;
  const wy = new Float64Array(n);
  const wx = new Float64Array(n);
  const { beta, z: zs } = rollingHedge(y, x, p.window);
  let side = 0;
  let b = 0;
  for (let t = 0; t < n; t++) {
    const zt = zs[t];
    if (Number.isNaN(zt)) continue;
    if (side === 0) {
      if (zt > p.entry) side = -1;
      else if (zt < -p.entry) side = 1;
      b = beta[t];
    } else if ((side > 0 && zt >= -p.exit) || (side < 0 && zt <= p.exit)) {
      side = 0;
    }
    if (side !== 0) {
      const g = 1 + Math.abs(b);
      wy[t] = side / g;
      wx[t] = (-side * b) / g;
    }
  }
  return [wy, wx];
}

export const pairs: Strategy<PairsParams> = {
  name: 'pairs',
  description: 'Pairs trading on the residual of a rolling OLS hedge (two symbols)',
  kind: 'multi',
  minSymbols: 2,
  maxSymbols: 2,
  paramDocs: {
    window: 'bars in the rolling OLS (integer >= 3)',
    entry: 'enter when |z| of the residual exceeds this (> 0)',
    exit: 'leave when |z| is back within this (>= 0, < entry, default 0)',
  },
  schema: pairsSchema,
  positions: pairsPositions,
};
