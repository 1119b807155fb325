import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { BACKTEST_RESULTS, LAKE_BUCKET_ENV } from '../../src/contract/lake';
import { BACKTEST_TASK_METRICS } from '../../src/contract/metrics';
import { MODELS_PREFIX, STRATEGY_RUNNER_ENV } from '../../src/contract/models';
import { BACKTEST_CONTAINER_NAME } from '../../src/contract/sweep';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { taskImage } from './task-image';
import { Area, areaFreeNodeId } from './area';
import { EncryptedLogGroup } from './encrypted-log-group';
import { SWEEP_WILDCARD_REASONS } from './sweep-state-machine';

export interface SweepBatchTaskProps {
  readonly vpc: ec2.IVpc;
  /** Curated zone: the tasks read bars from it. */
  readonly curatedBucket: s3.IBucket;
  /** Results zone: the tasks write one object per batch under the backtest_results prefix. */
  readonly resultsBucket: s3.IBucket;
  /** Variables that tell the task where the lake is (`DataLakeStack.runtimeEnvironment`). */
  readonly lakeEnvironment: Readonly<Record<string, string>>;
  /** Key of the task log group. */
  readonly logKey: kms.IKey;
  /** Retention of the task log group, in days. */
  readonly logRetentionDays: number;
  /**
   * Fargate vCPU units of one task (a valid Fargate CPU/memory pair with `memoryLimitMiB`).
   * @default 1024
   */
  readonly cpu?: number;
  /** @default 2048 */
  readonly memoryLimitMiB?: number;
  /**
   * Models zone, read-only: parameter sets that name a registry version (`model=ml-signal@3`) are
   * scored from its files (the CLI pins `@paper|@staging|@prod` to a version before the sweep starts).
   * @default none: a sweep naming a registry version fails in the task
   */
  readonly modelsBucket?: s3.IBucket;
}

/**
 * One batch of backtests as an ECS task: a Fargate cluster (Spot capacity providers, Container
 * Insights), an arm64 task definition built from ecs-tasks/backtest (read-only root file system,
 * non-root user, a scratch volume on /tmp), its KMS-encrypted log group, and a security group with
 * no inbound rule and HTTPS out only. The task role reads bars and writes its own results, nothing else.
 */
export class SweepBatchTask extends Area {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: SweepBatchTaskProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      // The family CDK would derive from the path without this area (a new family is a new task definition).
      family: areaFreeNodeId(this, 'TaskDefinition'),
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 2048,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.taskDefinition.addVolume({ name: 'tmp' });
    const taskLogs = EncryptedLogGroup.of(this, 'TaskLogs', props);
    this.container = this.taskDefinition.addContainer(BACKTEST_CONTAINER_NAME, {
      image: taskImage('backtest', ['ecs-tasks', 'ecs-tasks/backtest', 'ecs-tasks/backtest/**']),
      essential: true,
      readonlyRootFilesystem: true,
      user: 'node',
      logging: ecs.LogDrivers.awsLogs({ logGroup: taskLogs, streamPrefix: 'batch' }),
      environment: {
        ...props.lakeEnvironment,
        // The bucket's own registry index: a pinned version needs no SageMaker call.
        ...(props.modelsBucket && {
          [LAKE_BUCKET_ENV.models]: props.modelsBucket.bucketName,
          [STRATEGY_RUNNER_ENV.registry]: 's3',
        }),
        TMPDIR: '/tmp',
        POWERTOOLS_METRICS_NAMESPACE: BACKTEST_TASK_METRICS.namespace,
      },
    });
    this.container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });

    // Least privilege: read bars (and models), write results only under their prefix.
    const taskRole = this.taskDefinition.taskRole;
    props.curatedBucket.grantRead(taskRole);
    props.resultsBucket.grantPut(taskRole, `${BACKTEST_RESULTS.prefix}/*`);
    props.modelsBucket?.grantRead(taskRole, `${MODELS_PREFIX}*`);

    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'Backtest batch tasks: no inbound, HTTPS out to AWS endpoints only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to VPC endpoints and the S3 gateway',
    );
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds bucket names, the temp dir and the metrics namespace: configuration, no secrets.',
    });
    acknowledgeWildcards(this, SWEEP_WILDCARD_REASONS);
  }
}
