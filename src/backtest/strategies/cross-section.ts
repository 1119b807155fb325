/** Helpers shared by the cross-sectional strategies (carry, factors, dual momentum, macro). */
import { InputError } from '../../errors';
import type { Panel } from '../types';

/**
 * Long the `topK` highest scores at 1/topK each, or with `short` +0.5/topK for the top and
 * -0.5/topK for the bottom topK (dollar-neutral, gross 1). NaN scores are left out; ties rank by
 * universe order. Writes into w[a][t]; returns how many symbols had a score.
 */
export function rankTopK(
  score: Float64Array,
  topK: number,
  short: boolean,
  w: readonly Float64Array[],
  t: number,
): number {
  const idx: number[] = [];
  for (let a = 0; a < score.length; a++) if (Number.isFinite(score[a])) idx.push(a);
  idx.sort((i, j) => score[j] - score[i] || i - j);
  const m = idx.length;
  const kLong = Math.min(topK, short ? Math.floor(m / 2) : m);
  for (let a = 0; a < score.length; a++) w[a][t] = 0;
  for (let r = 0; r < kLong; r++) {
    w[idx[r]][t] = short ? 0.5 / kLong : 1 / kLong;
    if (short) w[idx[m - 1 - r]][t] = -0.5 / kLong;
  }
  return m;
}

/** Copies bar t-1's weights to bar t (between rebalances). */
export function hold(w: readonly Float64Array[], t: number): void {
  for (const col of w) col[t] = col[t - 1];
}

/** Calls `rebalance(t)` every `every` bars from `start` to n - 1; the bars between hold their weights. */
export function onSchedule(
  w: readonly Float64Array[],
  start: number,
  n: number,
  every: number,
  rebalance: (t: number) => void,
): void {
  for (let t = start; t < n; t++) {
    if ((t - start) % every === 0) rebalance(t);
    else hold(w, t);
  }
}

/** The symbols a top-k book needs (k long, and k short with `short`); an InputError if k has fewer. */
export function topKNeed(topK: number, short: boolean, k: number): number {
  const need = short ? 2 * topK : topK;
  if (need > k) {
    throw new InputError(
      `param.topK: ${topK}${short ? ' long and short' : ''} needs at least ${need} symbols, the universe has ${k}`,
      'param.topK',
    );
  }
  return need;
}

/** A per-symbol field of the panel's side data, or an InputError naming what is missing. */
export function requireField(panel: Panel, name: string, why: string): readonly Float64Array[] {
  const f = panel.aux?.fields?.[name];
  if (!f) {
    throw new InputError(
      `data.fields.${name}: ${why} needs the field "${name}" (--data fields=FILE with a ${name} column, or a synthetic: source that has it)`,
      `data.fields.${name}`,
    );
  }
  return f;
}

/** Cross-sectional z-scores of the finite entries (population stdev), winsorised at ±3; NaN stays NaN. */
export function zScores(x: Float64Array): Float64Array {
  let s = 0;
  let ss = 0;
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) {
      s += x[i];
      ss += x[i] * x[i];
      m++;
    }
  }
  const out = new Float64Array(x.length).fill(NaN);
  if (m === 0) return out;
  const mean = s / m;
  const sd = Math.sqrt(Math.max(0, ss / m - mean * mean));
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) out[i] = sd > 0 ? Math.max(-3, Math.min(3, (x[i] - mean) / sd)) : 0;
  }
  return out;
}
