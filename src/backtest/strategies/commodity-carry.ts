/**
 * `commodity-carry`: commodity roll yield from the futures curve. With the front and next
 * contract prices and the days between their expiries (fields `front`, `next`, `days`), the
 * annualised roll yield is ln(front / next) × 365 / days: positive in backwardation (rolling buys
 * the cheaper deferred contract), negative in contango. Every `rebalance` bars, hold the topK
 * highest roll yields (and short the topK lowest with short=true).
 */
import * as z from 'zod';
import type { Panel } from '../types';
import { requireField } from './cross-section';
import { rankedByScore } from './fx-carry';
import type { Strategy } from './types';

export const commodityCarrySchema = z
  .object({
    topK: z.number().int().min(1).max(1000).default(3),
    rebalance: z.number().int().min(1).max(100_000).default(21),
    short: z.boolean().default(true),
  })
  .strict();
export type CommodityCarryParams = z.infer<typeof commodityCarrySchema>;

/** rollYield[a][t] = ln(front / next) × 365 / days (NaN where the curve is unknown or invalid). */
export function rollYield(panel: Panel): Float64Array[] {
  const why = 'commodity-carry';
  const front = requireField(panel, 'front', why);
  const next = requireField(panel, 'next', why);
  const days = requireField(panel, 'days', why);
  return panel.symbols.map((_, a) =>
    Float64Array.from(panel.dates, (_d, t) => {
      const f = front[a][t];
      const x = next[a][t];
      const d = days[a][t];
      return f > 0 && x > 0 && d > 0 ? (Math.log(f / x) * 365) / d : NaN;
    }),
  );
}

export const commodityCarry: Strategy<CommodityCarryParams> = {
  name: 'commodity-carry',
  description: 'Commodity carry: long the highest futures roll yields, short the lowest',
  kind: 'multi',
  minSymbols: 2,
  maxSymbols: 10_000,
  paramDocs: {
    topK: 'futures held long (and short with short=true) (integer >= 1, default 3)',
    rebalance: 'bars between rebalances (integer >= 1, default 21)',
    short: 'also short the lowest roll yields (default true)',
  },
  schema: commodityCarrySchema,
  positions: (panel: Panel, p: CommodityCarryParams) => rankedByScore(panel, rollYield(panel), p),
};
