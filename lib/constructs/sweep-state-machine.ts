/**
 * The backtest sweep as a Standard state machine: validate the request, write the expanded grid as a
 * manifest, fan out over it with a Distributed Map (one ECS task of `SweepBatchTask` per batch), rank
 * the results with Athena, publish the top-N object and notify. State names are the contract the local
 * run binds by (src/contract/sweep.ts `SWEEP_STATES`, src/local/stepfunctions.ts).
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import type { IResolvable, IResolveContext } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import {
  BACKTEST_MANIFEST_ENV,
  BACKTEST_PUBLISH_ENV,
  BACKTEST_VALIDATE_ENV,
} from '../../src/contract/functions';
import { BACKTEST_RESULTS, LAKE_PREFIXES } from '../../src/contract/lake';
import { BACKTEST_TASK_METRICS } from '../../src/contract/metrics';
import { SWEEP_STATES, SWEEP_TASK_ENV } from '../../src/contract/sweep';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import type { WildcardReason } from './acknowledge-wildcards';
import { Area } from './area';
import { athenaQueryState } from './athena-query-state';
import { EncryptedLogGroup } from './encrypted-log-group';
import { QuantFunction, specEnvironment } from './quant-function';
import { QuantKey } from './quant-key';
import type { SweepBatchTask } from './sweep-batch-task';
import { serviceMetric } from './service-metric';
import { allow } from './policy-statements';
import { graph } from './alarms';

/** ECS errors Step Functions reports when capacity or API rate is short: retried with backoff. */
export const ECS_CAPACITY_ERRORS = [
  'ECS.AmazonECSException',
  'ECS.ServerException',
  'ECS.LimitExceededException',
  'ECS.ThrottlingException',
];
/** Container overrides must stay under 8 KiB in total: batches are capped below it. */
const MAX_BATCH_INPUT_BYTES = 6 * 1024;

export interface SweepStateMachineProps {
  /** The ECS task each batch runs as. */
  readonly batch: SweepBatchTask;
  /**
   * Subnets of the batch tasks (they reach AWS APIs through VPC endpoints).
   * @default the VPC's isolated subnets
   */
  readonly taskSubnets?: ec2.SubnetSelection;
  /** Results zone: manifests, batch results, rankings. */
  readonly resultsBucket: s3.IBucket;
  /** Where Athena writes the ranking query's results (the publish step reads them). */
  readonly athenaResultsBucket: s3.IBucket;
  /** Glue database and Athena workgroup of the ranking query. */
  readonly databaseName: string;
  readonly workgroupName: string;
  /** Lets the state machine run the ranking query over the results zone (`DataLakeStack.grantQuery`). */
  readonly grantQuery: (grantee: iam.IGrantable) => void;
  /** Variables that tell the steps where the lake is (`DataLakeStack.runtimeEnvironment(['results'])`). */
  readonly lakeEnvironment: Readonly<Record<string, string>>;
  /** Key and retention of the log groups. */
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
  /** Alarms (failed sweeps) and the dashboard section. */
  readonly monitoring: IMonitoring;
  /** @default 100000 parameter sets */
  readonly maxGridSize?: number;
  /** @default 10 */
  readonly topN?: number;
  /** Parameter sets per ECS task. @default 10 */
  readonly batchSize?: number;
  /** @default 100 */
  readonly maxConcurrency?: number;
  /** @default 0 (one failed batch fails the sweep) */
  readonly toleratedFailurePercentage?: number;
  /** @default Duration.hours(24) */
  readonly timeout?: Duration;
  /**
   * Run batches on Fargate Spot first (plain Fargate as the base).
   * @default false
   */
  readonly useFargateSpot?: boolean;
}

export class SweepStateMachine extends Area {
  readonly stateMachine: sfn.StateMachine;
  /** Sweep finished notifications (researchers subscribe). */
  readonly notificationTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: SweepStateMachineProps) {
    super(scope, id);
    const { batch } = props;
    const results = props.resultsBucket;
    const taskSubnets = props.taskSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const maxGridSize = String(props.maxGridSize ?? 100_000);

    // ---- Lambda steps -------------------------------------------------------------------------
    const fn = (name: string, environment: Record<string, string>) =>
      new QuantFunction(this, name, {
        lambda: `backtest-${name.toLowerCase()}`,
        logKey: props.logKey,
        logRetentionDays: props.logRetentionDays,
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
    const resultsBucket = results.bucketName;
    const validateFn = fn(
      'Validate',
      specEnvironment(BACKTEST_VALIDATE_ENV, { maxGridSize, topN: String(props.topN ?? 10) }),
    );
    const manifestFn = fn('Manifest', {
      ...props.lakeEnvironment,
      ...specEnvironment(BACKTEST_MANIFEST_ENV, { maxGridSize, resultsBucket }),
    });
    const publishFn = fn('Publish', {
      ...props.lakeEnvironment,
      ...specEnvironment(BACKTEST_PUBLISH_ENV, { resultsBucket }),
    });
    results.grantPut(manifestFn, `${LAKE_PREFIXES.sweepManifests}/*`);
    results.grantRead(manifestFn, `${BACKTEST_RESULTS.prefix}/*`);
    results.grantPut(publishFn, `${LAKE_PREFIXES.rankings}/*`);
    allow(publishFn, {
      actions: ['athena:GetQueryResults', 'athena:GetQueryExecution'],
      resources: [
        Stack.of(this).formatArn({
          service: 'athena',
          resource: 'workgroup',
          resourceName: props.workgroupName,
        }),
      ],
    });
    props.athenaResultsBucket.grantRead(publishFn);

    // ---- State machine ------------------------------------------------------------------------
    const n = SWEEP_STATES;
    const invalid = new sfn.Fail(this, 'Invalid request', { errorPath: '$.Error', causePath: '$.Cause' });
    const invoke = (id: string, handler: QuantFunction, more: Partial<tasks.LambdaInvokeProps> = {}) =>
      new tasks.LambdaInvoke(this, id, {
        lambdaFunction: handler,
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
        ...more,
      });
    const validate = invoke(n.validate, validateFn).addCatch(invalid, { errors: ['InputError'] });
    const manifest = invoke(n.manifest, manifestFn, { resultPath: '$.manifest' });

    const launchTarget = new tasks.EcsFargateLaunchTarget({
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      capacityProviderOptions: props.useFargateSpot
        ? tasks.CapacityProviderOptions.custom([
            // Spot first; plain Fargate as the base so a sweep still progresses when Spot is short.
            { capacityProvider: 'FARGATE_SPOT', weight: 4 },
            { capacityProvider: 'FARGATE', weight: 1 },
          ])
        : undefined,
    });
    const runTask = new tasks.EcsRunTask(this, n.runTask, {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster: batch.cluster,
      taskDefinition: batch.taskDefinition,
      launchTarget,
      subnets: taskSubnets,
      securityGroups: [batch.securityGroup],
      assignPublicIp: false,
      propagatedTagSource: ecs.PropagatedTagSource.TASK_DEFINITION,
      taskTimeout: sfn.Timeout.duration(Duration.hours(2)),
      containerOverrides: [
        {
          containerDefinition: batch.container,
          environment: [
            { name: SWEEP_TASK_ENV.sweepId, value: sfn.JsonPath.stringAt('$.BatchInput.sweepId') },
            { name: SWEEP_TASK_ENV.strategy, value: sfn.JsonPath.stringAt('$.BatchInput.strategy') },
            { name: SWEEP_TASK_ENV.bars, value: sfn.JsonPath.stringAt('$.BatchInput.bars') },
            {
              name: SWEEP_TASK_ENV.costBps,
              value: sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.BatchInput.costBps')),
            },
            {
              name: SWEEP_TASK_ENV.batchItems,
              value: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt('$.Items')),
            },
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
        maxItemsPerBatch: props.batchSize ?? 10,
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
      maxConcurrency: props.maxConcurrency ?? 100,
      toleratedFailurePercentage: props.toleratedFailurePercentage ?? 0,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: 'backtestBatches',
      resultPath: sfn.JsonPath.DISCARD,
    });
    map.itemProcessor(runTask);

    const aggregate = athenaQueryState(this, n.aggregate, {
      queryStringPath: '$.rankingQuery',
      databaseName: props.databaseName,
      workgroupName: props.workgroupName,
      resultPath: '$.aggregate',
    });
    const publish = invoke(n.publish, publishFn, {
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
    const machineLogs = EncryptedLogGroup.of(this, 'StateMachineLogs', props);
    this.stateMachine = new sfn.StateMachine(this, 'SweepStateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: machineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment:
        'Backtest parameter sweep: validate, manifest, Distributed Map of ECS batches, Athena ranking, notify',
    });
    // Athena runs the ranking with the caller's permissions: read results, write Athena results.
    props.grantQuery(this.stateMachine);
    // Step Functions reads the manifest (ItemReader) itself.
    results.grantRead(this.stateMachine, `${LAKE_PREFIXES.sweepManifests}/*`);
    // The topic is SSE-KMS and SnsPublish grants only sns:Publish: a publisher also needs the key's
    // GenerateDataKey and Decrypt, else the notify step fails every sweep at its end.
    topicKey.grant(this.stateMachine, 'kms:GenerateDataKey', 'kms:Decrypt');

    this.addMonitoring(props.monitoring);
    scopeEcsTaskActions(this.stateMachine.role, batch.cluster);
    acknowledgeWildcards(this, SWEEP_WILDCARD_REASONS);
  }

  private addMonitoring(monitoring: IMonitoring): void {
    const sm = this.stateMachine;
    const period = Duration.minutes(5);
    const taskMetric = (metricName: string, statistic: string, label: string) =>
      serviceMetric(BACKTEST_TASK_METRICS, metricName, { statistic, period, label });
    monitoring.alarm(this, 'SweepFailedAlarm', {
      description: 'A backtest sweep execution failed, timed out or was aborted',
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
    });
    monitoring.addSection('Backtest sweeps', [
      [
        graph('Sweep executions', [
          sm.metricStarted({ period, statistic: 'Sum', label: 'started' }),
          sm.metricSucceeded({ period, statistic: 'Sum', label: 'succeeded' }),
          sm.metricFailed({ period, statistic: 'Sum', label: 'failed' }),
        ]),
        graph('Parameter sets (from the batch tasks)', [
          taskMetric(BACKTEST_TASK_METRICS.paramSetsSucceeded, 'Sum', 'succeeded'),
          taskMetric(BACKTEST_TASK_METRICS.paramSetsFailed, 'Sum', 'failed'),
        ]),
        graph('Batch task duration (ms)', [
          taskMetric(BACKTEST_TASK_METRICS.batchDuration, 'p50', 'p50'),
          taskMetric(BACKTEST_TASK_METRICS.batchDuration, 'p90', 'p90'),
          taskMetric(BACKTEST_TASK_METRICS.batchDuration, 'Maximum', 'max'),
        ]),
      ],
    ]);
  }
}

/** Wildcards the sweep's policies are meant to have, and why (matched against IAM5 findings). */
export const SWEEP_WILDCARD_REASONS: readonly WildcardReason[] = [
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
    /^Resource::arn:[^:]+:ecs:[^:]*:[^:]*:task\/<[A-Za-z0-9]*Cluster[0-9A-F]{8}>\/\*$/,
    'ECS task ids are known only at run time; the state machine may stop and describe only tasks of the sweep cluster.',
  ],
  [
    /^Resource::<[A-Za-z0-9]*(Validate|Manifest|Publish)[0-9A-F]{8}\.Arn>:\*$/,
    'Step Functions invokes the function by any version or alias of the same function.',
  ],
  [
    /GetAttResultsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/backtest_results\/\*$/,
    'Batch tasks write one object per batch under the backtest_results prefix (names known only at run time); the manifest step reads them to resume.',
  ],
  [
    /GetAttModelsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/models\/\*$/,
    'Batch tasks read the files of registered model versions (models/<name>/<version>/) that the parameter sets name, known only at run time; read-only.',
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
