/**
 * A sweep seen as a surface: a heat map of a metric over two parameters, and the stability of the
 * best region. A best parameter set whose neighbours on the grid score nearly as well sits on a
 * plateau (a small change in the market moves it little); one whose neighbours score far worse is
 * a spike, most likely fitted to noise.
 */

export type ParamValue = number | boolean | string;

/** One evaluated parameter set. */
export interface SweepPoint {
  readonly params: Readonly<Record<string, ParamValue>>;
  /** The metric (Sharpe by default); null when the backtest could not compute it. */
  readonly value: number | null;
}

/** The parameters that take more than one value over the points, in first-seen order. */
export function varyingAxes(points: readonly SweepPoint[]): string[] {
  const seen = new Map<string, Set<string>>();
  for (const p of points)
    for (const [k, v] of Object.entries(p.params)) {
      const s = seen.get(k) ?? new Set<string>();
      s.add(JSON.stringify(v));
      seen.set(k, s);
    }
  return [...seen].filter(([, s]) => s.size > 1).map(([k]) => k);
}

/** The sorted distinct values of one parameter (numbers ascending, others by text). */
export function axisValues(points: readonly SweepPoint[], name: string): ParamValue[] {
  const map = new Map<string, ParamValue>();
  for (const p of points)
    if (Object.hasOwn(p.params, name)) map.set(JSON.stringify(p.params[name]), p.params[name]);
  return [...map.values()].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
  );
}

export interface HeatMap {
  readonly x: { readonly name: string; readonly values: readonly ParamValue[] };
  readonly y: { readonly name: string; readonly values: readonly ParamValue[] };
  /**
   * cells[i][j]: the best value at y = y.values[i], x = x.values[j] over every other parameter;
   * null where no point was evaluated (filtered out by --where) or none had a value.
   */
  readonly cells: readonly (readonly (number | null)[])[];
}

/**
 * The heat map of `points` over parameters `x` and `y` (the best value per cell); without `y`, one
 * row (a sweep of one parameter).
 */
export function heatMap(points: readonly SweepPoint[], x: string, y?: string): HeatMap {
  const xs = axisValues(points, x);
  const ys = y === undefined ? [''] : axisValues(points, y);
  const xi = new Map(xs.map((v, i) => [JSON.stringify(v), i]));
  const yi = new Map(ys.map((v, i) => [JSON.stringify(v), i]));
  const cells: (number | null)[][] = ys.map(() => xs.map(() => null));
  for (const p of points) {
    const j = xi.get(JSON.stringify(p.params[x]));
    const i = y === undefined ? 0 : yi.get(JSON.stringify(p.params[y]));
    if (i === undefined || j === undefined || p.value === null || !Number.isFinite(p.value)) continue;
    const cur = cells[i][j];
    if (cur === null || p.value > cur) cells[i][j] = p.value;
  }
  return { x: { name: x, values: xs }, y: { name: y ?? '', values: ys }, cells };
}

/** A best value whose neighbours average at least this share of it is on a plateau. */
export const PLATEAU_SHARE = 0.75;

export interface Stability {
  /** The axes the neighbourhood is taken over (every parameter that varies). */
  readonly axes: readonly string[];
  readonly best: { readonly params: Readonly<Record<string, ParamValue>>; readonly value: number } | null;
  /** Evaluated grid points at most one step from the best on every axis (the best excluded). */
  readonly neighbours: number;
  readonly neighbourMean: number | null;
  readonly neighbourMin: number | null;
  /** neighbourMean / best value (null without neighbours or with a best value <= 0). */
  readonly ratio: number | null;
  /**
   * `plateau`: ratio >= PLATEAU_SHARE; `spike`: below it, or a best value <= 0 whose neighbours
   * are worse; `isolated`: the best has no evaluated neighbour; `none`: no point has a value.
   */
  readonly verdict: 'plateau' | 'spike' | 'isolated' | 'none';
}

/**
 * The stability of the best point: the mean and the minimum of the metric over its neighbourhood
 * on the grid (one step up or down on each varying axis, diagonals included; points filtered out
 * or without a value are not neighbours). Ties for the best go to the first point given.
 */
export function bestRegionStability(points: readonly SweepPoint[]): Stability {
  const axes = varyingAxes(points);
  let best: SweepPoint | undefined;
  for (const p of points)
    if (p.value !== null && Number.isFinite(p.value) && (best === undefined || p.value > best.value!))
      best = p;
  const alone = { neighbours: 0, neighbourMean: null, neighbourMin: null, ratio: null };
  if (!best) return { axes, best: null, ...alone, verdict: 'none' };
  const index = axes.map((a) => new Map(axisValues(points, a).map((v, i) => [JSON.stringify(v), i])));
  const pos = (p: SweepPoint): number[] =>
    axes.map((a, k) => index[k].get(JSON.stringify(p.params[a])) ?? NaN);
  const at = pos(best);
  const near: number[] = [];
  for (const p of points) {
    if (p === best || p.value === null || !Number.isFinite(p.value)) continue;
    const q = pos(p);
    if (q.every((v, k) => Math.abs(v - at[k]) <= 1)) near.push(p.value);
  }
  const value = best.value!;
  if (near.length === 0) return { axes, best: { params: best.params, value }, ...alone, verdict: 'isolated' };
  const mean = near.reduce((s, v) => s + v, 0) / near.length;
  const ratio = value > 0 ? mean / value : null;
  return {
    axes,
    best: { params: best.params, value },
    neighbours: near.length,
    neighbourMean: mean,
    neighbourMin: Math.min(...near),
    ratio,
    verdict: ratio !== null && ratio >= PLATEAU_SHARE ? 'plateau' : 'spike',
  };
}

/** Sweep result rows (`params` as the JSON text the results table stores) as points of `metric`. */
export function pointsFromRows(rows: readonly Record<string, unknown>[], metric: string): SweepPoint[] {
  return rows.map((r) => {
    const raw = r.params;
    const params = (typeof raw === 'string' ? JSON.parse(raw) : (raw ?? {})) as Record<string, ParamValue>;
    const v = r[metric];
    const value = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;
    return { params, value };
  });
}
