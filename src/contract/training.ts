/**
 * Names shared by the training infrastructure (lib/stacks/training-stack.ts) and the runtime that runs
 * the same workflow locally or reads what it produced. Imports nothing.
 */

/** State names of the training state machine; the local runner binds its Task states by these names. */
export const TRAINING_STATES = {
  readRequest: 'Read request',
  noRequest: 'No hyperparameters in the request',
  prepare: 'Prepare run',
  features: 'Compute features',
  train: 'Train model',
  tune: 'Tune hyperparameters',
  bestJob: 'Describe best job',
  recordUsage: 'Record training usage',
  evaluate: 'Evaluate candidate',
  gate: 'Better than champion?',
  rejected: 'Candidate rejected',
  register: 'Register model package',
  publish: 'Publish model files',
  done: 'Registered',
} as const;

/** Key prefixes in the models bucket. */
export const TRAINING_PREFIXES = {
  /** Athena UNLOAD output, one sub-prefix per run id: the `train` channel. */
  features: 'models/features',
  /** SageMaker output (`<jobName>/output/model.tar.gz`). */
  output: 'training-output',
  /** Spot checkpoints (and the Neuron compile cache), one sub-prefix per training job. */
  checkpoints: 'training-checkpoints',
} as const;

/** Input channels of the training job (`SM_CHANNEL_<NAME>`). */
export const TRAINING_CHANNELS = { train: 'train', code: 'code' } as const;

/** The log group SageMaker writes training jobs' logs to (fixed by SageMaker, one per account and region). */
export const SAGEMAKER_TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

/**
 * Hyperparameters a run's request may not override: what the features, the container and the
 * registry were set up for (the state machine input's `hyperparameters` may set any other).
 */
export const PROTECTED_HYPERPARAMETERS = ['feature_set_version', 'horizon', 'device', 'model_name'] as const;

/** Where the training container sees its checkpoints (`CheckpointConfig.LocalPath`). */
export const CHECKPOINT_LOCAL_PATH = '/opt/ml/checkpoints';
/** The Neuron compile cache lives under the checkpoint directory, so SageMaker keeps it in S3. */
export const NEURON_CACHE_SUBDIR = 'neuron-compile-cache';

/** Metrics the training script prints as `metric <name>=<float>` (MetricDefinitions). */
export const TRAINING_SCRIPT_METRICS = [
  'train_loss',
  'val_loss',
  'val_ic',
  'test_ic',
  'test_hit_rate',
  'test_sharpe',
] as const;

/** Custom CloudWatch metrics of the training workflow (the drift metric: src/contract/models.ts DRIFT_METRIC). */
export const TRAINING_METRICS = {
  namespace: 'Quant/ML',
  /** Seconds the training job ran (dimension `ModelName`). */
  trainingSeconds: 'TrainingSeconds',
  /** Seconds billed (less than TrainingSeconds with managed spot). */
  billableSeconds: 'BillableSeconds',
  modelNameDimension: 'ModelName',
} as const;

/** Environment variables of the training Lambdas (evaluate, publish, drift check); lake buckets: LAKE_*_BUCKET. */
export const TRAINING_LAMBDA_ENV = {
  modelName: 'QUANT_MODEL_NAME',
  /** paper | staging | prod: whose approved model the drift check and evaluation compare against. */
  tradingEnvironment: 'QUANT_TRADING_ENV',
  /** Gate: the candidate's held-out Sharpe must beat the champion's by at least this much. */
  minSharpeGain: 'QUANT_GATE_MIN_SHARPE_GAIN',
  /** Gate: the candidate's held-out information coefficient must be at least this. */
  minTestIc: 'QUANT_GATE_MIN_TEST_IC',
  /** Drift check: bars of live features compared with the training statistics. */
  driftLookbackBars: 'QUANT_DRIFT_LOOKBACK_BARS',
} as const;

/** What the evaluate step returns (the gate reads `passed`). */
export interface TrainingEvaluation {
  readonly passed: boolean;
  /** Why the gate refused the candidate (empty when it passed). */
  readonly reasons: readonly string[];
  /** Held-out information coefficient from the manifest. */
  readonly ic: number;
  readonly candidateSharpe: number;
  /** The approved version it was compared with, if any. */
  readonly championVersion?: number;
  readonly championSharpe?: number;
}

/**
 * Tags of the training state machine: the feature set its features step computes. `quant train
 * --remote` reads them (ListTagsForResource) before StartExecution and refuses `--features` the
 * deployed machine cannot train (src/ml/workflow/remote.ts).
 */
export const TRAINING_MACHINE_TAGS = {
  /** FEATURE_SET_VERSION or SENTIMENT_FEATURE_SET_VERSION (src/contract/ml.ts). */
  featureSetVersion: 'quant:feature-set-version',
  /** The feature columns of the features file, in order, space-separated (featuresTagValue). */
  features: 'quant:features',
} as const;

/** Step Functions tag values allow letters, digits, spaces and `_ . : / = + - @` only: no commas. */
export const featuresTagValue = (features: readonly string[]): string => features.join(' ');
export const featuresOfTag = (value: string): string[] => value.split(' ').filter((f) => f !== '');
