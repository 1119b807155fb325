/**
 * Exposure of a backtest's book by group (region, asset class) over time, from its positions and
 * point-in-time reference data: the group of a symbol at bar t is its reference record in force on
 * that date (a symbol that changes region moves its weight the day it does).
 */
import type { ReferenceFields } from './point-in-time';

/** The group a symbol is counted in when the reference data has no record for it (yet). */
export const UNCLASSIFIED = 'unclassified';

export interface GroupExposure {
  /** Group names, by gross exposure over the run, largest first. */
  readonly groups: readonly string[];
  /** net[g][t]: sum of the signed weights of group g's positions held from bar t to t + 1. */
  readonly net: readonly Float64Array[];
  /** gross[g][t]: sum of the absolute weights. */
  readonly gross: readonly Float64Array[];
}

/**
 * Net and gross weight per group for each period. `positions[a][t]` are the backtest's positions
 * (fractions of equity), `dates[t]` the bar each period starts at.
 */
export function exposureByGroup(
  positions: readonly ArrayLike<number>[],
  symbols: readonly string[],
  dates: readonly string[],
  reference: { at(symbol: string, date: string): ReferenceFields | undefined },
  field: 'region' | 'assetClass',
): GroupExposure {
  const periods = positions[0]?.length ?? 0;
  const index = new Map<string, number>();
  const net: Float64Array[] = [];
  const gross: Float64Array[] = [];
  for (let t = 0; t < periods; t++) {
    for (let a = 0; a < symbols.length; a++) {
      const w = positions[a][t];
      if (w === 0) continue;
      const name = reference.at(symbols[a], dates[t])?.[field] ?? UNCLASSIFIED;
      let g = index.get(name);
      if (g === undefined) {
        g = net.length;
        index.set(name, g);
        net.push(new Float64Array(periods));
        gross.push(new Float64Array(periods));
      }
      net[g][t] += w;
      gross[g][t] += Math.abs(w);
    }
  }
  const total = gross.map((s) => s.reduce((x, y) => x + y, 0));
  const names = [...index.keys()];
  const order = names
    .map((_, i) => i)
    .sort((x, y) => total[y] - total[x] || names[x].localeCompare(names[y]));
  return {
    groups: order.map((i) => names[i]),
    net: order.map((i) => net[i]),
    gross: order.map((i) => gross[i]),
  };
}
