/**
 * Backtest sweeps at scale: an ECS cluster on Fargate that runs batches of backtests (SweepBatchTask),
 * and a Standard state machine that validates a sweep request, writes the expanded grid as a manifest,
 * fans out over it with a Distributed Map (one ECS task per batch), ranks the results with Athena,
 * publishes the top-N object and notifies (SweepStateMachine).
 *
 * The same definition runs on a laptop: src/local/stepfunctions.ts rewrites the Distributed Map
 * and binds each Task state by its name (the names are part of that contract:
 * src/contract/sweep.ts `SWEEP_STATES`).
 */
import { Duration } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { BacktestConfig } from '../config/types';
import { AreaStack, SweepBatchTask, SweepStateMachine } from '../constructs';
import type { LakeZone } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';

/** What the stack needs from the data lake (the DataLakeStack satisfies it). */
export interface BacktestLake {
  readonly buckets: Readonly<Record<LakeZone, s3.IBucket>>;
  readonly lakeKey: kms.IKey;
  readonly databaseName: string;
  readonly workgroupName: string;
  runtimeEnvironment(zones?: readonly LakeZone[]): Record<string, string>;
  grantQuery(grantee: iam.IGrantable, zones?: readonly LakeZone[]): void;
}

export interface BacktestStackProps extends StackProps {
  readonly backtest: BacktestConfig;
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the batch tasks (they reach AWS APIs through VPC endpoints).
   * @default the VPC's isolated subnets
   */
  readonly taskSubnets?: ec2.SubnetSelection;
  readonly lake: BacktestLake;
  readonly monitoring: IMonitoring;
}

export class BacktestStack extends AreaStack {
  readonly batch: SweepBatchTask;
  readonly sweep: SweepStateMachine;

  constructor(scope: Construct, id: string, props: BacktestStackProps) {
    super(scope, id, props);
    const cfg = props.backtest;
    const { lake, monitoring } = props;

    this.batch = new SweepBatchTask(this, 'Batch', {
      vpc: props.vpc,
      curatedBucket: lake.buckets.curated,
      resultsBucket: lake.buckets.results,
      modelsBucket: lake.buckets.models,
      lakeEnvironment: lake.runtimeEnvironment(['curated', 'results']),
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
      cpu: cfg.taskCpu,
      memoryLimitMiB: cfg.taskMemoryMiB,
    });
    this.sweep = new SweepStateMachine(this, 'Sweep', {
      batch: this.batch,
      taskSubnets: props.taskSubnets,
      resultsBucket: lake.buckets.results,
      athenaResultsBucket: lake.buckets.athenaResults,
      databaseName: lake.databaseName,
      workgroupName: lake.workgroupName,
      // Athena runs the ranking with the caller's permissions: read results, write Athena results.
      grantQuery: (grantee) => lake.grantQuery(grantee, ['results']),
      lakeEnvironment: lake.runtimeEnvironment(['results']),
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
      monitoring,
      maxGridSize: cfg.maxGridSize,
      topN: cfg.topN,
      batchSize: cfg.batchSize,
      maxConcurrency: cfg.maxConcurrency,
      toleratedFailurePercentage: cfg.toleratedFailurePercentage,
      timeout: Duration.hours(cfg.timeoutHours),
      useFargateSpot: cfg.useFargateSpot,
    });
  }
}
