/**
 * Backtest sweeps at scale: an ECS cluster on Fargate that runs batches of
 * backtests, and a Standard state machine that validates a sweep request, writes the expanded
 * grid as a manifest, fans out over it with a Distributed Map (one ECS task per batch), ranks the
 * results with Athena, publishes the top-N object and notifies.
 *
 * The same definition runs on a laptop: src/local/stepfunctions.ts rewrites the Distributed Map
 * and binds each Task state by its name (the names are part of that contract:
 * src/contract/sweep.ts `SWEEP_STATES`).
 */
import path from 'node:path';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IResolvable, IResolveContext } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { BacktestConfig } from '../config/types';
import { acknowledgeWildcards, EncryptedLogGroup, QuantFunction, QuantKey } from '../constructs';
import type { LakeZone } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';
import { packageRoot } from '../../src/package-root';
import { BACKTEST_RESULTS, LAKE_PREFIXES } from '../../src/contract/lake';
import { BACKTEST_TASK_METRICS } from '../../src/contract/metrics';
import { BACKTEST_CONTAINER_NAME, SWEEP_ENV, SWEEP_STATES } from '../../src/contract/sweep';

// Found from package.json, not from this file: the CDK app also runs from the build in dist/.
const repoRoot = packageRoot();

/** ECS errors Step Functions reports when capacity or API rate is short: retried with backoff. */
export const ECS_CAPACITY_ERRORS = [
  'ECS.AmazonECSException',
  'ECS.ServerException',
  'ECS.LimitExceededException',
  'ECS.ThrottlingException',
];
/** Container overrides must stay under 8 KiB in total: batches are capped below it. */
const MAX_BATCH_INPUT_BYTES = 6 * 1024;

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

export class BacktestStack extends Stack {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly stateMachine: sfn.StateMachine;
  /** Sweep finished notifications (researchers subscribe). */
  readonly notificationTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: BacktestStackProps) {
    super(scope, id, props);
    const cfg = props.backtest;
    const { lake, monitoring } = props;
    const results = lake.buckets.results;
    const taskSubnets = props.taskSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    // ---- ECS: cluster, task definition, task role -------------------------------------------
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: cfg.taskCpu,
      memoryLimitMiB: cfg.taskMemoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.taskDefinition.addVolume({ name: 'tmp' });
    const taskLogs = new EncryptedLogGroup(this, 'TaskLogs', {
      encryptionKey: monitoring.logKey,
      retentionDays: monitoring.logRetentionDays,
    });
    const container = this.taskDefinition.addContainer(BACKTEST_CONTAINER_NAME, {
      image: ecs.ContainerImage.fromAsset(repoRoot, {
        file: 'ecs-tasks/backtest/Dockerfile',
        platform: Platform.LINUX_ARM64,
        // Allow-list the build context: the image needs the runtime code, its build script and the lockfile.
        exclude: [
          '*',
          '.*',
          '!package.json',
          '!package-lock.json',
          '!tsconfig.json',
          '!bin',
          '!bin/build.js',
          '!src',
          '!src/**',
          '!ecs-tasks',
          '!ecs-tasks/backtest',
          '!ecs-tasks/backtest/**',
        ],
      }),
      essential: true,
      readonlyRootFilesystem: true,
      user: 'node',
      logging: ecs.LogDrivers.awsLogs({ logGroup: taskLogs, streamPrefix: 'batch' }),
      environment: {
        ...lake.runtimeEnvironment(['curated', 'results']),
        TMPDIR: '/tmp',
        POWERTOOLS_METRICS_NAMESPACE: BACKTEST_TASK_METRICS.namespace,
      },
    });
    container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });

    // Least privilege: read bars from the curated zone, write results only under their prefix.
    const taskRole = this.taskDefinition.taskRole;
    lake.buckets.curated.grantRead(taskRole);
    results.grantPut(taskRole, `${BACKTEST_RESULTS.prefix}/*`);

    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'Backtest batch tasks: no inbound, HTTPS out to AWS endpoints only',
      allowAllOutbound: false,
    });
    taskSecurityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to VPC endpoints and the S3 gateway',
    );

    // ---- Lambda steps -------------------------------------------------------------------------
    const fn = (name: string, environment: Record<string, string>) =>
      new QuantFunction(this, name, {
        entry: path.join(repoRoot, `lambda/backtest-${name.toLowerCase()}/index.ts`),
        logKey: monitoring.logKey,
        logRetentionDays: monitoring.logRetentionDays,
        serviceName: `backtest-${name.toLowerCase()}`,
        timeout: Duration.minutes(2),
        memorySize: 1024,
        environment,
        // DuckDB is only needed by code paths these handlers do not take.
        externalModules: ['@aws-sdk/*', '@duckdb/node-api', '@duckdb/node-bindings'],
        // Each step runs once per sweep: a few sweeps at a time, never a flood.
        reservedConcurrentExecutions: 5,
        noDeadLetterQueueReason:
          'Invoked only synchronously, as a task of the sweep state machine, which retries it and fails the execution (SweepFailedAlarm); a DLQ receives only failed asynchronous invocations.',
        outsideVpcReason:
          'Calls only AWS service APIs (S3, Athena, Glue catalog), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
      });
    const validateFn = fn('Validate', {
      [SWEEP_ENV.maxGridSize]: String(cfg.maxGridSize),
      [SWEEP_ENV.topN]: String(cfg.topN),
    });
    const manifestFn = fn('Manifest', {
      [SWEEP_ENV.maxGridSize]: String(cfg.maxGridSize),
      ...lake.runtimeEnvironment(['results']),
    });
    const publishFn = fn('Publish', lake.runtimeEnvironment(['results']));
    results.grantPut(manifestFn, `${LAKE_PREFIXES.sweepManifests}/*`);
    results.grantRead(manifestFn, `${BACKTEST_RESULTS.prefix}/*`);
    results.grantPut(publishFn, `${LAKE_PREFIXES.rankings}/*`);
    publishFn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['athena:GetQueryResults', 'athena:GetQueryExecution'],
        resources: [
          this.formatArn({ service: 'athena', resource: 'workgroup', resourceName: lake.workgroupName }),
        ],
      }),
    );
    lake.buckets.athenaResults.grantRead(publishFn);

    // ---- State machine ------------------------------------------------------------------------
    const n = SWEEP_STATES;
    const invalid = new sfn.Fail(this, 'Invalid request', { errorPath: '$.Error', causePath: '$.Cause' });
    const validate = new tasks.LambdaInvoke(this, n.validate, {
      lambdaFunction: validateFn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    }).addCatch(invalid, { errors: ['InputError'] });
    const manifest = new tasks.LambdaInvoke(this, n.manifest, {
      lambdaFunction: manifestFn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      resultPath: '$.manifest',
    });

    const launchTarget = new tasks.EcsFargateLaunchTarget({
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      capacityProviderOptions: cfg.useFargateSpot
        ? tasks.CapacityProviderOptions.custom([
            // Spot first; plain Fargate as the base so a sweep still progresses when Spot is short.
            { capacityProvider: 'FARGATE_SPOT', weight: 4 },
            { capacityProvider: 'FARGATE', weight: 1 },
          ])
        : undefined,
    });
    const runTask = new tasks.EcsRunTask(this, n.runTask, {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      launchTarget,
      subnets: taskSubnets,
      securityGroups: [taskSecurityGroup],
      assignPublicIp: false,
      propagatedTagSource: ecs.PropagatedTagSource.TASK_DEFINITION,
      taskTimeout: sfn.Timeout.duration(Duration.hours(2)),
      containerOverrides: [
        {
          containerDefinition: container,
          environment: [
            { name: 'SWEEP_ID', value: sfn.JsonPath.stringAt('$.BatchInput.sweepId') },
            { name: 'STRATEGY', value: sfn.JsonPath.stringAt('$.BatchInput.strategy') },
            { name: 'BARS', value: sfn.JsonPath.stringAt('$.BatchInput.bars') },
            {
              name: 'COST_BPS',
              value: sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.BatchInput.costBps')),
            },
            { name: 'BATCH_ITEMS', value: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt('$.Items')) },
          ],
        },
      ],
      resultPath: sfn.JsonPath.DISCARD,
    });
    runTask.addRetry({
      errors: ECS_CAPACITY_ERRORS,
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 8,
      maxDelay: Duration.minutes(5),
      jitterStrategy: sfn.JitterType.FULL,
    });
    // A stopped Spot task or a crashed container: the batch is idempotent (it overwrites its own
    // object), so one more attempt is safe.
    runTask.addRetry({
      errors: ['States.TaskFailed'],
      interval: Duration.seconds(30),
      backoffRate: 2,
      maxAttempts: 2,
    });

    const map = new sfn.DistributedMap(this, n.map, {
      itemReader: new sfn.S3JsonItemReader({ bucket: results, key: sfn.JsonPath.stringAt('$.manifest.key') }),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: cfg.batchSize,
        maxInputBytesPerBatch: MAX_BATCH_INPUT_BYTES,
        // ItemBatcher passes BatchInput through unrendered (JsonPath.stringAt would stay a literal
        // "$.x", as the local run of this definition showed): write JSONPath keys explicitly.
        batchInput: {
          'sweepId.$': '$.sweepId',
          'strategy.$': '$.strategy',
          'bars.$': '$.bars',
          'costBps.$': '$.costBps',
        },
      }),
      maxConcurrency: cfg.maxConcurrency,
      toleratedFailurePercentage: cfg.toleratedFailurePercentage,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: 'backtestBatches',
      resultPath: sfn.JsonPath.DISCARD,
    });
    map.itemProcessor(runTask);

    // The .sync Athena integration as raw ASL: CDK's AthenaStartQueryExecution always adds
    // s3:GetObject and s3:CreateBucket on "*"; the role here gets exactly DataLake.grantQuery.
    const aggregate = new sfn.CustomState(this, n.aggregate, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${this.partition}:states:::athena:startQueryExecution.sync`,
        Parameters: {
          'QueryString.$': '$.rankingQuery',
          QueryExecutionContext: { Database: lake.databaseName },
          WorkGroup: lake.workgroupName,
        },
        ResultSelector: { 'queryExecutionId.$': '$.QueryExecution.QueryExecutionId' },
        ResultPath: '$.aggregate',
        Retry: [
          {
            ErrorEquals: ['Athena.TooManyRequestsException'],
            IntervalSeconds: 5,
            MaxAttempts: 5,
            BackoffRate: 2,
            JitterStrategy: 'FULL',
          },
        ],
      },
    });
    const publish = new tasks.LambdaInvoke(this, n.publish, {
      lambdaFunction: publishFn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      payload: sfn.TaskInput.fromObject({
        strategy: sfn.JsonPath.stringAt('$.strategy'),
        sweepId: sfn.JsonPath.stringAt('$.sweepId'),
        queryExecutionId: sfn.JsonPath.stringAt('$.aggregate.queryExecutionId'),
      }),
      resultPath: '$.ranking',
    });

    const topicKey = new QuantKey(this, 'NotificationKey', { description: 'Backtest sweep notifications' });
    this.notificationTopic = new sns.Topic(this, 'SweepNotifications', {
      displayName: 'Backtest sweep finished',
      masterKey: topicKey,
      enforceSSL: true,
    });
    const notify = new tasks.SnsPublish(this, n.notify, {
      topic: this.notificationTopic,
      subject: 'Backtest sweep finished',
      message: sfn.TaskInput.fromObject({
        sweepId: sfn.JsonPath.stringAt('$.sweepId'),
        strategy: sfn.JsonPath.stringAt('$.strategy'),
        parameterSets: sfn.JsonPath.numberAt('$.itemCount'),
        ranking: sfn.JsonPath.stringAt('$.ranking.key'),
        best: sfn.JsonPath.objectAt('$.ranking.top'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });

    const definition = validate.next(manifest).next(map).next(aggregate).next(publish).next(notify);
    const machineLogs = new EncryptedLogGroup(this, 'StateMachineLogs', {
      encryptionKey: monitoring.logKey,
      retentionDays: monitoring.logRetentionDays,
    });
    this.stateMachine = new sfn.StateMachine(this, 'SweepStateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.hours(cfg.timeoutHours),
      tracingEnabled: true,
      logs: { destination: machineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment:
        'Backtest parameter sweep: validate, manifest, Distributed Map of ECS batches, Athena ranking, notify',
    });
    // Athena runs the ranking with the caller's permissions: read results, write Athena results.
    lake.grantQuery(this.stateMachine, ['results']);
    // Step Functions reads the manifest (ItemReader) itself.
    results.grantRead(this.stateMachine, `${LAKE_PREFIXES.sweepManifests}/*`);

    this.addMonitoring(monitoring);
    this.acknowledgeFindings();
  }

  private addMonitoring(monitoring: IMonitoring): void {
    const sm = this.stateMachine;
    const period = Duration.minutes(5);
    const taskMetric = (metricName: string, statistic: string, label: string) =>
      new cw.Metric({
        namespace: BACKTEST_TASK_METRICS.namespace,
        metricName,
        dimensionsMap: { service: BACKTEST_TASK_METRICS.service },
        statistic,
        period,
        label,
      });
    monitoring.addAlarm(this, 'SweepFailedAlarm', {
      alarmDescription: 'A backtest sweep execution failed, timed out or was aborted',
      metric: new cw.MathExpression({
        expression: 'failed + timedout + aborted',
        usingMetrics: {
          failed: sm.metricFailed({ period, statistic: 'Sum' }),
          timedout: sm.metricTimedOut({ period, statistic: 'Sum' }),
          aborted: sm.metricAborted({ period, statistic: 'Sum' }),
        },
        period,
        label: 'failed sweeps',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    monitoring.addSection('Backtest sweeps', [
      [
        new cw.GraphWidget({
          title: 'Sweep executions',
          left: [
            sm.metricStarted({ period, statistic: 'Sum', label: 'started' }),
            sm.metricSucceeded({ period, statistic: 'Sum', label: 'succeeded' }),
            sm.metricFailed({ period, statistic: 'Sum', label: 'failed' }),
          ],
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Parameter sets (from the batch tasks)',
          left: [
            taskMetric(BACKTEST_TASK_METRICS.paramSetsSucceeded, 'Sum', 'succeeded'),
            taskMetric(BACKTEST_TASK_METRICS.paramSetsFailed, 'Sum', 'failed'),
          ],
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Batch task duration (ms)',
          left: [
            taskMetric(BACKTEST_TASK_METRICS.batchDuration, 'p50', 'p50'),
            taskMetric(BACKTEST_TASK_METRICS.batchDuration, 'p90', 'p90'),
            taskMetric(BACKTEST_TASK_METRICS.batchDuration, 'Maximum', 'max'),
          ],
          width: 8,
        }),
      ],
    ]);
  }

  /**
   * cdk-nag findings that are intended, each with its reason. IAM5 (wildcard) findings name
   * cross-stack tokens whose rendering is only known after references are resolved, so they are
   * matched after `prepare` against the documented patterns below; a finding no pattern explains
   * stays unacknowledged and fails the nag test and `cdk synth`.
   */
  private acknowledgeFindings(): void {
    const ack = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
    ack(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      'The environment holds bucket names, the temp dir and the metrics namespace: configuration, no secrets.',
    );
    scopeEcsTaskActions(this.stateMachine.role, this.cluster);
    acknowledgeWildcards(this, WILDCARD_REASONS);
  }
}

/** Wildcards this stack's policies are meant to have, and why (matched against IAM5 findings). */
const WILDCARD_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^Action::s3:(GetObject|GetBucket|List|Abort)\*$/,
    'CDK grant action groups for reading or writing objects; the resources of the same statements limit them to lake buckets and prefixes.',
  ],
  [
    /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    'Data-key actions SSE-KMS needs for lake objects; the statement is limited to the lake key.',
  ],
  [
    /^Action::s3:DeleteObject\*$/,
    'Athena manages (overwrites) its own query result objects in the Athena results bucket (DataLake grantQuery).',
  ],
  [
    /^Resource::\*$/,
    'Actions without resource-level permissions: X-Ray, ECR GetAuthorizationToken, CloudWatch Logs vended-log delivery, Lake Formation GetDataAccess (the stack test pins this list).',
  ],
  [
    /^Resource::arn:[^:]+:ecs:[^:]*:[^:]*:task\/<Cluster[0-9A-F]{8}>\/\*$/,
    'ECS task ids are known only at run time; the state machine may stop and describe only tasks of the sweep cluster.',
  ],
  [
    /^Resource::<(Validate|Manifest|Publish)[0-9A-F]{8}\.Arn>:\*$/,
    'Step Functions invokes the function by any version or alias of the same function.',
  ],
  [
    /GetAttResultsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/backtest_results\/\*$/,
    'Batch tasks write one object per batch under the backtest_results prefix (names known only at run time); the manifest step reads them to resume.',
  ],
  [
    /GetAttResultsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/sweeps\/\*$/,
    'Sweep manifests (one per sweep id) under the sweeps prefix, written by the manifest step and read by the Distributed Map.',
  ],
  [
    /GetAttResultsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/backtest_rankings\/\*$/,
    'Ranked top-N objects (one per sweep id) under the backtest_rankings prefix.',
  ],
  [
    /GetAttResultsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/\*$/,
    'Athena reads the backtest_results table in the results zone to rank a sweep (DataLake grantQuery).',
  ],
  [
    /RefResultsBucket[0-9A-F]+"}}\/\*$/,
    'The Distributed Map ItemReader reads the sweep manifest object from the results bucket.',
  ],
  [
    /GetAttAthenaResultsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/\*$/,
    'Athena writes and the publish step reads query result objects in the Athena results bucket.',
  ],
  [
    /GetAttCuratedBucket[0-9A-F]+Arn[0-9A-F]+"}}\/\*$/,
    'Batch tasks read bars (any symbol) from the curated zone.',
  ],
  [
    /^Resource::arn:[^:]+:glue:[^:]+:\d+:(table|userDefinedFunction)\/quant_[a-z0-9_]+\/\*$/,
    'Athena reads table metadata of the lake database (tables are partition-projected; no crawler).',
  ],
  [
    /^Resource::arn:[^:]+:states:[^:]+:\d+:execution:.*:\*$/,
    'The Distributed Map starts and manages child executions of this state machine (names are generated).',
  ],
];

type PolicyJson = {
  Statement: Array<{ Action: string | string[]; Resource: unknown; [k: string]: unknown }>;
};

/**
 * EcsRunTask (RUN_JOB) grants the state machine ecs:StopTask and ecs:DescribeTasks on `*`; both
 * accept task ARNs, so they are rewritten here to the tasks of this stack's cluster (the task ids
 * are only known at run time). CDK offers no option for it, hence the rewrite of the role's policy.
 */
function scopeEcsTaskActions(role: iam.IRole, cluster: ecs.ICluster): void {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) throw new Error('scopeEcsTaskActions: the state machine role has no default policy');
  const cfn = policy.node.defaultChild as iam.CfnPolicy;
  const original = cfn.policyDocument as unknown;
  const stack = Stack.of(cluster);
  const tasksOfCluster = `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:task/${cluster.clusterName}/*`;
  const scoped = ['ecs:DescribeTasks', 'ecs:StopTask'];
  const resolvable: IResolvable = {
    creationStack: [],
    resolve: (ctx: IResolveContext) => {
      const doc = ctx.resolve(original) as PolicyJson;
      const statements = doc.Statement.flatMap((st) => {
        const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
        if (st.Resource !== '*' || !actions.some((a) => scoped.includes(a))) return [st];
        const rest = actions.filter((a) => !scoped.includes(a));
        return rest.length === 0 ? [] : [{ ...st, Action: rest.length === 1 ? rest[0] : rest }];
      });
      statements.push({ Effect: 'Allow', Action: scoped, Resource: ctx.resolve(tasksOfCluster) });
      return { ...doc, Statement: statements };
    },
    toString: () => Token.asString(resolvable),
  };
  cfn.policyDocument = resolvable;
}
