/**
 * The scheduled drift check: the features of the last bars of the model's universe against the
 * training statistics in the manifest of the version approved for the environment (population
 * stability index per feature, src/ml/drift.ts), published as metrics the drift alarm watches.
 */
import type { Panel } from '../../backtest/types';
import { DRIFT_METRIC, type Environment } from '../../contract/models';
import { TRAINING_METRICS } from '../../contract/training';
import { computeFeatures, checkFeatureNames } from '../features/compute';
import type { NewsReader } from '../../news/reader';
import { attachModelInputs } from '../model-inputs';
import type { ModelRegistry } from '../registry/types';
import { driftCheck, type DriftResult, type FeatureStats } from '../drift';
import { MANIFEST_FILE } from '../../contract/ml';

export interface DriftJobDeps {
  readonly registry: Pick<ModelRegistry, 'current' | 'artifact'>;
  /** The last `bars` bars of the symbols (enough history before them for the feature windows). */
  readonly panel: (bars: number) => Promise<Panel>;
  readonly putMetrics: (namespace: string, data: readonly DriftMetricDatum[]) => Promise<void>;
  /** Reader of the lake's news_sentiment, for a model on feature set version 2 (src/ml/model-inputs.ts). */
  readonly news?: NewsReader;
}

export interface DriftMetricDatum {
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface DriftJobInput {
  readonly modelName: string;
  readonly env: Environment;
  /** Bars of live features compared with the training statistics. */
  readonly lookbackBars: number;
  readonly threshold?: number;
}

export type DriftJobResult = { readonly version: number } & DriftResult;

/** Runs the check; undefined when no version is approved for the environment (nothing to compare). */
export async function runDriftJob(
  deps: DriftJobDeps,
  input: DriftJobInput,
): Promise<DriftJobResult | undefined> {
  const version = await deps.registry.current(input.modelName, input.env);
  if (version === undefined) return undefined;
  const manifest = JSON.parse(
    new TextDecoder().decode(await deps.registry.artifact(input.modelName, version, MANIFEST_FILE)),
  ) as { features: string[]; featureStats: Record<string, FeatureStats> };
  const names = checkFeatureNames(manifest.features, `${input.modelName} v${version} manifest.features`);
  // Feature windows need history before the compared bars (the longest is 50 bars).
  const bars = await deps.panel(input.lookbackBars + 60);
  // The live features as the model sees them: with the news sentiment for a version 2 model.
  const panel = await attachModelInputs(
    bars,
    [{ model: `${input.modelName}@${version}`, features: names }],
    () => deps.news,
  );
  const m = computeFeatures(panel, names);
  const F = names.length;
  const T = panel.dates.length;
  const from = Math.max(0, T - input.lookbackBars);
  const live: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const values of m.values)
    for (let t = from; t < T; t++) names.forEach((n, j) => live[n].push(values[t * F + j]));
  const result = driftCheck(manifest.featureStats, live, input.threshold);
  const model = { [TRAINING_METRICS.modelNameDimension]: input.modelName };
  await deps.putMetrics(DRIFT_METRIC.namespace, [
    // The alarm watches the largest PSI of the model; the per-feature series say which one moved.
    { name: DRIFT_METRIC.name, dimensions: model, value: result.maxPsi },
    ...Object.entries(result.features).map(([feature, f]) => ({
      name: DRIFT_METRIC.name,
      dimensions: { ...model, Feature: feature },
      value: f.psi,
    })),
  ]);
  return { version, ...result };
}
