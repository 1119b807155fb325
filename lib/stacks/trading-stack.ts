/**
 * Trading: DynamoDB tables (risk state, limits and books; orders; idempotency), the
 * signals stream and event bus, the execution / risk-check / kill-switch Lambdas, the encrypted
 * dead-letter queue, the Firehose delivery of the audit trail into the write-once audit bucket with
 * its Glue table `audit_events`, and the trading section of the dashboard with its alarms.
 * Runtime logic lives in src/risk and src/trading; the handlers in lambda/<name>.
 */
import path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { TradingConfig } from '../config/types';
import { TRADING_ENV, TRADING_SIGNAL_DETAIL_TYPE, TRADING_SIGNAL_SOURCE } from '../../src/contract/trading';
import {
  acknowledgeWildcards,
  EncryptedLogGroup,
  EncryptedTable,
  QuantFunction,
  QuantKey,
} from '../constructs';
import type { QuantFunctionProps } from '../constructs';
import type { LakeZone } from './data-lake-stack';
import { LAKE_BUCKET_ENV, LAKE_PREFIXES } from '../../src/contract/lake';
import { TRADING_METRICS } from '../../src/contract/metrics';
import type { IMonitoring } from './monitoring-stack';
import { packageRoot } from '../../src/package-root';

// Found from package.json, not from this file: the CDK app also runs from the build in dist/.
const repoRoot = packageRoot();

export interface TradingStackProps extends StackProps {
  readonly config: TradingConfig;
  /** The lake: the write-once audit bucket, its key and the Glue database. */
  readonly lake: {
    readonly buckets: Readonly<Record<LakeZone, s3.IBucket>>;
    readonly auditKey: kms.IKey;
    readonly databaseName: string;
  };
  readonly monitoring: IMonitoring;
  /**
   * Where the broker-facing functions (execution, algo-child) run: private subnets whose only way
   * out is the NAT gateways' fixed Elastic IPs (the broker's allow-list), HTTPS only.
   * @default outside a VPC (Lambda's shared egress)
   */
  readonly brokerEgress?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
  };
  /**
   * DynamoDB Streams (new and old images) on the tables, for their replication to the DR region
   * (lib/stacks/disaster-recovery-stack.ts). Adding a stream updates a table in place.
   * @default false
   */
  readonly changeStreams?: boolean;
}

export class TradingStack extends Stack {
  readonly key: QuantKey;
  readonly riskTable: EncryptedTable;
  readonly ordersTable: EncryptedTable;
  readonly idempotencyTable: EncryptedTable;
  readonly signals: kinesis.Stream;
  readonly bus: events.EventBus;
  readonly deadLetterQueue: sqs.Queue;
  readonly auditStream: firehose.CfnDeliveryStream;
  readonly execution: QuantFunction;
  readonly riskCheck: QuantFunction;
  readonly riskCheckUrl: lambda.FunctionUrl;
  readonly killSwitch: QuantFunction;
  /** On-failure destination of the kill switch's asynchronous invocations (alarmed). */
  readonly killSwitchFailures: sqs.Queue;
  /** Submits one child of an algorithm parent (the algo state machine's task). */
  readonly algoChild: QuantFunction;
  /** One Standard execution per algorithm parent: Map over the children, Wait until each one's time. */
  readonly algoStateMachine: sfn.StateMachine;
  readonly brokerSecret?: Secret;
  /** Publishes the account's returns window daily from the lake's daily bars (config.returnsJob). */
  readonly riskReturns?: QuantFunction;
  /** Security group of execution and algo-child (HTTPS out only), when `brokerEgress` is given. */
  readonly brokerSecurityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: TradingStackProps) {
    super(scope, id, props);
    const { config, lake, monitoring } = props;
    const audit = lake.buckets.audit;

    this.key = new QuantKey(this, 'TradingKey', {
      description: 'Trading tables, signals stream, dead-letter queue and audit delivery',
      allowEventBridge: true,
    });
    const table = (tid: string, key: string, ttl?: string): EncryptedTable =>
      new EncryptedTable(this, tid, {
        partitionKey: { name: key, type: dynamodb.AttributeType.STRING },
        encryptionKey: this.key,
        timeToLiveAttribute: ttl,
        stream: props.changeStreams ? dynamodb.StreamViewType.NEW_AND_OLD_IMAGES : undefined,
      });
    // Order-rate counters (RATE#...) expire through TTL on `expiresAt`.
    this.riskTable = table('RiskTable', 'pk', 'expiresAt');
    this.ordersTable = table('OrdersTable', 'orderId');
    // Powertools idempotency records expire through TTL on `expiration`.
    this.idempotencyTable = table('IdempotencyTable', 'id', 'expiration');
    // With disaster recovery on, the DisasterRecovery stack's backup plan selects these tables (and
    // acknowledges the finding here, where cdk-nag looks for it: lib/constructs/data-backup-plan.ts).
    if (!props.changeStreams) {
      for (const t of [this.riskTable, this.ordersTable, this.idempotencyTable]) {
        Validations.of(t).acknowledge({
          id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
          reason:
            'This environment has no disaster recovery (its config has no disasterRecovery section, lib/config/environments.ts): no AWS Backup plan for a non-production environment; point-in-time recovery stays on. Staging and prod back these tables up (DataBackupPlan).',
        });
      }
    }

    this.signals = new kinesis.Stream(this, 'Signals', {
      streamMode: config.signalShards === 0 ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
      shardCount: config.signalShards === 0 ? undefined : config.signalShards,
      retentionPeriod: Duration.hours(24),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bus = new events.EventBus(this, 'OrderEvents', {
      description: 'Trading signals in, order events out',
    });

    this.deadLetterQueue = new sqs.Queue(this, 'ExecutionDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.signals).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        'A customer-managed key (rotated, retained) instead of aws/kinesis: its key policy controls who can read signals.',
    });

    // Audit trail: Firehose → audit bucket (Object Lock, compliance mode), partitioned by day.
    const firehoseLogs = new EncryptedLogGroup(this, 'AuditDeliveryLogs', {
      encryptionKey: monitoring.logKey,
      retentionDays: monitoring.logRetentionDays,
    });
    const firehoseLogStream = firehoseLogs.addStream('S3Delivery');
    const firehoseRole = new iam.Role(this, 'AuditDeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: 'Firehose delivery of the audit trail into the audit bucket',
    });
    firehoseRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [
          audit.arnForObjects(`${LAKE_PREFIXES.auditEvents}/*`),
          audit.arnForObjects('audit_errors/*'),
        ],
      }),
    );
    firehoseRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [audit.bucketArn],
      }),
    );
    firehoseRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:PutLogEvents'],
        resources: [firehoseLogs.logGroupArn, `${firehoseLogs.logGroupArn}:*`],
      }),
    );
    lake.auditKey.grantEncrypt(firehoseRole);
    this.key.grantEncryptDecrypt(firehoseRole);
    this.auditStream = new firehose.CfnDeliveryStream(this, 'AuditDelivery', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: {
        keyType: 'CUSTOMER_MANAGED_CMK',
        keyArn: this.key.keyArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: audit.bucketArn,
        roleArn: firehoseRole.roleArn,
        prefix: `${LAKE_PREFIXES.auditEvents}/dt=!{timestamp:yyyy-MM-dd}/`,
        errorOutputPrefix: 'audit_errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
        bufferingHints: { intervalInSeconds: 60, sizeInMBs: 5 },
        compressionFormat: 'UNCOMPRESSED',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: lake.auditKey.keyArn } },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: firehoseLogs.logGroupName,
          logStreamName: firehoseLogStream.logStreamName,
        },
      },
    });
    this.auditStream.node.addDependency(firehoseRole);

    // Glue table over the delivered JSON lines; dates by partition projection (no crawler).
    new glue.CfnTable(this, 'AuditEventsTable', {
      catalogId: this.account,
      databaseName: lake.databaseName,
      tableInput: {
        name: 'audit_events',
        description: 'Append-only trading audit trail: signals, checks, orders, fills, state changes',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: 'dt', type: 'string' }],
        parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2024-01-01,NOW',
          'storage.location.template': `s3://${audit.bucketName}/${LAKE_PREFIXES.auditEvents}/dt=\${dt}/`,
        },
        storageDescriptor: {
          location: `s3://${audit.bucketName}/${LAKE_PREFIXES.auditEvents}/`,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'true' },
          },
          columns: [
            { name: 'eventid', type: 'string' },
            { name: 'type', type: 'string' },
            { name: 'time', type: 'string' },
            { name: 'account', type: 'string' },
            { name: 'strategy', type: 'string' },
            { name: 'signalid', type: 'string' },
            { name: 'orderid', type: 'string' },
            { name: 'detail', type: 'string' },
          ],
        },
      },
    });

    const common = {
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
      metricsNamespace: TRADING_METRICS.namespace,
    };
    const tableEnv = {
      [TRADING_ENV.riskTable]: this.riskTable.tableName,
      [TRADING_ENV.ordersTable]: this.ordersTable.tableName,
      [TRADING_ENV.idempotencyTable]: this.idempotencyTable.tableName,
      [TRADING_ENV.auditStream]: this.auditStream.ref,
      [TRADING_ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      [TRADING_ENV.account]: config.account,
      [TRADING_ENV.orderBus]: this.bus.eventBusName,
    };
    const brokerEnv: Record<string, string> = {
      [TRADING_ENV.broker]: config.broker,
      [TRADING_ENV.paperCostBps]: String(config.paperCostBps),
      // VaR and correlation limits read the returns window under risk/returns/ in the curated zone.
      [LAKE_BUCKET_ENV.curated]: lake.buckets.curated.bucketName,
      ...(config.quoteMaxAgeMs !== undefined
        ? { [TRADING_ENV.quoteMaxAgeMs]: String(config.quoteMaxAgeMs) }
        : {}),
    };
    if (config.broker === 'rest') {
      this.brokerSecret = new Secret(this, 'BrokerKeys', {
        description: 'REST broker API keys: {"keyId": "...", "secretKey": "..."} (set after deploy)',
        encryptionKey: this.key,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const id of ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled']) {
        Validations.of(this.brokerSecret).acknowledge({
          id,
          reason:
            'Broker API keys are issued by the broker and rotated in its console; there is no rotation Lambda for a third-party key.',
        });
      }
      brokerEnv[TRADING_ENV.brokerUrl] = config.brokerUrl!;
      brokerEnv[TRADING_ENV.brokerSecretArn] = this.brokerSecret.secretArn;
    }

    // Broker calls leave through NAT (fixed addresses for the broker's allow-list), HTTPS only; AWS
    // APIs are reached through the VPC's endpoints or the same NAT, also on 443.
    let brokerNetwork: Partial<QuantFunctionProps> = {};
    if (props.brokerEgress) {
      this.brokerSecurityGroup = new ec2.SecurityGroup(this, 'BrokerEgressSecurityGroup', {
        vpc: props.brokerEgress.vpc,
        description: 'Execution and algo-child: HTTPS out only (broker through NAT, AWS APIs)',
        allowAllOutbound: false,
      });
      this.brokerSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS only');
      brokerNetwork = {
        vpc: props.brokerEgress.vpc,
        vpcSubnets: props.brokerEgress.subnets,
        securityGroups: [this.brokerSecurityGroup],
      };
    }

    // Algorithm parents: the children are released by a Standard state machine (one execution per
    // parent, named after it) through the algo-child function, the same path as a plain order.
    this.algoChild = new QuantFunction(this, 'AlgoChild', {
      ...common,
      entry: path.join(repoRoot, 'lambda/algo-child/index.ts'),
      serviceName: 'algo-child',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      environment: { ...tableEnv, ...brokerEnv },
      // The same cap on broker calls as the execution function.
      reservedConcurrentExecutions: config.executionConcurrency,
      noDeadLetterQueueReason:
        'Invoked only synchronously by the algo state machine, which retries each child (idempotent per parent and slice); a DLQ receives only failed asynchronous invocations.',
      ...brokerNetwork,
    });
    this.grantRiskWrites(this.algoChild, orderPathKeys(config.account));
    this.ordersTable.grantReadWriteData(this.algoChild);
    this.brokerSecret?.grantRead(this.algoChild);
    const releaseChild = new tasks.LambdaInvoke(this, 'Submit child', {
      lambdaFunction: this.algoChild,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    // A child is idempotent per (parent, slice): retrying a failed or timed-out task is safe.
    releaseChild.addRetry({
      errors: [sfn.Errors.TASKS_FAILED, sfn.Errors.TIMEOUT],
      interval: Duration.seconds(2),
      maxAttempts: 5,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const children = new sfn.Map(this, 'Children', {
      itemsPath: sfn.JsonPath.stringAt('$.children'),
      // One at a time, in time order: each child's check sees the fills of the ones before it.
      maxConcurrency: 1,
      resultPath: sfn.JsonPath.DISCARD,
    });
    children.itemProcessor(
      new sfn.Wait(this, 'Until child time', { time: sfn.WaitTime.timestampPath('$.at') }).next(releaseChild),
    );
    const algoLogs = new EncryptedLogGroup(this, 'AlgoStateMachineLogs', {
      encryptionKey: monitoring.logKey,
      retentionDays: monitoring.logRetentionDays,
    });
    this.algoStateMachine = new sfn.StateMachine(this, 'AlgoStateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(children),
      stateMachineType: sfn.StateMachineType.STANDARD,
      // Longest algorithm (7 days, src/trading/algos.ts) plus a day of retries and late starts.
      timeout: Duration.days(8),
      tracingEnabled: true,
      logs: { destination: algoLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment:
        'Algorithm parent (TWAP/VWAP/POV): wait until each child time, submit it through risk and broker',
    });
    // `quant algo cancel --aws` stops a parent's execution here (ALGO_STATE_MACHINE_ARN).
    new CfnOutput(this, 'AlgoStateMachineArn', { value: this.algoStateMachine.stateMachineArn });

    this.execution = new QuantFunction(this, 'Execution', {
      ...common,
      entry: path.join(repoRoot, 'lambda/execution/index.ts'),
      serviceName: 'execution',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: config.executionConcurrency,
      environment: {
        ...tableEnv,
        ...brokerEnv,
        [TRADING_ENV.algoStateMachineArn]: this.algoStateMachine.stateMachineArn,
      },
      // Signals and reconciliations that still fail after Lambda's retries (asynchronous
      // invocations from the bus and the schedule) land with the poison signals, alarmed.
      deadLetterQueue: this.deadLetterQueue,
      ...brokerNetwork,
    });
    this.algoStateMachine.grantStartExecution(this.execution);
    this.grantRiskWrites(this.execution, orderPathKeys(config.account));
    this.ordersTable.grantReadWriteData(this.execution);
    this.idempotencyTable.grantReadWriteData(this.execution);
    this.deadLetterQueue.grantSendMessages(this.execution);
    this.brokerSecret?.grantRead(this.execution);
    this.execution.addEventSource(
      new sources.KinesisEventSource(this.signals, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        reportBatchItemFailures: true,
        retryAttempts: 5,
        bisectBatchOnError: true,
        maxRecordAge: Duration.hours(1),
        onFailure: new sources.SqsDlq(this.deadLetterQueue),
      }),
    );
    new events.Rule(this, 'SignalRule', {
      eventBus: this.bus,
      description: 'Trading signals sent to the bus go to the execution function',
      // Only the strategies' source (src/contract/trading.ts): order events on the same bus, or a
      // signal from any other publisher, never reach execution.
      eventPattern: { source: [TRADING_SIGNAL_SOURCE], detailType: [TRADING_SIGNAL_DETAIL_TYPE] },
      targets: [
        new targets.LambdaFunction(this.execution, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 4,
        }),
      ],
    });

    // Orders left UNKNOWN by a broker timeout (or still working) are resolved by asking the broker.
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconciles UNKNOWN and working orders with the broker (never resubmits)',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.execution, { retryAttempts: 2 })],
    });

    this.riskCheck = new QuantFunction(this, 'RiskCheck', {
      ...common,
      entry: path.join(repoRoot, 'lambda/risk-check/index.ts'),
      serviceName: 'risk-check',
      environment: tableEnv,
      // Strategies' pre-trade checks keep their share of the account's pool (and cannot starve it).
      reservedConcurrentExecutions: config.riskCheckConcurrency ?? 10,
      noDeadLetterQueueReason:
        'Invoked only synchronously through its IAM-authenticated function URL: the strategy gets the error and retries; a DLQ receives only failed asynchronous invocations.',
      outsideVpcReason:
        'Calls only AWS service APIs (DynamoDB), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
    });
    this.riskTable.grantReadData(this.riskCheck);
    // Strategies call it with SigV4 (IAM auth): grant lambda:InvokeFunctionUrl to their roles.
    this.riskCheckUrl = this.riskCheck.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    this.killSwitch = new QuantFunction(this, 'KillSwitch', {
      ...common,
      entry: path.join(repoRoot, 'lambda/kill-switch/index.ts'),
      serviceName: 'kill-switch',
      environment: tableEnv,
      // A halt is never throttled because other functions used up the account's concurrency.
      reservedConcurrentExecutions: config.killSwitchConcurrency ?? 2,
      noDeadLetterQueueReason:
        'Failed asynchronous invocations go to its on-failure destination KillSwitchFailures (KillSwitchFailuresAlarm), which records the error as well as the event, unlike a DLQ.',
      outsideVpcReason:
        'Kept outside the VPC on purpose: a halt must not depend on ENIs, NAT gateways or endpoints. It calls only AWS service APIs (DynamoDB, Firehose, EventBridge), IAM-authenticated over TLS.',
    });
    // The kill switch writes only the account-wide state key: it applies `escalate` events, which
    // can only make a state more restrictive (transition in src/risk/state.ts); `resume` is the
    // operator path (quant risk resume), run with the operator's credentials, not this role.
    this.grantRiskWrites(this.killSwitch, [accountStateKey(config.account)]);
    // EventBridge invokes it asynchronously: a halt that still fails after Lambda's retries lands
    // here (with the event and the error) and pages, instead of being dropped.
    this.killSwitchFailures = new sqs.Queue(this, 'KillSwitchFailures', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.killSwitchFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of the kill switch (failed halts with their error); any message raises KillSwitchFailuresAlarm.',
    });
    this.killSwitch.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.killSwitchFailures),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });

    // The returns window of the VaR / correlation rules, refreshed daily (else every order under
    // those limits rejects with returnsWindow once none exists). Pure JS: daily bars are read
    // with hyparquet, so a small Lambda does what `quant risk returns` does.
    if (config.returnsJob) {
      const job = config.returnsJob;
      const fn = new QuantFunction(this, 'RiskReturns', {
        ...common,
        entry: path.join(repoRoot, 'lambda/risk-returns/index.ts'),
        serviceName: 'risk-returns',
        memorySize: 1024,
        timeout: Duration.minutes(5),
        environment: { [LAKE_BUCKET_ENV.curated]: lake.buckets.curated.bucketName },
        // One run a day.
        reservedConcurrentExecutions: 1,
        deadLetterQueue: this.deadLetterQueue,
        outsideVpcReason:
          'Calls only AWS service APIs (S3), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
      });
      this.riskReturns = fn;
      lake.buckets.curated.grantRead(fn, `${LAKE_PREFIXES.dailyBars}/*`);
      // Writes only this account's window (one PUT; no multipart, tagging or retention).
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [
            lake.buckets.curated.arnForObjects(`${LAKE_PREFIXES.riskReturns}/${config.account}.json`),
          ],
        }),
      );
      lake.buckets.curated.encryptionKey?.grantEncrypt(fn);
      new events.Rule(this, 'RiskReturnsSchedule', {
        description: `Publishes ${LAKE_PREFIXES.riskReturns}/${config.account}.json from daily lake bars (quant risk returns)`,
        schedule: events.Schedule.cron({ hour: String(job.hourUtc), minute: String(job.minuteUtc) }),
        targets: [
          new targets.LambdaFunction(fn, {
            event: events.RuleTargetInput.fromObject({
              account: config.account,
              symbols: job.symbols,
              days: job.days,
            }),
            retryAttempts: 2,
            deadLetterQueue: this.deadLetterQueue,
          }),
        ],
      });
      monitoring.addAlarm(this, 'RiskReturnsErrorsAlarm', {
        alarmDescription:
          'The daily returns-window job failed: the VaR / correlation window is getting old (see its logs; quant risk returns --aws by hand)',
        metric: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const fn of [this.execution, this.algoChild]) {
      lake.buckets.curated.grantRead(fn, `${LAKE_PREFIXES.riskReturns}/*`);
      // Children are priced at the latest 1-minute bar; VWAP curves come from past ones.
      lake.buckets.curated.grantRead(fn, `${LAKE_PREFIXES.minuteBars}/*`);
    }
    for (const fn of [this.execution, this.killSwitch, this.algoChild]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['firehose:PutRecordBatch'],
          resources: [this.auditStream.attrArn],
        }),
      );
      this.key.grantEncrypt(fn);
      // Order, fill and state events (source quant.trading) for consumers of the bus.
      this.bus.grantPutEventsTo(fn);
    }

    // Monitoring: alarms on the platform topic; the kill-switch alarm also halts trading.
    const metric = (name: string, stat = 'Sum', dims: Record<string, string> = {}) =>
      new cw.Metric({
        namespace: TRADING_METRICS.namespace,
        metricName: name,
        statistic: stat,
        period: Duration.minutes(1),
        dimensionsMap: { service: 'execution', ...dims },
      });
    const errorAlarm = monitoring.addAlarm(this, 'ExecutionErrorsAlarm', {
      alarmDescription: 'Execution function errors: trips the kill switch (trading HALTED)',
      metric: this.execution.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: config.killSwitchErrorThreshold,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const dlqDepth = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    });
    monitoring.addAlarm(this, 'DlqNotEmptyAlarm', {
      alarmDescription: 'Signals in the execution dead-letter queue (each carries its reason)',
      metric: dlqDepth,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    monitoring.addAlarm(this, 'KillSwitchErrorsAlarm', {
      alarmDescription:
        'The kill switch failed to handle an alarm: trading may NOT be halted (halt by hand: quant risk halt)',
      metric: this.killSwitch.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    monitoring.addAlarm(this, 'KillSwitchFailuresAlarm', {
      alarmDescription:
        'A halt failed after all retries (kill-switch failure queue): trading is NOT halted; halt by hand (quant risk halt)',
      metric: this.killSwitchFailures.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    const halts = new cw.Metric({
      namespace: TRADING_METRICS.namespace,
      metricName: TRADING_METRICS.halts,
      statistic: 'Sum',
      period: Duration.minutes(1),
      dimensionsMap: { service: 'kill-switch' },
    });
    // Trading state as a level (0 ACTIVE, 1 REDUCING, 2 HALTED): the execution function reports it
    // after every signal, the kill switch after every alarm it handles.
    const stateLevel = new cw.MathExpression({
      expression: 'MAX([stateExecution, stateKillSwitch])',
      usingMetrics: {
        stateExecution: metric(TRADING_METRICS.tradingState, 'Maximum'),
        stateKillSwitch: new cw.Metric({
          namespace: TRADING_METRICS.namespace,
          metricName: TRADING_METRICS.tradingState,
          statistic: 'Maximum',
          period: Duration.minutes(1),
          dimensionsMap: { service: 'kill-switch' },
        }),
      },
      label: 'trading state (0 ACTIVE, 1 REDUCING, 2 HALTED)',
      period: Duration.minutes(1),
    });
    monitoring.addAlarm(this, 'HaltedAlarm', {
      alarmDescription:
        'Trading is HALTED: the kill switch halted trading or a drawdown latched it (resume: quant risk resume --actor --reason)',
      metric: stateLevel,
      threshold: 2,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const utilization = metric(TRADING_METRICS.limitUtilization, 'Maximum');
    monitoring.addAlarm(this, 'LimitUtilizationWarningAlarm', {
      alarmDescription: 'Warning: a risk limit is at 80% or more of its value (limit utilization)',
      metric: utilization,
      threshold: 80,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    monitoring.addAlarm(this, 'LimitUtilizationBreachAlarm', {
      alarmDescription: 'Error: a risk limit is breached (limit utilization above 100%)',
      metric: utilization,
      threshold: 100,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    monitoring.addAlarm(this, 'LimitBreachAlarm', {
      alarmDescription: 'Error: orders rejected by a risk limit',
      metric: metric(TRADING_METRICS.rejects),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    // Drawdown and daily loss at or beyond their limits trip the kill switch like the error rate.
    const lossAlarms = (
      [
        [
          'DrawdownAlarm',
          'maxDrawdown',
          'Drawdown from the peak NAV reached maxDrawdown: trips the kill switch',
        ],
        [
          'DailyLossAlarm',
          'maxDailyLoss',
          'Loss since the start of the day reached maxDailyLoss: trips the kill switch',
        ],
      ] as const
    ).map(([alarmId, rule, alarmDescription]) =>
      monitoring.addAlarm(this, alarmId, {
        alarmDescription,
        metric: metric(TRADING_METRICS.limitUtilizationByRule, 'Maximum', { rule }),
        threshold: 100,
        evaluationPeriods: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
    );
    new events.Rule(this, 'KillSwitchRule', {
      description:
        'Kill-switch alarms (execution errors, drawdown, daily loss) entering ALARM set trading HALTED',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: [errorAlarm.alarmArn, ...lossAlarms.map((a) => a.alarmArn)],
        detail: { state: { value: ['ALARM'] } },
      },
      targets: [
        new targets.LambdaFunction(this.killSwitch, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
        }),
      ],
    });

    monitoring.addSection('Trading', [
      [
        new cw.GraphWidget({ title: 'Orders per minute', left: [metric(TRADING_METRICS.orders)], width: 8 }),
        new cw.GraphWidget({
          title: 'Rejects by rule',
          left: [
            new cw.MathExpression({
              expression: `SEARCH('{${TRADING_METRICS.namespace},rule,service} MetricName="${TRADING_METRICS.rejectsByRule}"', 'Sum', 60)`,
              label: '',
              period: Duration.minutes(1),
            }),
          ],
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Trading state (0 ACTIVE, 1 REDUCING, 2 HALTED)',
          left: [stateLevel],
          right: [halts],
          leftYAxis: { min: 0, max: 2 },
          width: 8,
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'Limit utilization %',
          left: [
            new cw.MathExpression({
              expression: `SEARCH('{${TRADING_METRICS.namespace},rule,service} MetricName="${TRADING_METRICS.limitUtilizationByRule}"', 'Maximum', 60)`,
              label: '',
              period: Duration.minutes(1),
            }),
          ],
          leftAnnotations: [
            { value: 80, label: 'warning', color: cw.Color.ORANGE },
            { value: 100, label: 'limit', color: cw.Color.RED },
          ],
          width: 8,
        }),
        new cw.GraphWidget({ title: 'Dead-letter queue depth', left: [dlqDepth], width: 8 }),
        new cw.GraphWidget({
          title: 'Execution p99 latency (ms)',
          left: [this.execution.metricDuration({ statistic: 'p99', period: Duration.minutes(1) })],
          width: 8,
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'Duplicate deliveries',
          left: [metric(TRADING_METRICS.duplicateOrders)],
          width: 8,
        }),
      ],
    ]);
    // IAM5 findings this stack's policies are meant to have, each acknowledged with its reason.
    acknowledgeWildcards(this, WILDCARD_REASONS);
  }

  /**
   * Reads of the risk table, and writes (put / update) only to items whose key matches one of
   * `keys` (`dynamodb:LeadingKeys`, StringLike: `*` is a wildcard, `${*}` a literal `*`). No trading function
   * gets LIMITS#: limits change only through `quant risk limits` with an operator's credentials.
   */
  private grantRiskWrites(fn: QuantFunction, keys: readonly string[]): void {
    this.riskTable.grantReadData(fn);
    this.key.grantEncryptDecrypt(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.riskTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...keys] } },
      }),
    );
  }
}

/**
 * Risk-table keys the order path writes (execution, algo-child): the account's book
 * (src/trading/book.ts), its order-rate counters and the account-wide state that drawdown / daily
 * loss escalate automatically (src/risk/store.ts, src/trading/post-trade.ts).
 */
function orderPathKeys(account: string): string[] {
  return [`BOOK#${account}`, `RATE#${account}#*`, accountStateKey(account)];
}

/** `STATE#<account>#*` with a literal `*` (IAM's `${*}`): the account-wide state, no strategy's. */
function accountStateKey(account: string): string {
  return `STATE#${account}#\${*}`;
}

const WILDCARD_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^Action::s3:(GetObject|GetBucket|List)\*$/,
    'CDK read grant action groups (s3:GetObject*, s3:GetBucket*, s3:List*) of the curated bucket: the object actions are limited to the risk/returns/ and bars prefixes the function reads, the bucket actions (listing included) apply to the whole curated bucket.',
  ],
  [
    /GetAttCuratedBucket[0-9A-F]+Arn[0-9A-F]+"}}\/risk\/returns\/\*$/,
    'One returns-window object per account (written by a job) under risk/returns/ in the curated zone.',
  ],
  [
    /GetAttCuratedBucket[0-9A-F]+Arn[0-9A-F]+"}}\/bars\/interval=1[md]\/\*$/,
    'Read-only: the 1-minute bars (one partition per symbol and year) for child quotes and VWAP curves; the daily bars for the returns-window job.',
  ],
  [
    /^Resource::<AlgoChild[0-9A-F]{8}\.Arn>:\*$/,
    'Step Functions invokes the algo-child function by any version or alias of the same function.',
  ],
  [
    /^Resource::\*$/,
    'X-Ray tracing and CloudWatch Logs vended-log delivery of the algo state machine have no resource-level permissions (the stack test pins this list).',
  ],
  [
    /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    'Data-key actions that SSE-KMS needs; the statements are limited to the trading, audit and lake keys.',
  ],
  [
    /AuditBucket[0-9A-F]+Arn[0-9A-F]+"}}\/audit_(events|errors)\/\*$/,
    'Firehose names audit objects per delivery batch at run time; the grant is limited to the audit_events/ and audit_errors/ prefixes and is put-only (Object Lock keeps them immutable).',
  ],
  [
    /^Resource::<AuditDeliveryLogs[0-9A-F]+\.Arn>:\*$/,
    'Firehose writes error records to log streams of its own log group.',
  ],
];
