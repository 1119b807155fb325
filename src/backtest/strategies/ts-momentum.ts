/**
 * `ts-momentum`: time-series momentum. Long when the close is above the close `lookback` bars ago,
 * short when below (flat instead with `short=false`); sized to an annualised volatility target
 * from the sample stdev of the last `volWindow` daily returns, capped at `maxLeverage`.
 * Without `volTarget` the size is 1.
 */
import * as z from 'zod';
import { PERIODS_PER_YEAR } from '../metrics';
import type { Panel } from '../types';
import type { Strategy } from './types';

export const tsMomentumSchema = z.object({
  lookback: z.number().int().min(1).max(1_000_000),
  volTarget: z.number().gt(0).max(10).optional(),
  volWindow: z.number().int().min(2).max(1_000_000).default(20),
  maxLeverage: z.number().gt(0).max(100).default(2),
  short: z.boolean().default(true),
});

export type TsMomentumParams = z.infer<typeof tsMomentumSchema>;

export function tsMomentumPositions(close: Float64Array, p: TsMomentumParams): Float64Array {
  const n = close.length;
  const out = new Float64Array(n);
  const ann = Math.sqrt(PERIODS_PER_YEAR);
  const start = p.volTarget === undefined ? p.lookback : Math.max(p.lookback, p.volWindow);
  let s = 0;
  let ss = 0;
  for (let t = 1; t < n; t++) {
    const r = close[t] / close[t - 1] - 1;
    s += r;
    ss += r * r;
    if (t > p.volWindow) {
      const old = close[t - p.volWindow] / close[t - p.volWindow - 1] - 1;
      s -= old;
      ss -= old * old;
    }
    if (t < start) continue;
    const m = close[t] / close[t - p.lookback] - 1;
    const dir = m > 0 ? 1 : m < 0 && p.short ? -1 : 0;
    let size = 1;
    if (p.volTarget !== undefined) {
      const k = p.volWindow;
      const vol = Math.sqrt(Math.max(0, (ss - (s * s) / k) / (k - 1))) * ann;
      size = vol > 0 ? Math.min(p.maxLeverage, p.volTarget / vol) : p.maxLeverage;
    }
    out[t] = dir * size;
  }
  return out;
}

export const tsMomentum: Strategy<TsMomentumParams> = {
  name: 'ts-momentum',
  description: 'Time-series momentum over a lookback, sized to a volatility target',
  kind: 'single',
  minSymbols: 1,
  maxSymbols: 1,
  paramDocs: {
    lookback: 'bars between the two closes compared (integer >= 1)',
    volTarget: 'annualised volatility target, e.g. 0.15 (optional; size 1 without it)',
    volWindow: 'returns in the realised volatility estimate (integer >= 2, default 20)',
    maxLeverage: 'largest |position| when vol targeting (default 2)',
    short: 'short when momentum is negative (default true)',
  },
  schema: tsMomentumSchema,
  positions(panel: Panel, p: TsMomentumParams) {
    return panel.close.map((c) => tsMomentumPositions(c, p));
  },
};
