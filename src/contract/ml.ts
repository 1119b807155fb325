/**
 * Names shared by the features step (DuckDB locally, Athena UNLOAD in AWS), the training script
 * (training/train.py reads them as the `features` hyperparameter), the model files and the
 * `ml-signal` strategy. Imports only src/contract.
 */
import { SENTIMENT_FEATURE } from './news';

/** Bumped whenever a feature's definition changes (a model trained on another version is refused). */
export const FEATURE_SET_VERSION = 1;

/**
 * The feature set, in the default column order of the features file. Definitions (c = close,
 * v = volume, r = 1-bar simple return, windows end at and include bar t of the same symbol):
 * - ret_N: c[t] / c[t-N] - 1
 * - vol_20: sample standard deviation of r over the last 20 bars
 * - zscore_20: (c[t] - mean20(c)) / sd20(c) (sample sd)
 * - sma_ratio_A_B: mean_A(c) / mean_B(c) - 1
 * - volume_ratio_20: v[t] / mean20(v)
 * - volume_z_20: (v[t] - mean20(v)) / sd20(v)
 * - xs_rank_ret_N: percentile rank of ret_N among the symbols that have it at the same ts,
 *   (rank - 1) / (n - 1) with rank 1 for the lowest and ties sharing the lowest rank; 0.5 when only
 *   one symbol has a value (a one-symbol universe carries no cross-sectional information).
 * A feature is empty (NULL / NaN) until its window is full, and when a denominator is 0.
 */
export const FEATURE_NAMES = [
  'ret_1',
  'ret_5',
  'ret_20',
  'vol_20',
  'zscore_20',
  'sma_ratio_5_20',
  'sma_ratio_20_50',
  'volume_ratio_20',
  'volume_z_20',
  'xs_rank_ret_5',
  'xs_rank_ret_20',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

/**
 * Feature set version 2: version 1 and, opt-in, the daily news sentiment (`news_sentiment_1d`,
 * src/contract/news.ts: point in time, an article counts only after its publication). A model
 * whose features include it is trained and served on version 2; every other model stays on
 * FEATURE_SET_VERSION, so models trained before keep theirs.
 */
export const SENTIMENT_FEATURE_SET_VERSION = 2;

/** Features a model may use beyond FEATURE_NAMES (opt-in; they need side data, not only bars). */
export const OPTIONAL_FEATURES = [SENTIMENT_FEATURE] as const;

/** A feature a model may list: the set's, or an optional one. */
export type ModelFeature = FeatureName | (typeof OPTIONAL_FEATURES)[number];

/** The feature set version that computes `features` (the manifest's `featureSetVersion`). */
export function featureSetVersionOf(features: readonly string[]): number {
  return features.includes(SENTIMENT_FEATURE) ? SENTIMENT_FEATURE_SET_VERSION : FEATURE_SET_VERSION;
}

/** The label column: simple return from the close of bar t to the close of bar t + horizon. */
export const LABEL_COLUMN = 'fwd_return';

/** Bars between a decision and the label's close. */
export const DEFAULT_HORIZON = 5;

/** First columns of the features file, before the features. */
export const KEY_COLUMNS = ['ts', 'symbol'] as const;

/** File names inside a model directory (training output, registry version). */
export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'manifest.json';
export const EVALUATION_FILE = 'evaluation.json';
export const PARITY_FILE = 'parity.json';

/** Input and output names of the model graph. */
export const MODEL_INPUT_NAME = 'features';
export const MODEL_OUTPUT_NAME = 'score';

/** manifest.json `schemaVersion` this code reads. */
export const MANIFEST_SCHEMA_VERSION = 1;
