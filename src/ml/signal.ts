/**
 * The `ml-signal` strategy's work: features of a panel (src/ml/features/compute.ts) laid out as the
 * model's rows, batch inference, and positions from the scores by a threshold or sizing rule.
 * Synchronous callers (backtests, sweeps, walk-forward, paper) use `mlSignalPositions`; the
 * asynchronous path (`loadSignalModel` + `scorePanelAsync`) is for services that can await.
 */
import type { Panel } from '../backtest/types';
import type { ModelFeature } from '../contract/ml';
import { SENTIMENT_FEATURE } from '../contract/news';
import { InputError } from '../errors';
import { computeFeatures, warmupBars } from './features/compute';
import { checkGraph, readModelDir, type Manifest, type ModelFiles } from './inference/model-dir';
import { resolveModelRef, resolvedModelDir } from './inference/resolver';
import { openModel, runBatches, type OnnxModel } from './inference/session';
import { SyncOnnxModel } from './inference/sync-bridge';

export interface MlSignalParams {
  /** Model directory or registry version `name@version`. */
  readonly model: string;
  /** Long when score - centre > threshold (centre: 0 for returns, 0.5 for probabilities). */
  readonly threshold: number;
  /** Also short when score - centre < -threshold. */
  readonly short: boolean;
  /** > 0: size = (score - centre) / scale clipped to [-1, 1] (or [0, 1] without short) instead of all-in. */
  readonly scale: number;
}

/** Model rows of a panel: `data` is [rows, width] float32; `at[i]` = [symbol index, bar] of row i. */
export interface PanelRows {
  readonly data: Float32Array;
  readonly rows: number;
  readonly width: number;
  readonly symbolOf: Int32Array;
  readonly barOf: Int32Array;
}

/**
 * Lays out the model's input rows: for each symbol and each bar t once every feature of the
 * window t-window+1..t is defined, the features oldest lag first. Before that (warm-up) no row; a
 * feature missing after the warm-up (e.g. volume that is 0 over a window) is an InputError naming
 * symbol, date and feature: the strategy never trades on a partial row.
 */
export function panelRows(panel: Panel, features: readonly ModelFeature[], window: number): PanelRows {
  const needsVolume = features.filter((f) => f.startsWith('volume_'));
  if (needsVolume.length > 0 && !panel.volume)
    throw new InputError(
      `bars: the model's feature ${needsVolume[0]} needs volume; the bars have no volume column`,
      'bars',
    );
  const m = computeFeatures(panel, features);
  const F = features.length;
  const T = panel.dates.length;
  const first = warmupBars(features) - 1 + (window - 1);
  const perSymbol = Math.max(0, T - first);
  const rows = perSymbol * panel.symbols.length;
  const width = F * window;
  const data = new Float32Array(rows * width);
  const symbolOf = new Int32Array(rows);
  const barOf = new Int32Array(rows);
  let r = 0;
  panel.symbols.forEach((sym, a) => {
    const v = m.values[a];
    for (let t = first; t < T; t++) {
      const base = r * width;
      for (let lag = 0; lag < window; lag++) {
        const src = (t - window + 1 + lag) * F;
        for (let j = 0; j < F; j++) {
          const x = v[src + j];
          if (!Number.isFinite(x))
            throw new InputError(
              `bars: feature ${features[j]} of ${sym} on ${panel.dates[t - window + 1 + lag]} is not a number (${x}); the model cannot score it`,
              `bars.${sym}.${features[j]}`,
            );
          data[base + lag * F + j] = x;
        }
      }
      symbolOf[r] = a;
      barOf[r] = t;
      r++;
    }
  });
  return { data, rows, width, symbolOf, barOf };
}

/** Scores per symbol and bar (NaN during warm-up). */
export type PanelScores = Float64Array[];

function scatter(panel: Panel, rows: PanelRows, values: ArrayLike<number>): PanelScores {
  const out = panel.symbols.map(() => new Float64Array(panel.dates.length).fill(NaN));
  for (let i = 0; i < rows.rows; i++) out[rows.symbolOf[i]][rows.barOf[i]] = values[i];
  return out;
}

/** Score centre of the model's output kind. */
export function scoreCentre(manifest: Manifest): number {
  return manifest.output.kind === 'probability' ? 0.5 : 0;
}

/**
 * Positions from scores: per symbol +1 / 0 (/ -1 with short) by the threshold rule, or sized by
 * `scale`; divided by the number of symbols so the book's gross exposure is at most 1.
 */
export function positionsFromScores(scores: PanelScores, centre: number, p: MlSignalParams): Float64Array[] {
  const k = scores.length;
  return scores.map((s) => {
    const w = new Float64Array(s.length);
    for (let t = 0; t < s.length; t++) {
      const x = s[t] - centre;
      if (Number.isNaN(x)) continue;
      let pos: number;
      if (p.scale > 0) {
        const edge = Math.abs(x) > p.threshold ? x / p.scale : 0;
        pos = Math.max(p.short ? -1 : 0, Math.min(1, edge));
      } else pos = x > p.threshold ? 1 : p.short && x < -p.threshold ? -1 : 0;
      w[t] = pos / k;
    }
    return w;
  });
}

interface SyncLoaded {
  readonly files: ModelFiles;
  readonly model: SyncOnnxModel;
  readonly input: string;
  readonly width: number;
}

const syncModels = new Map<string, SyncLoaded>();

/** Loads (once per file version) a model directory for synchronous inference, checked against its manifest. */
export function loadSignalModelSync(dir: string, field = 'param.model'): SyncLoaded {
  const files = readModelDir(dir, field);
  const hit = syncModels.get(files.key);
  if (hit) return hit;
  const model = SyncOnnxModel.load(files.onnx, field);
  const { input, width } = checkGraph(files, model.inputs, model.outputs, field);
  const loaded = { files, model, input, width };
  syncModels.set(files.key, loaded);
  return loaded;
}

/** Identity numbers of the panel's arrays: the score cache's key (a sweep passes the same arrays to every run). */
const arrayIds = new WeakMap<object, number>();
let nextArrayId = 1;
function arrayId(a: object | undefined): number {
  if (!a) return 0;
  let id = arrayIds.get(a);
  if (id === undefined) arrayIds.set(a, (id = nextArrayId++));
  return id;
}

/** Scores per (model file version, panel arrays), a few kept: a sweep over the threshold runs inference once. */
const scoreCache = new Map<string, PanelScores>();
const SCORE_CACHE_ENTRIES = 8;

/** Scores every symbol and bar of the panel with the model at `ref` (synchronously). */
export function scorePanelSync(panel: Panel, ref: string): { scores: PanelScores; manifest: Manifest } {
  const loaded = loadSignalModelSync(resolvedModelDir(ref));
  const key = [
    loaded.files.key,
    panel.symbols.join(','),
    arrayId(panel.dates),
    panel.close.map(arrayId).join(','),
    (panel.volume ?? []).map(arrayId).join(','),
    (panel.aux?.fields?.[SENTIMENT_FEATURE] ?? []).map(arrayId).join(','),
  ].join('|');
  const hit = scoreCache.get(key);
  if (hit) return { scores: hit, manifest: loaded.files.manifest };
  const rows = panelRows(panel, loaded.files.features, loaded.files.manifest.window);
  const values = loaded.model.run(loaded.input, rows.data, rows.rows, rows.width, 1);
  const scores = scatter(panel, rows, values);
  if (scoreCache.size >= SCORE_CACHE_ENTRIES) scoreCache.delete(scoreCache.keys().next().value!);
  scoreCache.set(key, scores);
  return { scores, manifest: loaded.files.manifest };
}

/**
 * The models of a strategy's runs (each run's `model` parameter, once `prepareStrategy` has
 * resolved it) with the features their manifests list: what src/ml/model-inputs.ts reads for them.
 * Runs without a model parameter need nothing.
 */
export function modelInputNeeds(
  runs: readonly Readonly<Record<string, unknown>>[],
): { model: string; features: readonly ModelFeature[] }[] {
  const refs = [...new Set(runs.flatMap((p) => (typeof p.model === 'string' ? [p.model] : [])))];
  return refs.map((model) => ({
    model,
    features: loadSignalModelSync(resolvedModelDir(model)).files.features,
  }));
}

/** The strategy's positions (synchronous; a registry version must have been resolved by `prepareMlSignal`). */
export function mlSignalPositions(panel: Panel, p: MlSignalParams): Float64Array[] {
  const { scores, manifest } = scorePanelSync(panel, p.model);
  return positionsFromScores(scores, scoreCentre(manifest), p);
}

/** The strategy's asynchronous prepare step: resolves a registry version and loads and checks the model once. */
export async function prepareMlSignal(p: MlSignalParams): Promise<void> {
  const dir = await resolveModelRef(p.model);
  loadSignalModelSync(dir);
}

/** A model loaded for asynchronous inference (services that can await, e.g. a strategy runner). */
export interface SignalModel {
  readonly files: ModelFiles;
  readonly model: OnnxModel;
  readonly input: string;
  readonly width: number;
}

/** Loads a model directory or registry version for asynchronous inference, checked against its manifest. */
export async function loadSignalModel(ref: string, field = 'param.model'): Promise<SignalModel> {
  const files = readModelDir(await resolveModelRef(ref, field), field);
  const model = await openModel(files.onnx, field);
  const { input, width } = checkGraph(files, model.inputs, model.outputs, field);
  return { files, model, input, width };
}

/** Scores of a panel with an asynchronously loaded model (same rows and numbers as the sync path). */
export async function scorePanelAsync(panel: Panel, m: SignalModel): Promise<PanelScores> {
  const rows = panelRows(panel, m.files.features, m.files.manifest.window);
  const out = await runBatches(m.model, m.input, rows.data, rows.rows, rows.width);
  return scatter(panel, rows, out.values);
}
