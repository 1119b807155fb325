/**
 * Exposure of a backtest's book by group (region, asset class) over time, from its positions and
 * point-in-time reference data: the group of a symbol at bar t is its reference record in force on
 * that date (a symbol that changes region moves its weight the day it does).
 */
import type { ReferenceFields } from './point-in-time';

type Reference = { at(symbol: string, date: string): ReferenceFields | undefined };

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
  reference: Reference,
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

/** Where a report's exposure came from, or why it has none. */
export type ReportExposure =
  | {
      readonly region: GroupExposure;
      readonly assetClass: GroupExposure;
      /** The reference data used, in words (shown under the charts). */
      readonly source?: string;
    }
  | { readonly missing: string };

/** What `reportExposure` says when no reference data covers any symbol of the run. */
export const EXPOSURE_NEEDS_REFERENCE =
  'Exposure by region and asset class needs reference data: run with --reference FILE (a point-in-time reference CSV), or --reference synthetic for the synthetic macro universe.';

/**
 * Exposure by region and asset class of a run for its report. The reference data, first that
 * applies: the run's own (`--reference`); the limits file's securities (`--limits`), which carry
 * region and asset class; the synthetic macro universe's built-in reference
 * (src/synthetic/point-in-time.ts) when it knows some of the symbols. Otherwise `missing` says
 * plainly that exposure needs --reference.
 */
export function reportExposure(
  result: { positions: readonly ArrayLike<number>[]; symbols: readonly string[]; dates: readonly string[] },
  opts: {
    readonly reference?: Reference;
    readonly securities?: Readonly<Record<string, ReferenceFields>>;
    readonly builtIn?: Reference;
  },
): ReportExposure {
  const of = (reference: Reference, source: string): ReportExposure => ({
    region: exposureByGroup(result.positions, result.symbols, result.dates, reference, 'region'),
    assetClass: exposureByGroup(result.positions, result.symbols, result.dates, reference, 'assetClass'),
    source,
  });
  const unknown = (known: (s: string) => boolean): string => {
    const rest = result.symbols.filter((s) => !known(s));
    return rest.length === 0 ? '' : `; ${rest.join(', ')} not in it (${UNCLASSIFIED})`;
  };
  if (opts.reference) return of(opts.reference, "the run's reference data (--reference)");
  const secs = opts.securities;
  const classified = (s: string): boolean =>
    secs !== undefined &&
    Object.hasOwn(secs, s) &&
    (secs[s].region !== undefined || secs[s].assetClass !== undefined);
  if (secs && result.symbols.some(classified)) {
    return of(
      { at: (s) => (classified(s) ? secs[s] : undefined) },
      `the limits file's securities (--limits)${unknown(classified)}`,
    );
  }
  const builtIn = opts.builtIn;
  const first = result.dates[0] ?? '';
  if (builtIn && result.symbols.some((s) => builtIn.at(s, first) !== undefined)) {
    return of(
      builtIn,
      `the synthetic macro universe's built-in reference${unknown((s) => builtIn.at(s, first) !== undefined)}`,
    );
  }
  return { missing: EXPOSURE_NEEDS_REFERENCE };
}
