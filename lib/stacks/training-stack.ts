/**
 * Machine learning in AWS: the training workflow (features by Athena UNLOAD → SageMaker training on GPU
 * or Trainium → evaluation against the champion → gate → model package + models bucket), its scheduled
 * retrain, the drift check, and the strategy runner that turns the approved model into signals on the
 * trading bus. The same definition runs locally (src/ml/workflow/local-state-machine.ts binds its Task
 * states by the names in src/contract/training.ts).
 */
import path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type { Construct } from 'constructs';
import { hasLocalInstanceStorage } from '../config/training';
import type { TrainingConfig } from '../config/types';
import {
  acknowledgeWildcards,
  QuantFunction,
  QuantKey,
  SourceTarballAsset,
  TrainingWorkflow,
} from '../constructs';
import type { QuantFunctionProps } from '../constructs';
import {
  TRAINING_LAMBDA_ENV,
  TRAINING_METRICS,
  TRAINING_PREFIXES,
  TRAINING_STATES,
} from '../../src/contract/training';
import { BARS, LAKE_PREFIXES, NEWS_SENTIMENT } from '../../src/contract/lake';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';
import { DRIFT_METRIC, STRATEGY_RUNNER_ENV } from '../../src/contract/models';
import { featureSetVersionOf } from '../../src/contract/ml';
import { featureColumns, featureUnloadSql, usesSentiment } from '../../src/ml/features/sql';
import type { LakeZone } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';
import { TRAINING_WILDCARD_REASONS } from './training-nag';
import {
  addTrainingMonitoring,
  addTrainingSchedules,
  putMetricData,
  trainingFeatures,
  trainingJobProps,
} from './training-parts';
import { packageRoot } from '../../src/package-root';

// Found from package.json, not from this file: the CDK app also runs from the build in dist/.
const repoRoot = packageRoot();
const DESTINATION_MARKER = 's3://destination-of-this-run/';

/** What the stack needs from the data lake (the DataLakeStack satisfies it). */
export interface TrainingLake {
  readonly buckets: Readonly<Record<LakeZone, s3.IBucket>>;
  readonly lakeKey: kms.IKey;
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly tableNames: { readonly bars: string };
  runtimeEnvironment(zones?: readonly LakeZone[]): Record<string, string>;
  grantQuery(grantee: iam.IGrantable, zones?: readonly LakeZone[]): void;
}

export interface TrainingStackProps extends StackProps {
  readonly config: TrainingConfig;
  readonly vpc: ec2.IVpc;
  /** Subnets of the training jobs (no route out: network isolation plus the S3 gateway endpoint). */
  readonly isolatedSubnets: ec2.SubnetSelection;
  readonly lake: TrainingLake;
  /** The trading bus (`OrderEvents`): the runner may only put events on it. */
  readonly signalBus: events.IEventBus;
  /** Trading account the runner's signals trade for. */
  readonly tradingAccount: string;
  readonly monitoring: IMonitoring;
}

export class TrainingStack extends Stack {
  readonly workflow: TrainingWorkflow;
  readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  readonly strategyRunner: QuantFunction;
  readonly driftCheck: QuantFunction;

  constructor(scope: Construct, id: string, props: TrainingStackProps) {
    super(scope, id, props);
    const { config: c, lake, monitoring } = props;
    const models = lake.buckets.models;
    const k = c.compute;

    // ---- Training code, keys, registry --------------------------------------------------------
    const code = new SourceTarballAsset(this, 'TrainingCode', { sourceDir: path.join(repoRoot, 'training') });
    // Local-NVMe instance types (g5, trn1, ...) are hardware-encrypted and SageMaker refuses a volume key.
    const volumeKey = hasLocalInstanceStorage(k.instanceType)
      ? undefined
      : new QuantKey(this, 'TrainingVolumeKey', { description: 'SageMaker training volumes' });
    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: c.modelName,
      modelPackageGroupDescription: `Versions of ${c.modelName} (approve to trade; see docs/ml.md)`,
    });

    // ---- Lambdas: evaluate, publish, drift check, strategy runner --------------------------------
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
    const evaluateFn = fn('Evaluate', 'ml-evaluate', {
      ...stepOfWorkflow,
      timeout: Duration.minutes(15),
      environment: {
        [TRAINING_LAMBDA_ENV.minSharpeGain]: String(c.minSharpeGain),
        [TRAINING_LAMBDA_ENV.minTestIc]: String(c.minTestIc),
      },
    });
    const publishFn = fn('Publish', 'ml-publish', stepOfWorkflow);
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
    // Read-only everywhere but the registry writes of the publish step.
    for (const f of [evaluateFn, this.driftCheck, this.strategyRunner]) {
      models.grantRead(f);
      if (f !== this.strategyRunner) lake.buckets.curated.grantRead(f);
    }
    // The runner reads objects straight from S3 (src/lake/bars-reader.ts, src/news/reader.ts): the
    // bars, the news sentiment of models on feature set version 2, and their pending markers only.
    for (const table of [BARS, NEWS_SENTIMENT])
      for (const prefix of [table.prefix, `${LAKE_PREFIXES.pending}/${table.name}`])
        lake.buckets.curated.grantRead(this.strategyRunner, `${prefix}/*`);
    // Evaluation and drift read bars through Athena (src/backtest/load.ts in AWS).
    for (const f of [evaluateFn, this.driftCheck]) lake.grantQuery(f, ['curated']);
    models.grantReadWrite(publishFn, 'models/*');
    models.grantRead(publishFn, `${TRAINING_PREFIXES.output}/*`);
    lake.lakeKey.grantEncryptDecrypt(publishFn);
    this.driftCheck.addToRolePolicy(putMetricData(DRIFT_METRIC.namespace));
    props.signalBus.grantPutEventsTo(this.strategyRunner);

    // ---- The workflow ------------------------------------------------------------------------
    // Feature set version 2 joins the lake's news_sentiment as the local path does.
    const sentiment = usesSentiment(trainingFeatures(c));
    this.workflow = new TrainingWorkflow(this, 'Workflow', {
      stateNames: TRAINING_STATES,
      modelName: c.modelName,
      featuresSql: featureUnloadSql(
        { symbols: c.symbols, horizon: c.horizon, from: c.fromDate, table: lake.tableNames.bars, sentiment },
        DESTINATION_MARKER,
      ),
      destinationMarker: DESTINATION_MARKER,
      featureSet: {
        version: featureSetVersionOf(trainingFeatures(c)),
        features: featureColumns({ sentiment }),
      },
      databaseName: lake.databaseName,
      workgroupName: lake.workgroupName,
      grantQuery: (g) => lake.grantQuery(g, ['curated']),
      bucket: models,
      bucketKey: lake.lakeKey,
      featuresPrefix: TRAINING_PREFIXES.features,
      training: trainingJobProps(c, {
        vpc: props.vpc,
        subnets: props.isolatedSubnets,
        code,
        volumeKey,
        partition: this.partition,
        logs: { key: monitoring.logKey, retentionDays: monitoring.logRetentionDays },
      }),
      evaluateFunction: evaluateFn,
      publishFunction: publishFn,
      usageMetrics: TRAINING_METRICS,
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
      timeout: Duration.hours(
        c.maxWaitHours * (c.tuning ? Math.ceil(c.tuning.maxJobs / c.tuning.maxParallelJobs) : 1) + 2,
      ),
    });
    this.workflow.node.addDependency(this.modelPackageGroup);

    // ---- Schedules: retrain, drift check, the runner on a schedule and on each BarsUpdated --------
    addTrainingSchedules(this, c, {
      stateMachine: this.workflow.stateMachine,
      driftCheck: this.driftCheck,
      strategyRunner: this.strategyRunner,
    });

    addTrainingMonitoring(this, c, monitoring, {
      stateMachine: this.workflow.stateMachine,
      strategyRunner: this.strategyRunner,
    });
    acknowledgeWildcards(this, TRAINING_WILDCARD_REASONS);
  }
}
