/**
 * Names shared by the model registry, the training workflow, the strategy runner and their
 * infrastructure: bucket keys, environments, approval statuses and environment variable names.
 * Imports nothing (lib/ and src/ both read it).
 */

/** Environments a model version is approved for and a strategy is promoted to. */
export const ENVIRONMENTS = ['paper', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * The status of a newly registered version until it is approved: the training workflow's
 * CreateModelPackage (lib/constructs/training-workflow.ts), its local runner and both registries.
 */
export const PENDING_APPROVAL = 'PendingManualApproval';

/** SageMaker's `ModelApprovalStatus` values, used by the local registry too. */
export const APPROVAL_STATUSES = [PENDING_APPROVAL, 'Approved', 'Rejected'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** Model name the training script uses when none is given (hyperparameter `model_name`). */
export const DEFAULT_MODEL_NAME = 'ml-signal';

/** Files of one registered version, under `models/<modelName>/<version>/`. */
export const MODEL_ARTIFACTS = ['model.onnx', 'manifest.json', 'evaluation.json'] as const;
export type ModelArtifact = (typeof MODEL_ARTIFACTS)[number];

/** Prefix of every registered model in the models bucket. */
export const MODELS_PREFIX = 'models/';

/** `models/<modelName>/<version>/<file>`: a registered version's artifact. */
export const modelArtifactKey = (modelName: string, version: number, file: ModelArtifact): string =>
  `${MODELS_PREFIX}${modelName}/${version}/${file}`;

/**
 * `models/<modelName>/registry.json`: the versions, their approval status and the approved version
 * per environment (written with S3 conditional writes only).
 */
export const modelIndexKey = (modelName: string): string => `${MODELS_PREFIX}${modelName}/registry.json`;

/** `promotions/<env>.json`: the strategy, parameters and model version an environment trades. */
export const PROMOTIONS_PREFIX = 'promotions/';
export const promotionKey = (env: Environment): string => `${PROMOTIONS_PREFIX}${env}.json`;

/** Local training jobs live under `<dataDir>/ml/jobs/<name>/`. */
export const LOCAL_JOBS_DIR = 'ml/jobs';

/** Environment variables of the strategy runner (Lambda) set by its infrastructure. */
export const STRATEGY_RUNNER_ENV = {
  /** `paper` | `staging` | `prod`: which promotion the runner trades. */
  environment: 'STRATEGY_ENV',
  /** Account (book) the runner's signals trade. */
  account: 'STRATEGY_ACCOUNT',
  /** Bucket of the registry and the promotions (the models bucket; the lake's own variable name). */
  modelsBucket: 'LAKE_MODELS_BUCKET',
  /** `s3` (the bucket's registry index) or `sagemaker` (model package groups). @default sagemaker in AWS, s3 locally (src/ml/registry/index.ts) */
  registry: 'MODEL_REGISTRY',
  /** Symbols the environment's strategy trades, comma-separated (its universe). */
  symbols: 'STRATEGY_SYMBOLS',
  /** Bar interval the runner reads from the curated zone. @default DEFAULT_RUNNER_BAR_INTERVAL */
  barInterval: 'STRATEGY_BAR_INTERVAL',
  /** Bars of history given to the strategy on each run. @default 400 */
  lookbackBars: 'STRATEGY_LOOKBACK_BARS',
  /** EventBridge bus the runner puts its `TradingSignal` events on (the execution path). */
  signalBus: 'SIGNAL_BUS',
} as const;

/** EventBridge `detail-type` and `source` of the runner's signals. */
export const STRATEGY_RUNNER_EVENT = {
  detailType: 'TradingSignal',
  source: 'quant.strategy-runner',
} as const;

/** Environment variables of `quant train --remote` and the training workflow in AWS. */
export const TRAINING_ENV = {
  /** ARN of the deployed training state machine (`quant train --remote`). */
  stateMachineArn: 'TRAINING_STATE_MACHINE_ARN',
  /**
   * `true` lets a candidate that passes the evaluation gate be approved for `paper` at registration
   * (development accounts); anything else leaves it PendingManualApproval.
   */
  autoApprove: 'MODEL_AUTO_APPROVE',
} as const;

/** Metric namespace and name of the drift check's population stability index (per feature). */
export const DRIFT_METRIC = { namespace: 'Quant/ML', name: 'FeaturePSI' } as const;

/** PSI above which a feature counts as drifted (the usual rule of thumb: > 0.2 is a shift). */
export const DEFAULT_PSI_THRESHOLD = 0.2;

/** The strategy runner's bar interval when none is set; its BarsUpdated rule filters on it. */
export const DEFAULT_RUNNER_BAR_INTERVAL = '1d';
