/** Model directories for tests, built in TypeScript (no Python): model.onnx + manifest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FEATURE_NAMES, FEATURE_SET_VERSION, MANIFEST_FILE, MODEL_FILE } from '../../src/contract/ml';
import { mlpModel, randomMlp, tcnModel, type MlpWeights } from '../../src/ml/inference/onnx-builder';

/** Features that need only closes (the backtest fixtures have no volume). */
export const CLOSE_FEATURES = FEATURE_NAMES.filter((f) => !f.startsWith('volume_'));

export interface FixtureModel {
  readonly dir: string;
  readonly weights?: MlpWeights;
  readonly manifest: Record<string, unknown>;
}

export interface FixtureOptions {
  readonly features?: readonly string[];
  readonly window?: number;
  readonly kind?: 'return' | 'probability';
  readonly seed?: number;
  /** Replaces manifest fields after the defaults. */
  readonly manifest?: Record<string, unknown>;
  /** Model bytes to write instead of the generated graph. */
  readonly onnx?: Uint8Array;
}

/** Writes a model directory: an MLP (window 1) or a small temporal convolution (window > 1). */
export function writeModelDir(dir: string, o: FixtureOptions = {}): FixtureModel {
  const features = o.features ?? FEATURE_NAMES;
  const window = o.window ?? 1;
  const F = features.length;
  const weights = window === 1 ? randomMlp([F, 16, 8, 1], o.seed ?? 7) : undefined;
  const onnx = o.onnx ?? (weights ? mlpModel(weights) : tcnModel(window, F, 8, o.seed ?? 11));
  const manifest = {
    schemaVersion: 1,
    modelName: 'ml-signal',
    architecture: window === 1 ? 'mlp' : 'seq',
    target: o.kind === 'probability' ? 'sign' : 'return',
    horizon: 5,
    window,
    features,
    featureSetVersion: FEATURE_SET_VERSION,
    input: { name: 'features', shape: [null, window * F] },
    output: { name: 'score', kind: o.kind ?? 'return' },
    normalisation: { mean: new Array(F).fill(0), std: new Array(F).fill(1) },
    ...o.manifest,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, MODEL_FILE), onnx);
  writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  return { dir, weights, manifest };
}
