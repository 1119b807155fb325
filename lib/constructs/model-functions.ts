/**
 * The Lambdas of machine learning in AWS: the training workflow's evaluate and publish steps, the
 * drift check and the strategy runner, each with only the grants its job needs (read-only
 * everywhere but the registry writes of the publish step). An `Area`: inside the training stack the
 * logical ids stay those the stack gave the functions when it held them itself.
 */
import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { TrainingConfig } from '../config/types';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { BARS, LAKE_PREFIXES, NEWS_SENTIMENT } from '../../src/contract/lake';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';
import {
  DRIFT_METRIC,
  MODELS_PREFIX,
  PROMOTIONS_PREFIX,
  STRATEGY_RUNNER_ENV,
} from '../../src/contract/models';
import { TRAINING_LAMBDA_ENV, TRAINING_PREFIXES } from '../../src/contract/training';
import { Area } from './area';
import { putMetricData } from './policy-statements';
import { QuantFunction, type QuantFunctionProps } from './quant-function';

/** What the functions need from the data lake (the DataLakeStack satisfies it). */
export interface ModelLake {
  readonly buckets: { readonly curated: s3.IBucket; readonly models: s3.IBucket };
  readonly lakeKey: kms.IKey;
  runtimeEnvironment(zones?: readonly ('curated' | 'models')[]): Record<string, string>;
  grantQuery(grantee: iam.IGrantable, zones?: readonly 'curated'[]): void;
}

export interface ModelFunctionsProps {
  /** The environment's training config: model name, symbols, gate thresholds, drift window, runner memory. */
  readonly config: Pick<
    TrainingConfig,
    | 'modelName'
    | 'tradingEnvironment'
    | 'symbols'
    | 'minSharpeGain'
    | 'minTestIc'
    | 'driftLookbackBars'
    | 'runnerMemoryMiB'
  >;
  readonly lake: ModelLake;
  /** The trading bus (`OrderEvents`): the runner may only put events on it. */
  readonly signalBus: events.IEventBus;
  /** Trading account the runner's signals trade for. */
  readonly tradingAccount: string;
  readonly monitoring: Pick<IMonitoring, 'logKey' | 'logRetentionDays'>;
}

export class ModelFunctions extends Area {
  /** The workflow's evaluate step: a backtest of the candidate against the champion. */
  readonly evaluate: QuantFunction;
  /** The workflow's publish step: the model package and the models bucket's copy. */
  readonly publish: QuantFunction;
  readonly driftCheck: QuantFunction;
  readonly strategyRunner: QuantFunction;

  constructor(scope: Construct, id: string, props: ModelFunctionsProps) {
    super(scope, id);
    const { config: c, lake, monitoring } = props;
    const models = lake.buckets.models;
    const fn = (name: string, lambda: string, extra: Partial<QuantFunctionProps> = {}) =>
      new QuantFunction(this, name, {
        lambda,
        logKey: monitoring.logKey,
        logRetentionDays: monitoring.logRetentionDays,
        timeout: Duration.minutes(5),
        memorySize: 2048,
        externalModules: ['@aws-sdk/*', '@duckdb/node-api', '@duckdb/node-bindings', 'onnxruntime-node'],
        outsideVpcReason:
          'Calls only AWS service APIs (S3, Athena, Glue catalog, SageMaker model registry, EventBridge, CloudWatch), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
        ...extra,
        environment: {
          [TRAINING_LAMBDA_ENV.modelName]: c.modelName,
          [TRAINING_LAMBDA_ENV.tradingEnvironment]: c.tradingEnvironment,
          [STRATEGY_RUNNER_ENV.symbols]: c.symbols.join(','),
          ...lake.runtimeEnvironment(['curated', 'models']),
          ...extra.environment,
        },
      });
    const stepOfWorkflow = {
      // One run of the workflow at a time per model, plus a manual retry.
      reservedConcurrentExecutions: 2,
      noDeadLetterQueueReason:
        'Invoked only synchronously, as a task of the training state machine, which retries it and fails the run (TrainingFailedAlarm); a DLQ receives only failed asynchronous invocations.',
    };
    this.evaluate = fn('Evaluate', 'ml-evaluate', {
      ...stepOfWorkflow,
      timeout: Duration.minutes(15),
      environment: {
        [TRAINING_LAMBDA_ENV.minSharpeGain]: String(c.minSharpeGain),
        [TRAINING_LAMBDA_ENV.minTestIc]: String(c.minTestIc),
      },
    });
    this.publish = fn('Publish', 'ml-publish', stepOfWorkflow);
    this.driftCheck = fn('DriftCheck', 'ml-drift', {
      reservedConcurrentExecutions: 1,
      noDeadLetterQueueReason:
        'Started by a schedule whose event carries no input: a failed event holds nothing to replay, and the next scheduled run repeats the check (EventBridge retries it twice first).',
      environment: { [TRAINING_LAMBDA_ENV.driftLookbackBars]: String(c.driftLookbackBars) },
    });
    this.strategyRunner = fn('StrategyRunner', 'strategy-runner', {
      serviceName: FUNCTION_SERVICE.strategyRunner,
      memorySize: c.runnerMemoryMiB,
      timeout: Duration.minutes(2),
      // One run at a time: two runs of the same bar would race on the same signals.
      reservedConcurrentExecutions: 1,
      noDeadLetterQueueReason:
        'Started by a schedule whose event carries no input: a failed event holds nothing to replay, and replaying a bar late would trade on stale prices; failures raise StrategyRunnerErrorsAlarm.',
      environment: {
        [STRATEGY_RUNNER_ENV.environment]: c.tradingEnvironment,
        [STRATEGY_RUNNER_ENV.account]: props.tradingAccount,
        [STRATEGY_RUNNER_ENV.modelsBucket]: models.bucketName,
        [STRATEGY_RUNNER_ENV.signalBus]: props.signalBus.eventBusName,
      },
    });
    // Read-only everywhere but the registry writes of the publish step. Evaluation and drift read
    // the registry (src/ml/registry/s3-registry.ts); evaluation also the candidate's training output
    // (src/ml/aws/model-artifacts.ts).
    for (const f of [this.evaluate, this.driftCheck]) {
      models.grantRead(f, `${MODELS_PREFIX}*`);
      lake.buckets.curated.grantRead(f);
    }
    models.grantRead(this.evaluate, `${TRAINING_PREFIXES.output}/*`);
    // The runner reads its environment's promotion (src/strategy-runner/promotions.ts) and the
    // registry's index and files of the promoted version (src/ml/registry/s3-registry.ts) only.
    for (const prefix of [MODELS_PREFIX, PROMOTIONS_PREFIX])
      models.grantRead(this.strategyRunner, `${prefix}*`);
    // The runner reads objects straight from S3 (src/lake/bars-reader.ts, src/news/reader.ts): the
    // bars, the news sentiment of models on feature set version 2, and their pending markers only.
    for (const table of [BARS, NEWS_SENTIMENT])
      for (const prefix of [table.prefix, `${LAKE_PREFIXES.pending}/${table.name}`])
        lake.buckets.curated.grantRead(this.strategyRunner, `${prefix}/*`);
    // Evaluation and drift read bars through Athena (src/backtest/load.ts in AWS).
    for (const f of [this.evaluate, this.driftCheck]) lake.grantQuery(f, ['curated']);
    // The registry's index and version files: read, and conditional PUTs; it never deletes.
    models.grantRead(this.publish, `${MODELS_PREFIX}*`);
    models.grantPut(this.publish, `${MODELS_PREFIX}*`);
    models.grantRead(this.publish, `${TRAINING_PREFIXES.output}/*`);
    lake.lakeKey.grantEncryptDecrypt(this.publish);
    this.driftCheck.addToRolePolicy(putMetricData(DRIFT_METRIC.namespace));
    props.signalBus.grantPutEventsTo(this.strategyRunner);
  }
}
