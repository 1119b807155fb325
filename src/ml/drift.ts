/**
 * The drift check: population stability index of live feature values against the training
 * distribution in the manifest's `featureStats` (10 quantile edges → 11 bins with their training
 * proportions). A value's bin is the number of edges <= it (bin 0: x < edges[0]; bin 10:
 * x >= edges[9]), numpy's `searchsorted(edges, x, side='right')` as training/quant_ml/job.py uses.
 * PSI = Σ (live_i - train_i) · ln(live_i / train_i), with empty bins floored at 1e-4 so one empty
 * bin gives a large but finite value. The alarm wiring is in the training stack.
 */
import { DEFAULT_PSI_THRESHOLD } from '../contract/models';
import { InputError } from '../errors';

export interface FeatureStats {
  readonly edges: readonly number[];
  readonly proportions: readonly number[];
}

export interface FeatureDrift {
  readonly psi: number;
  readonly exceeds: boolean;
  /** Finite live values counted. */
  readonly n: number;
}

export interface DriftResult {
  readonly threshold: number;
  readonly features: Readonly<Record<string, FeatureDrift>>;
  readonly maxPsi: number;
  /** Features whose PSI exceeds the threshold. */
  readonly drifted: readonly string[];
  readonly exceeds: boolean;
}

const FLOOR = 1e-4;

/** Index of the bin of x: the number of edges <= x. */
export function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function psi(expected: readonly number[], actual: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i], FLOOR);
    const a = Math.max(actual[i], FLOOR);
    s += (a - e) * Math.log(a / e);
  }
  return s;
}

function checkStats(name: string, st: FeatureStats): void {
  const field = `featureStats.${name}`;
  if (!Array.isArray(st?.edges) || !Array.isArray(st?.proportions))
    throw new InputError(`${field}: needs edges and proportions`, field);
  if (st.proportions.length !== st.edges.length + 1)
    throw new InputError(
      `${field}: ${st.edges.length} edges need ${st.edges.length + 1} proportions, got ${st.proportions.length}`,
      field,
    );
  for (let i = 1; i < st.edges.length; i++)
    if (!(st.edges[i] >= st.edges[i - 1])) throw new InputError(`${field}.edges: not sorted at ${i}`, field);
}

/**
 * PSI of each feature's live values (NaN and infinities ignored) against its training stats.
 * A feature with no finite live value is an InputError (nothing to compare).
 */
export function driftCheck(
  featureStats: Readonly<Record<string, FeatureStats>>,
  live: Readonly<Record<string, ArrayLike<number>>>,
  threshold: number = DEFAULT_PSI_THRESHOLD,
): DriftResult {
  if (!(threshold > 0)) throw new InputError(`threshold: must be > 0, got ${threshold}`, 'threshold');
  const features: Record<string, FeatureDrift> = {};
  for (const [name, values] of Object.entries(live)) {
    const st = featureStats[name];
    if (!st)
      throw new InputError(`features.${name}: no training statistics in the manifest`, `features.${name}`);
    checkStats(name, st);
    const counts = new Array<number>(st.proportions.length).fill(0);
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (!Number.isFinite(x)) continue;
      counts[binOf(st.edges, x)]++;
      n++;
    }
    if (n === 0) throw new InputError(`features.${name}: no finite live values`, `features.${name}`);
    const v = psi(
      st.proportions,
      counts.map((c) => c / n),
    );
    features[name] = { psi: v, exceeds: v > threshold, n };
  }
  const drifted = Object.keys(features).filter((k) => features[k].exceeds);
  const maxPsi = Math.max(0, ...Object.values(features).map((f) => f.psi));
  return { threshold, features, maxPsi, drifted, exceeds: drifted.length > 0 };
}
