/**
 * The training workflow run locally, step by step: features → training → evaluation → registration
 * (`quant train --local` and the demo). The same step functions are what the training state
 * machine's tasks map to when it runs on the local Step Functions runner.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../../aws/clients';
import { loadPanel } from '../../backtest/load';
import type { Panel } from '../../backtest/types';
import {
  DEFAULT_HORIZON,
  EVALUATION_FILE,
  FEATURE_NAMES,
  featureSetVersionOf,
  MANIFEST_FILE,
  MODEL_FILE,
  PARITY_FILE,
} from '../../contract/ml';
import { SENTIMENT_FEATURE } from '../../contract/news';
import { attachNewsSentiment } from '../../news/panel';
import { InputError } from '../../errors';
import { DEFAULT_MODEL_NAME } from '../../contract/models';
import type { QueryEngine } from '../../lake/query';
import type { ModelStrategyFactory } from '../../strategy-runner/runner';
import type { ModelRegistry, RegisterResult } from '../registry/types';
import { evaluateStep, writeEvaluation, type EvaluationReport, type GateConfig } from './evaluate-step';
import {
  barsSpecs,
  featuresFromLake,
  featuresFromPanel,
  type BarsSource,
  type FeaturesStepOutput,
} from './features-step';
import { jobPaths, newJobName, type JobPaths } from './job';
import { checkPython, PythonMissingError } from './python';
import { registerStep } from './register-step';
import { runTrainingStep, type TrainStepOutput } from './train-step';

export interface LocalTrainingOptions {
  readonly dataDir: string;
  readonly bars: BarsSource;
  /** @default mlp */
  readonly model?: 'mlp' | 'seq';
  /** Only `cpu` runs here. @default cpu */
  readonly accelerator?: 'cpu';
  /** Also copy the model files here. */
  readonly out?: string;
  /** @default a new name */
  readonly jobName?: string;
  /** Extra hyperparameters (epochs, seed, ...). */
  readonly hyperparameters?: Readonly<Record<string, string | number>>;
  readonly gate?: Partial<GateConfig>;
  /** Register the candidate (step d). @default true */
  readonly register?: boolean;
  readonly autoApprove?: boolean;
  readonly actor?: string;
  readonly python?: string;
  readonly timeoutMs?: number;
  readonly onLine?: (line: string) => void;
}

export interface LocalTrainingDeps {
  readonly runtime: Runtime;
  readonly query: QueryEngine;
  readonly registry: ModelRegistry;
  readonly modelStrategy: ModelStrategyFactory;
}

export interface LocalTrainingResult {
  readonly job: string;
  readonly outDir: string;
  readonly features: FeaturesStepOutput;
  readonly training: TrainStepOutput;
  readonly evaluation: EvaluationReport;
  readonly registered?: RegisterResult['version'] & { readonly created: boolean };
}

export async function runLocalTraining(
  deps: LocalTrainingDeps,
  opts: LocalTrainingOptions,
): Promise<LocalTrainingResult> {
  const python = await checkPython(opts.python);
  if (!python.ok) throw new PythonMissingError(python);
  const job: JobPaths = jobPaths(opts.dataDir, opts.jobName ?? newJobName());
  const hps = { horizon: DEFAULT_HORIZON, ...opts.hyperparameters };
  const horizon = Number(hps.horizon);
  // Opt-in daily news sentiment (feature set version 2): the features file carries it from the
  // lake's SQL, and the evaluation's backtest reads the same values into the panel.
  const featureList = String(opts.hyperparameters?.features ?? FEATURE_NAMES.join(',')).split(',');
  const sentiment = featureList.includes(SENTIMENT_FEATURE);
  if (sentiment && opts.bars.kind !== 'lake')
    throw new InputError(
      `--features: ${SENTIMENT_FEATURE} is read from the lake's news_sentiment; train on --bars lake:SYMBOLS`,
      '--features',
    );
  const bars: Panel = await loadPanel(barsSpecs(opts.bars), {
    runtime: deps.runtime,
    query: deps.query,
    align: 'intersect',
  });
  const panel = sentiment ? await attachNewsSentiment(deps.query, bars) : bars;
  const features =
    opts.bars.kind === 'lake'
      ? await featuresFromLake(deps.query, job, opts.bars, horizon, { sentiment })
      : featuresFromPanel(job, panel, horizon);
  const training = await runTrainingStep({
    job,
    python: python.python,
    timeoutMs: opts.timeoutMs,
    onLine: opts.onLine ? (l) => opts.onLine!(l) : undefined,
    hyperparameters: {
      model: opts.model ?? 'mlp',
      device: opts.accelerator ?? 'cpu',
      features: FEATURE_NAMES.join(','),
      model_name: DEFAULT_MODEL_NAME,
      ...hps,
      feature_set_version: featureSetVersionOf(featureList),
    },
  });
  const evaluation = await evaluateStep(deps, { modelDir: training.modelDir, panel, gate: opts.gate });
  writeEvaluation(training.modelDir, evaluation);
  let registered: LocalTrainingResult['registered'];
  if (opts.register ?? true) {
    const r = await registerStep(deps.registry, {
      modelDir: training.modelDir,
      gatePassed: evaluation.gate.passed,
      autoApprove: opts.autoApprove,
      actor: opts.actor ?? 'quant train --local',
    });
    registered = { ...r.version, created: r.created };
  }
  let outDir = training.modelDir;
  if (opts.out) {
    outDir = path.resolve(opts.out);
    mkdirSync(outDir, { recursive: true });
    for (const f of [MODEL_FILE, MANIFEST_FILE, EVALUATION_FILE, PARITY_FILE])
      if (existsSync(path.join(training.modelDir, f)))
        copyFileSync(path.join(training.modelDir, f), path.join(outDir, f));
  }
  return { job: job.name, outDir, features, training, evaluation, registered };
}
