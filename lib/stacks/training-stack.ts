/**
 * Machine learning in AWS: the training workflow (features by Athena UNLOAD → SageMaker training on GPU
 * or Trainium → evaluation against the champion → gate → model package + models bucket), its scheduled
 * retrain, the drift check, and the strategy runner that turns the approved model into signals on the
 * trading bus. The same definition runs locally (src/ml/workflow/local-state-machine.ts binds its Task
 * states by the names in src/contract/training.ts).
 */
import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type { Construct } from 'constructs';
import { hasLocalInstanceStorage, trainingFeatures } from '../config/training';
import type { TrainingConfig } from '../config/types';
import {
  acknowledgeWildcards,
  AreaStack,
  ModelFunctions,
  QuantKey,
  SourceTarballAsset,
  trainingJobSettings,
  TrainingMonitoring,
  TrainingSchedules,
  TrainingWorkflow,
} from '../constructs';
import type { ModelLake, QuantFunction } from '../constructs';
import { TRAINING_METRICS, TRAINING_PREFIXES, TRAINING_STATES } from '../../src/contract/training';
import { featureSetVersionOf } from '../../src/contract/ml';
import { featureColumns, featureUnloadSql, usesSentiment } from '../../src/ml/features/sql';
import type { LakeZone } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';
import { TRAINING_WILDCARD_REASONS } from './training-nag';
import { packageRoot } from '../../src/package-root';

// Found from package.json, not from this file: the CDK app also runs from the build in dist/.
const repoRoot = packageRoot();
const DESTINATION_MARKER = 's3://destination-of-this-run/';

/** What the stack needs from the data lake (the DataLakeStack satisfies it): its functions' part, and the catalog. */
export interface TrainingLake extends ModelLake {
  readonly buckets: Readonly<Record<LakeZone, s3.IBucket>>;
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly tableNames: { readonly bars: string };
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

export class TrainingStack extends AreaStack {
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
    const fns = new ModelFunctions(this, 'Functions', {
      config: c,
      lake,
      signalBus: props.signalBus,
      tradingAccount: props.tradingAccount,
      monitoring,
    });
    this.driftCheck = fns.driftCheck;
    this.strategyRunner = fns.strategyRunner;

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
      training: trainingJobSettings(c, {
        vpc: props.vpc,
        subnets: props.isolatedSubnets,
        code,
        volumeKey,
        partition: this.partition,
        logs: { key: monitoring.logKey, retentionDays: monitoring.logRetentionDays },
      }),
      evaluateFunction: fns.evaluate,
      publishFunction: fns.publish,
      usageMetrics: TRAINING_METRICS,
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
      timeout: Duration.hours(
        c.maxWaitHours * (c.tuning ? Math.ceil(c.tuning.maxJobs / c.tuning.maxParallelJobs) : 1) + 2,
      ),
    });
    this.workflow.node.addDependency(this.modelPackageGroup);

    // ---- Schedules (retrain, drift check, the runner on a schedule and on each BarsUpdated), alarms ----
    const stateMachine = this.workflow.stateMachine;
    const { driftCheck, strategyRunner } = this;
    new TrainingSchedules(this, 'Schedules', { config: c, stateMachine, driftCheck, strategyRunner });
    new TrainingMonitoring(this, 'Monitoring', { config: c, stateMachine, strategyRunner, monitoring });
    acknowledgeWildcards(this, TRAINING_WILDCARD_REASONS);
  }
}
