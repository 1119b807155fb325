/**
 * `bond-carry`: fixed-income carry and roll-down. For a bond of maturity m (years; from a symbol
 * ending in <m>Y such as UST10Y, or SHY 2, IEF 8, AGG 6, TLT 20), the return over a horizon h if
 * the yield curve does not move is that of a zero-coupon bond rolling down the curve:
 *   [m·y(m) − (m − h)·y(m − h)] / h − r = (y(m) − r)  +  (m − h)·(y(m) − y(m − h)) / h
 *                                          carry          roll-down
 * with y read off the curve (linear between tenors, flat beyond its ends) and r its shortest
 * tenor. By default the score is divided by m (carry per unit of duration, so long bonds do not
 * win by risk alone). Every `rebalance` bars, hold the topK best (and short the topK worst).
 */
import * as z from 'zod';
import { InputError } from '../../errors';
import type { Panel } from '../types';
import { rankedByScore } from './fx-carry';
import type { Strategy } from './types';

export const bondCarrySchema = z
  .object({
    topK: z.number().int().min(1).max(1000).default(2),
    rebalance: z.number().int().min(1).max(100_000).default(21),
    short: z.boolean().default(false),
    horizon: z
      .number()
      .gt(0)
      .max(5)
      .default(1 / 12),
    perDuration: z.boolean().default(true),
  })
  .strict();
export type BondCarryParams = z.infer<typeof bondCarrySchema>;

const MATURITY_ALIASES: Readonly<Record<string, number>> = { SHY: 2, IEF: 8, AGG: 6, TLT: 20 };

export function maturityOf(symbol: string): number {
  if (MATURITY_ALIASES[symbol] !== undefined) return MATURITY_ALIASES[symbol];
  const m = /(\d+(?:\.\d+)?)Y$/i.exec(symbol);
  if (!m || !(Number(m[1]) > 0)) {
    throw new InputError(
      `bars.${symbol}: bond-carry needs a maturity in the symbol (e.g. UST10Y) or one of ${Object.keys(MATURITY_ALIASES).join(', ')}`,
      `bars.${symbol}`,
    );
  }
  return Number(m[1]);
}

/** Linear interpolation on a curve (flat extrapolation). */
export function interpolate(tenors: readonly number[], ys: readonly number[], m: number): number {
  if (m <= tenors[0]) return ys[0];
  const last = tenors.length - 1;
  if (m >= tenors[last]) return ys[last];
  let j = 1;
  while (tenors[j] < m) j++;
  const w = (m - tenors[j - 1]) / (tenors[j] - tenors[j - 1]);
  return ys[j - 1] + w * (ys[j] - ys[j - 1]);
}

/** Expected carry + roll-down (annualised, per unit of duration with perDuration) per symbol and bar. */
export function carryRollDown(
  panel: Panel,
  p: Pick<BondCarryParams, 'horizon' | 'perDuration'>,
): Float64Array[] {
  const curve = panel.aux?.curve;
  if (!curve) {
    throw new InputError(
      'data.curve: bond-carry needs a yield curve (--data curve=FILE with date,tenor,yield, or synthetic:bonds)',
      'data.curve',
    );
  }
  const h = p.horizon;
  const ys = new Array<number>(curve.tenors.length);
  return panel.symbols.map((sym) => {
    const m = maturityOf(sym);
    if (m <= h)
      throw new InputError(
        `param.horizon: ${h} years is not shorter than ${sym}'s maturity ${m}`,
        'param.horizon',
      );
    return Float64Array.from(panel.dates, (_d, t) => {
      for (let j = 0; j < ys.length; j++) ys[j] = curve.yields[j][t];
      if (ys.some((y) => !Number.isFinite(y))) return NaN;
      const ym = interpolate(curve.tenors, ys, m);
      const yh = interpolate(curve.tenors, ys, m - h);
      const score = (m * ym - (m - h) * yh) / h - ys[0];
      return p.perDuration ? score / m : score;
    });
  });
}

export const bondCarry: Strategy<BondCarryParams> = {
  name: 'bond-carry',
  description:
    'Fixed-income carry and roll-down: hold the bonds with the best expected return on an unchanged curve',
  kind: 'multi',
  minSymbols: 2,
  maxSymbols: 10_000,
  paramDocs: {
    topK: 'bonds held long (and short with short=true) (integer >= 1, default 2)',
    rebalance: 'bars between rebalances (integer >= 1, default 21)',
    short: 'also short the worst carry (default false)',
    horizon: 'roll-down horizon in years (default 1/12)',
    perDuration: 'score per unit of duration (divide by maturity) (default true)',
  },
  schema: bondCarrySchema,
  positions: (panel: Panel, p: BondCarryParams) => rankedByScore(panel, carryRollDown(panel, p), p),
};
