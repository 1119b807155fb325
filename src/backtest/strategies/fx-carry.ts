/**
 * `fx-carry`: FX carry from interest-rate differentials. A pair BBBQQQ (price in QQQ per unit of
 * BBB; its series a total-return index of holding BBB funded in QQQ) carries r(BBB) - r(QQQ), the
 * short rates of the two currencies as known at the close (Panel.aux.rates). Every `rebalance`
 * bars, hold the topK highest-carry pairs (and short the topK lowest with short=true).
 * FXE is read as EURUSD and UUP as USDEUR (the dollar index is mostly the euro).
 */
import * as z from 'zod';
import { InputError } from '../../errors';
import type { Panel } from '../types';
import { hold, rankTopK, topKNeed } from './cross-section';
import type { Strategy } from './types';

export const fxCarrySchema = z
  .object({
    topK: z.number().int().min(1).max(1000).default(3),
    rebalance: z.number().int().min(1).max(100_000).default(21),
    short: z.boolean().default(true),
  })
  .strict();
export type FxCarryParams = z.infer<typeof fxCarrySchema>;

const ALIASES: Readonly<Record<string, string>> = { FXE: 'EURUSD', UUP: 'USDEUR' };

/** The two currencies of an FX symbol, or an InputError naming it. */
export function currenciesOf(symbol: string): [string, string] {
  const s = ALIASES[symbol] ?? symbol.toUpperCase().replace(/[^A-Z]/g, '');
  if (!/^[A-Z]{6}$/.test(s)) {
    throw new InputError(
      `bars.${symbol}: fx-carry needs currency pairs named BBBQQQ (e.g. AUDUSD) or FXE/UUP`,
      `bars.${symbol}`,
    );
  }
  return [s.slice(0, 3), s.slice(3)];
}

/** carry[a][t] = r(base) - r(quote) at bar t (NaN where a rate is not known yet). */
export function fxCarry(panel: Panel): Float64Array[] {
  const rates = panel.aux?.rates;
  return panel.symbols.map((sym) => {
    const [b, q] = currenciesOf(sym);
    for (const c of [b, q]) {
      if (!rates?.[c])
        throw new InputError(
          `data.rates.${c}: fx-carry needs the short rate of ${c} for ${sym} (--data rates=FILE with date,currency,rate)`,
          `data.rates.${c}`,
        );
    }
    const rb = rates![b];
    const rq = rates![q];
    return Float64Array.from(panel.dates, (_, t) => rb[t] - rq[t]);
  });
}

export function fxCarryPositions(panel: Panel, p: FxCarryParams): Float64Array[] {
  const carry = fxCarry(panel);
  return rankedByScore(panel, carry, p);
}

/** Shared by the carry strategies: rank by a score per symbol and bar every `rebalance` bars. */
export function rankedByScore(
  panel: Panel,
  score: readonly Float64Array[],
  p: { topK: number; rebalance: number; short: boolean },
): Float64Array[] {
  const k = panel.symbols.length;
  const n = panel.dates.length;
  const need = topKNeed(p.topK, p.short, k);
  const w = panel.symbols.map(() => new Float64Array(n));
  const s = new Float64Array(k);
  let start = -1;
  for (let t = 0; t < n; t++) {
    if (start >= 0 && (t - start) % p.rebalance !== 0) {
      hold(w, t);
      continue;
    }
    for (let a = 0; a < k; a++) s[a] = score[a][t];
    const m = rankTopK(s, p.topK, p.short, w, t);
    // The schedule starts at the first bar with a score for enough symbols; flat before it.
    if (m >= need) start = start < 0 ? t : start;
    else if (start < 0) for (let a = 0; a < k; a++) w[a][t] = 0;
  }
  return w;
}

export const fxCarryStrategy: Strategy<FxCarryParams> = {
  name: 'fx-carry',
  description: 'FX carry: long the highest interest-rate differentials, short the lowest',
  kind: 'multi',
  minSymbols: 2,
  maxSymbols: 10_000,
  paramDocs: {
    topK: 'pairs held long (and short with short=true) (integer >= 1, default 3)',
    rebalance: 'bars between rebalances (integer >= 1, default 21)',
    short: 'also short the lowest-carry pairs, dollar-neutral (default true)',
  },
  schema: fxCarrySchema,
  positions: fxCarryPositions,
};
