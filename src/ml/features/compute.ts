/**
 * The feature set of src/contract/ml.ts in TypeScript, for the backtest and live path: over a panel
 * (symbols on one calendar), the same definitions as the SQL of ./sql.ts (a test holds them equal
 * within 1e-9). Every value at bar t uses bars up to and including t only.
 */
import { FEATURE_NAMES, OPTIONAL_FEATURES, type ModelFeature } from '../../contract/ml';
import { SENTIMENT_FEATURE } from '../../contract/news';
import { InputError } from '../../errors';
import type { Panel } from '../../backtest/types';

/** Features of one panel: `values[a]` is row-major [T, F] for symbol a (NaN where undefined). */
export interface FeatureMatrix {
  readonly names: readonly ModelFeature[];
  readonly symbols: readonly string[];
  readonly dates: readonly string[];
  readonly values: readonly Float64Array[];
}

const KNOWN = new Set<string>([...FEATURE_NAMES, ...OPTIONAL_FEATURES]);

/**
 * Checks feature names (e.g. a model manifest's) against the feature set and the optional
 * features; InputError naming the first unknown one.
 */
export function checkFeatureNames(names: readonly string[], field = 'features'): ModelFeature[] {
  if (names.length === 0) throw new InputError(`${field}: no features listed`, field);
  const seen = new Set<string>();
  for (const n of names) {
    if (!KNOWN.has(n))
      throw new InputError(
        `${field}: unknown feature "${n}" (the feature set has ${FEATURE_NAMES.join(', ')}; optional: ${OPTIONAL_FEATURES.join(', ')})`,
        field,
      );
    if (seen.has(n)) throw new InputError(`${field}: feature "${n}" listed twice`, field);
    seen.add(n);
  }
  return names as ModelFeature[];
}

/** x[t] / x[t-n] - 1 from bar n on. */
function lagReturn(c: Float64Array, n: number): Float64Array {
  const out = new Float64Array(c.length).fill(NaN);
  for (let t = n; t < c.length; t++) out[t] = c[t] / c[t - n] - 1;
  return out;
}

/** Mean of x over the `n` bars ending at t (from bar n-1 on). */
function rollingMean(x: Float64Array, n: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  for (let t = n - 1; t < x.length; t++) {
    let s = 0;
    for (let i = t - n + 1; i <= t; i++) s += x[i];
    out[t] = s / n;
  }
  return out;
}

/** Sample standard deviation over the `n` bars ending at t (two-pass per window, from bar n-1 on). */
function rollingSd(x: Float64Array, n: number, mean: Float64Array): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  for (let t = n - 1; t < x.length; t++) {
    const m = mean[t];
    let ss = 0;
    for (let i = t - n + 1; i <= t; i++) ss += (x[i] - m) * (x[i] - m);
    out[t] = Math.sqrt(ss / (n - 1));
  }
  return out;
}

/** a / b, NaN when b is 0 (SQL's NULLIF(b, 0)). */
const div = (a: number, b: number): number => (b === 0 ? NaN : a / b);

/** Single-symbol features (everything but the cross-sectional ranks). */
function ownFeatures(close: Float64Array, volume: Float64Array | undefined): Map<ModelFeature, Float64Array> {
  const n = close.length;
  const f = new Map<ModelFeature, Float64Array>();
  const r1 = lagReturn(close, 1);
  f.set('ret_1', r1);
  f.set('ret_5', lagReturn(close, 5));
  f.set('ret_20', lagReturn(close, 20));
  // vol_20 needs 20 returns: bars 1..t, so from bar 20 on.
  const r1Mean = rollingMean(r1, 20);
  f.set('vol_20', rollingSd(r1, 20, r1Mean));
  const m5 = rollingMean(close, 5);
  const m20 = rollingMean(close, 20);
  const m50 = rollingMean(close, 50);
  const sd20 = rollingSd(close, 20, m20);
  const z = new Float64Array(n);
  const s520 = new Float64Array(n);
  const s2050 = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    z[t] = div(close[t] - m20[t], sd20[t]);
    s520[t] = m5[t] / m20[t] - 1;
    s2050[t] = m50[t] === m50[t] ? m20[t] / m50[t] - 1 : NaN;
  }
  f.set('zscore_20', z);
  f.set('sma_ratio_5_20', s520);
  f.set('sma_ratio_20_50', s2050);
  const vr = new Float64Array(n).fill(NaN);
  const vz = new Float64Array(n).fill(NaN);
  if (volume) {
    const vm = rollingMean(volume, 20);
    const vsd = rollingSd(volume, 20, vm);
    for (let t = 19; t < n; t++) {
      vr[t] = div(volume[t], vm[t]);
      vz[t] = div(volume[t] - vm[t], vsd[t]);
    }
  }
  f.set('volume_ratio_20', vr);
  f.set('volume_z_20', vz);
  return f;
}

/**
 * Percentile rank across symbols at each bar (see src/contract/ml.ts): values[a][t] → rank in
 * [0, 1], NaN where the value is NaN, 0.5 when only one symbol has a value.
 */
export function crossSectionalRank(values: readonly Float64Array[]): Float64Array[] {
  const k = values.length;
  const n = k > 0 ? values[0].length : 0;
  const out = values.map(() => new Float64Array(n).fill(NaN));
  // Sorting each bar's values: O(k log k) per bar (a pairwise count is O(k^2), minutes for 500 symbols).
  const idx: number[] = [];
  const v = new Float64Array(k);
  for (let t = 0; t < n; t++) {
    idx.length = 0;
    for (let a = 0; a < k; a++) {
      v[a] = values[a][t];
      if (!Number.isNaN(v[a])) idx.push(a);
    }
    const count = idx.length;
    if (count === 0) continue;
    if (count === 1) {
      out[idx[0]][t] = 0.5;
      continue;
    }
    idx.sort((x, y) => v[x] - v[y]);
    let rank = 0; // 0-based rank of the first of a run of equal values (ties share the lowest rank)
    for (let i = 0; i < count; i++) {
      if (i > 0 && v[idx[i]] !== v[idx[i - 1]]) rank = i;
      out[idx[i]][t] = rank / (count - 1);
    }
  }
  return out;
}

/**
 * Features `names` (default: the whole set, in contract order) of every symbol and bar of the panel.
 * Volume features need the panel's volume; without it they are NaN. The daily news sentiment comes
 * from the panel's side data (`aux.fields.news_sentiment_1d`, src/news/panel.ts): a panel without
 * it is an InputError, never a silent 0.
 */
export function computeFeatures(panel: Panel, names: readonly ModelFeature[] = FEATURE_NAMES): FeatureMatrix {
  const per: Map<ModelFeature, Float64Array>[] = panel.close.map((c, a) => ownFeatures(c, panel.volume?.[a]));
  if (names.includes(SENTIMENT_FEATURE)) {
    const s = panel.aux?.fields?.[SENTIMENT_FEATURE];
    if (!s || s.length !== panel.symbols.length)
      throw new InputError(
        `bars.aux.fields.${SENTIMENT_FEATURE}: the model uses the daily news sentiment but the bars carry none (read it from the lake's news_sentiment with attachNewsSentiment, or give it as a fields file)`,
        `bars.aux.fields.${SENTIMENT_FEATURE}`,
      );
    per.forEach((m, a) => m.set(SENTIMENT_FEATURE, s[a]));
  }
  for (const [xs, base] of [
    ['xs_rank_ret_5', 'ret_5'],
    ['xs_rank_ret_20', 'ret_20'],
  ] as const) {
    if (!names.includes(xs)) continue;
    const ranks = crossSectionalRank(per.map((m) => m.get(base)!));
    per.forEach((m, a) => m.set(xs, ranks[a]));
  }
  const n = panel.dates.length;
  const F = names.length;
  const values = per.map((m) => {
    const out = new Float64Array(n * F);
    names.forEach((name, j) => {
      const col = m.get(name)!;
      for (let t = 0; t < n; t++) out[t * F + j] = col[t];
    });
    return out;
  });
  return { names, symbols: panel.symbols, dates: panel.dates, values };
}

/** Simple return from the close of t to the close of t + horizon (NaN for the last `horizon` bars). */
export function forwardReturns(close: Float64Array, horizon: number): Float64Array {
  const out = new Float64Array(close.length).fill(NaN);
  for (let t = 0; t + horizon < close.length; t++) out[t] = close[t + horizon] / close[t] - 1;
  return out;
}

/** Bars before every feature of `names` can be defined (the longest window's warm-up). */
export function warmupBars(names: readonly ModelFeature[]): number {
  const need: Record<ModelFeature, number> = {
    ret_1: 2,
    ret_5: 6,
    ret_20: 21,
    vol_20: 21,
    zscore_20: 20,
    sma_ratio_5_20: 20,
    sma_ratio_20_50: 50,
    volume_ratio_20: 20,
    volume_z_20: 20,
    xs_rank_ret_5: 6,
    xs_rank_ret_20: 21,
    // The first bar's window has no previous bar to start at (src/news/daily.ts looks back one day):
    // its value depends on where the panel starts, so no model row uses it.
    news_sentiment_1d: 2,
  };
  return Math.max(...names.map((n) => need[n]));
}
