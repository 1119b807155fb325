/**
 * Workflow step (c): backtests the candidate model's strategy on the held-out window of its
 * manifest, against the champion (the newest Approved version of the same model, if any) and the
 * sma-cross baseline, with the same costs; a gate decides whether the candidate may be approved.
 * Positions are computed on all the bars (so features have their history) and only the held-out
 * bars are traded.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runPortfolio } from '../../backtest/engine';
import { parseStrategyParams } from '../../backtest/strategies';
import type { Panel } from '../../backtest/types';
import { DEFAULT_MODEL_NAME } from '../../contract/models';
import { InputError } from '../../errors';
import type { NewsReader } from '../../news/reader';
import { attachModelInputs } from '../model-inputs';
import { sha256Hex } from '../registry/s3-registry';
import { loadRegisteredModel, type ModelRegistry } from '../registry/types';
import {
  barStrategy,
  barTimeOf,
  panelUpTo,
  type BarStrategy,
  type LoadedModel,
  type ModelStrategyFactory,
} from '../../strategy-runner/runner';
import { EVALUATION_FILE, MANIFEST_FILE, MODEL_FILE } from '../../contract/ml';

export interface GateConfig {
  /** The candidate's Sharpe must be at least the champion's plus this. @default 0 */
  readonly minSharpeOverChampion: number;
  /** The manifest's held-out IC (`test_ic`) must exceed this. @default 0 */
  readonly minIc: number;
  /** The candidate must also beat the sma-cross baseline's Sharpe. @default false */
  readonly mustBeatBaseline: boolean;
}

export const DEFAULT_GATE: GateConfig = { minSharpeOverChampion: 0, minIc: 0, mustBeatBaseline: false };

export interface RunSummary {
  readonly label: string;
  readonly sharpe: number;
  readonly totalReturn: number;
  readonly maxDrawdown: number;
  readonly trades: number;
}

export interface EvaluationReport {
  readonly window: { readonly from: string; readonly to: string; readonly bars: number };
  readonly candidate: RunSummary;
  readonly champion?: RunSummary & { readonly version: number };
  readonly baseline: RunSummary;
  readonly ic: number;
  readonly gate: GateConfig & { readonly passed: boolean; readonly reasons: readonly string[] };
}

export interface EvaluateDeps {
  readonly registry: ModelRegistry;
  readonly modelStrategy: ModelStrategyFactory;
  /** Reader of the lake's news_sentiment, for models on feature set version 2 (src/ml/model-inputs.ts). */
  readonly news?: NewsReader;
}

export interface EvaluateInput {
  readonly modelDir: string;
  readonly panel: Panel;
  readonly gate?: Partial<GateConfig>;
  /** Parameters of the model strategy (threshold, sizing). @default its defaults */
  readonly params?: Readonly<Record<string, number | boolean>>;
  /** @default 1 */
  readonly costBps?: number;
  /** @default sma-cross 20/50 */
  readonly baseline?: {
    readonly strategy: string;
    readonly params: Readonly<Record<string, number | boolean>>;
  };
}

interface Manifest {
  modelName?: string;
  testWindow?: { from: string; to: string };
  metrics?: Record<string, number>;
}

function readJson<T>(file: string): T {
  if (!existsSync(file)) throw new InputError(`${file}: missing`, file);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message})`, file);
  }
}

/** Bars [first, last] of the panel inside the window (a date `to` includes its whole day). */
function windowRange(panel: Panel, w: { from: string; to: string }): [number, number] {
  const lo = barTimeOf(w.from);
  const hi = w.to.length === 10 ? barTimeOf(w.to) + 86_400_000 - 1 : barTimeOf(w.to);
  let first = -1;
  let last = -1;
  panel.dates.forEach((d, t) => {
    const x = barTimeOf(d);
    if (x >= lo && x <= hi) {
      if (first < 0) first = t;
      last = t;
    }
  });
  return [first, last];
}

async function backtest(
  label: string,
  bars: Panel,
  s: BarStrategy,
  first: number,
  last: number,
  costBps: number,
  news?: NewsReader,
): Promise<RunSummary> {
  // A model on feature set version 2 scores on the lake's sentiment, as in training.
  const panel = s.features
    ? await attachModelInputs(bars, [{ model: label, features: s.features }], () => news)
    : bars;
  const w = s
    .positions(panel)
    .map((x) => x.subarray(first, last + 1).map((v) => (Number.isFinite(v) ? v : 0)));
  const r = runPortfolio(panelUpTo(panel, last, last - first + 1), w, {
    strategy: label,
    params: {},
    costBps,
  });
  const { sharpe, totalReturn, maxDrawdown, trades } = r.summary;
  return { label, sharpe, totalReturn, maxDrawdown, trades };
}

export async function evaluateStep(deps: EvaluateDeps, input: EvaluateInput): Promise<EvaluationReport> {
  const manifest = readJson<Manifest>(path.join(input.modelDir, MANIFEST_FILE));
  const modelName = manifest.modelName ?? DEFAULT_MODEL_NAME;
  if (!manifest.testWindow)
    throw new InputError(`${input.modelDir}/manifest.json: no testWindow`, 'manifest.testWindow');
  const [first, last] = windowRange(input.panel, manifest.testWindow);
  if (first < 0 || last - first < 2)
    throw new InputError(
      `bars: fewer than 3 bars inside the held-out window ${manifest.testWindow.from}..${manifest.testWindow.to}`,
      'bars',
    );
  const costBps = input.costBps ?? 1;
  const strategy = DEFAULT_MODEL_NAME;
  const params = input.params ?? {};
  const onnx = new Uint8Array(readFileSync(path.join(input.modelDir, MODEL_FILE)));
  const candidateModel: LoadedModel = { name: modelName, version: 0, onnx, manifest };
  const candidate = await backtest(
    'candidate',
    input.panel,
    await deps.modelStrategy(strategy, candidateModel, params),
    first,
    last,
    costBps,
    deps.news,
  );
  // The champion is another model: a candidate already registered (a re-run) is not its own rival.
  const sha = sha256Hex(onnx);
  const approved = (await deps.registry.list(modelName)).filter(
    (v) => v.status === 'Approved' && v.sha256 !== sha,
  );
  let champion: EvaluationReport['champion'];
  if (approved.length > 0) {
    const v = approved[0];
    const loaded = await loadRegisteredModel(deps.registry, modelName, v.version);
    champion = {
      ...(await backtest(
        `champion v${v.version}`,
        input.panel,
        await deps.modelStrategy(strategy, loaded, params),
        first,
        last,
        costBps,
        deps.news,
      )),
      version: v.version,
    };
  }
  const base = input.baseline ?? { strategy: 'sma-cross', params: { fast: 20, slow: 50 } };
  const baseParams = parseStrategyParams(base.strategy, base.params);
  const baseline = await backtest(
    `${base.strategy} ${Object.entries(baseParams)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    input.panel,
    barStrategy(base.strategy, baseParams),
    first,
    last,
    costBps,
  );
  const gate: GateConfig = { ...DEFAULT_GATE, ...input.gate };
  const ic = manifest.metrics?.test_ic ?? NaN;
  const reasons: string[] = [];
  if (!(ic > gate.minIc)) reasons.push(`held-out IC ${ic.toFixed(4)} is not above ${gate.minIc}`);
  if (champion && !(candidate.sharpe >= champion.sharpe + gate.minSharpeOverChampion))
    reasons.push(
      `Sharpe ${candidate.sharpe.toFixed(3)} is below the champion's (v${champion.version}) ${champion.sharpe.toFixed(3)}${gate.minSharpeOverChampion ? ` + ${gate.minSharpeOverChampion}` : ''}`,
    );
  if (gate.mustBeatBaseline && !(candidate.sharpe > baseline.sharpe))
    reasons.push(
      `Sharpe ${candidate.sharpe.toFixed(3)} does not beat ${baseline.label} (${baseline.sharpe.toFixed(3)})`,
    );
  return {
    window: { from: input.panel.dates[first], to: input.panel.dates[last], bars: last - first + 1 },
    candidate,
    champion,
    baseline,
    ic,
    gate: { ...gate, passed: reasons.length === 0, reasons },
  };
}

/** Adds the report to the model directory's evaluation.json (key `backtest`), atomically. */
export function writeEvaluation(modelDir: string, report: EvaluationReport): void {
  const file = path.join(modelDir, EVALUATION_FILE);
  const doc = { ...readJson<Record<string, unknown>>(file), backtest: report };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
