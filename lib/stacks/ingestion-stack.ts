/**
 * Market-data ingestion: the Kinesis `ticks` stream, the Lambda consumer that lands ticks
 * in the raw zone as Parquet, and the Glue jobs (compaction, 1m and 1d bars) run daily by a Glue
 * workflow. Runtime logic lives in src/ingest; the Glue jobs' SQL in glue-jobs/<job>/<job>.sql.
 */
import path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { IngestionConfig } from '../config/types';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  acknowledgeWildcards,
  eventBridgeKeyStatement,
  NewsIngest,
  QuantFunction,
  QuantKey,
  VendorStreamService,
} from '../constructs';
import type { LakeZone } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';
import { packageRoot } from '../../src/package-root';
import { BARS, LAKE_BUCKET_ENV, LAKE_PREFIXES, TICKS } from '../../src/contract/lake';
import { INGEST_METRICS } from '../../src/contract/metrics';

// Found from package.json, not from this file: the CDK app also runs from the build in dist/.
const repoRoot = packageRoot();

/** Prefixes the consumer and the Glue jobs write (src/contract/lake.ts). */
const INGEST_PREFIXES = {
  ticks: TICKS.prefix,
  quarantine: LAKE_PREFIXES.quarantine,
  bars: BARS.prefix,
} as const;
const CONSUMER_METRICS = INGEST_METRICS;

export interface IngestionStackProps extends StackProps {
  readonly config: IngestionConfig;
  /** The lake: raw and curated buckets and their key. */
  readonly lake: {
    readonly buckets: Readonly<Record<LakeZone, s3.IBucket>>;
    readonly lakeKey: kms.IKey;
  };
  readonly monitoring: IMonitoring;
  /** Network of the vendor streaming services (when `config.vendorStreams` lists any). */
  readonly vpc?: ec2.IVpc;
  /** @default PRIVATE_WITH_EGRESS */
  readonly egressSubnets?: ec2.SubnetSelection;
}

function check(cond: boolean, field: string, problem: string): void {
  if (!cond) throw new Error(`ingestion.${field}: ${problem}`);
}

export class IngestionStack extends Stack {
  readonly stream: kinesis.Stream;
  readonly consumer: QuantFunction;
  readonly deadLetterQueue: sqs.Queue;
  readonly jobs: Readonly<Record<'compaction' | 'bars1m' | 'bars1d', glue.CfnJob>>;
  readonly workflow: glue.CfnWorkflow;
  readonly glueRole: iam.Role;
  readonly vendorStreams?: VendorStreamService;
  /** The scheduled news pull into `news_sentiment` (alternative data). */
  readonly news: NewsIngest;
  private readonly iteratorAgeAlarmMs: number;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config, lake, monitoring } = props;
    this.iteratorAgeAlarmMs = config.iteratorAgeAlarmSeconds * 1000;
    const raw = lake.buckets.raw;
    const curated = lake.buckets.curated;

    // --- Stream ---------------------------------------------------------------------------------
    const streamKey = new QuantKey(this, 'StreamKey', {
      description: 'Kinesis ticks stream and ingestion DLQ',
    });
    this.stream = new kinesis.Stream(this, 'Ticks', {
      streamMode:
        config.streamMode === 'on-demand' ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
      shardCount: config.streamMode === 'provisioned' ? config.shardCount : undefined,
      retentionPeriod: Duration.hours(config.retentionHours),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: streamKey,
      // Un-consumed ticks are data: a stack deletion must not drop them silently.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- Consumer ---------------------------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'ConsumerDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: streamKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.consumer = new QuantFunction(this, 'Consumer', {
      entry: path.join(repoRoot, 'lambda/ingest-consumer/index.ts'),
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
      serviceName: CONSUMER_METRICS.service,
      metricsNamespace: CONSUMER_METRICS.namespace,
      memorySize: config.consumerMemoryMiB,
      timeout: Duration.minutes(5),
      environment: { [LAKE_BUCKET_ENV.raw]: raw.bucketName },
      // A provisioned stream needs exactly shards x parallelization concurrent batches.
      reservedConcurrentExecutions:
        config.streamMode === 'provisioned' ? config.shardCount * config.consumerParallelization : undefined,
      noDeadLetterQueueReason:
        "Invoked only by its Kinesis event source mapping, whose failed batches go to the mapping's on-failure destination ConsumerDlq (DlqAlarm); a function DLQ catches only asynchronous invocations.",
      outsideVpcReason:
        'Calls only AWS service APIs (S3), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
    });
    if (config.streamMode !== 'provisioned') {
      Validations.of(this.consumer).acknowledge({
        id: 'NIST.800.53.R5-LambdaConcurrency',
        reason:
          'On-demand stream: its shard count, and with it the concurrency the event source mapping needs (shards x parallelization factor), follows the traffic; a fixed reservation below it would make the consumer fall behind.',
      });
    }
    raw.grantPut(this.consumer, `${INGEST_PREFIXES.ticks}/*`);
    raw.grantPut(this.consumer, `${INGEST_PREFIXES.quarantine}/*`);
    this.consumer.addEventSource(
      new sources.KinesisEventSource(this.stream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: config.consumerBatchSize,
        maxBatchingWindow: Duration.seconds(config.consumerBatchingWindowSeconds),
        parallelizationFactor: config.consumerParallelization,
        // The handler reports the first unstored record; Lambda retries from there.
        reportBatchItemFailures: true,
        retryAttempts: 10,
        bisectBatchOnError: false,
        maxRecordAge: Duration.hours(Math.min(config.retentionHours, 168)),
        onFailure: new sources.SqsDlq(this.deadLetterQueue),
      }),
    );

    // --- Glue jobs ----------------------------------------------------------------------------
    this.glueRole = new iam.Role(this, 'GlueRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Glue bars and compaction jobs: read/write the raw and curated zones',
    });
    raw.grantRead(this.glueRole, `${INGEST_PREFIXES.ticks}/*`);
    raw.grantPut(this.glueRole, `${INGEST_PREFIXES.ticks}/*`);
    // Compaction replaces tick objects: a plain delete, which in the versioned raw bucket only adds a
    // delete marker (the ticks stay recoverable). Deleting a version would lose them for good.
    this.glueRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:DeleteObject'],
        resources: [raw.arnForObjects(`${INGEST_PREFIXES.ticks}/*`)],
      }),
    );
    this.glueRole.addToPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['s3:DeleteObjectVersion'],
        resources: [raw.arnForObjects('*')],
      }),
    );
    curated.grantReadWrite(this.glueRole, `${INGEST_PREFIXES.bars}/*`);
    curated.grantDelete(this.glueRole, `${INGEST_PREFIXES.bars}/*`);
    // Listing is per bucket; restrict it to the prefixes the jobs work in.
    for (const [bucket, prefix] of [
      [raw, INGEST_PREFIXES.ticks],
      [curated, INGEST_PREFIXES.bars],
    ] as const) {
      this.glueRole.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, prefix] } },
        }),
      );
    }
    const jobLogGroups = `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:/aws-glue/*`;
    this.glueRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [jobLogGroups, `${jobLogGroups}:*`],
      }),
    );
    this.glueRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );
    monitoring.logKey.grantEncryptDecrypt(this.glueRole);
    lake.lakeKey.grantEncryptDecrypt(this.glueRole);

    const securityConfiguration = new glue.CfnSecurityConfiguration(this, 'GlueSecurity', {
      name: `${this.stackName}-glue`.slice(0, 255),
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: lake.lakeKey.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: monitoring.logKey.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: lake.lakeKey.keyArn },
      },
    });

    const asset = (name: string, file: string): s3assets.Asset => {
      const a = new s3assets.Asset(this, name, { path: path.join(repoRoot, 'glue-jobs', file) });
      a.grantRead(this.glueRole);
      return a;
    };
    const barsScript = asset('BarsScript', 'bars/job.py');
    const barsSql = asset('BarsSql', 'bars/bars.sql');
    const compactionScript = asset('CompactionScript', 'compaction/job.py');
    const compactionSql = asset('CompactionSql', 'compaction/compaction.sql');

    const rawTicks = `s3://${raw.bucketName}/${INGEST_PREFIXES.ticks}`;
    const job = (
      idName: string,
      script: s3assets.Asset,
      sql: s3assets.Asset,
      args: Record<string, string>,
      bookmarks: boolean,
    ): glue.CfnJob =>
      new glue.CfnJob(this, idName, {
        role: this.glueRole.roleArn,
        glueVersion: '5.0',
        command: { name: 'glueetl', pythonVersion: '3', scriptLocation: script.s3ObjectUrl },
        workerType: config.glueWorkerType,
        numberOfWorkers: config.glueWorkers,
        maxRetries: 1,
        timeout: 120,
        executionProperty: { maxConcurrentRuns: 1 },
        securityConfiguration: securityConfiguration.ref,
        defaultArguments: {
          '--job-bookmark-option': bookmarks ? 'job-bookmark-enable' : 'job-bookmark-disable',
          '--enable-metrics': 'true',
          '--enable-continuous-cloudwatch-log': 'true',
          '--extra-files': sql.s3ObjectUrl,
          // Empty = the job decides (new days via bookmarks; yesterday for compaction).
          '--dt': '',
          ...args,
        },
      });
    this.jobs = {
      compaction: job(
        'CompactionJob',
        compactionScript,
        compactionSql,
        { '--raw-path': rawTicks, '--target-file-mb': '128' },
        false,
      ),
      bars1m: job(
        'Bars1mJob',
        barsScript,
        barsSql,
        {
          '--interval': '1m',
          '--raw-path': rawTicks,
          '--curated-path': `s3://${curated.bucketName}/${INGEST_PREFIXES.bars}`,
        },
        true,
      ),
      bars1d: job(
        'Bars1dJob',
        barsScript,
        barsSql,
        {
          '--interval': '1d',
          '--raw-path': rawTicks,
          '--curated-path': `s3://${curated.bucketName}/${INGEST_PREFIXES.bars}`,
        },
        true,
      ),
    };

    // Daily: compaction, then both bar intervals. On demand: `aws glue start-workflow-run`.
    this.workflow = new glue.CfnWorkflow(this, 'DailyWorkflow', {
      description: 'Daily: compact yesterday’s ticks, then build 1m and 1d bars of new days',
      maxConcurrentRuns: 1,
    });
    const start = new glue.CfnTrigger(this, 'DailyStart', {
      type: 'SCHEDULED',
      schedule: `cron(0 ${config.dailyRunHourUtc} * * ? *)`,
      startOnCreation: true,
      workflowName: this.workflow.ref,
      actions: [{ jobName: this.jobs.compaction.ref }],
    });
    const after = new glue.CfnTrigger(this, 'BarsAfterCompaction', {
      type: 'CONDITIONAL',
      startOnCreation: true,
      workflowName: this.workflow.ref,
      predicate: {
        logical: 'AND',
        conditions: [{ logicalOperator: 'EQUALS', jobName: this.jobs.compaction.ref, state: 'SUCCEEDED' }],
      },
      actions: [{ jobName: this.jobs.bars1m.ref }, { jobName: this.jobs.bars1d.ref }],
    });
    // Backfills outside the workflow: `aws glue start-trigger` runs both bar jobs now (pass --dt per run).
    new glue.CfnTrigger(this, 'BarsOnDemand', {
      type: 'ON_DEMAND',
      actions: [{ jobName: this.jobs.bars1m.ref }, { jobName: this.jobs.bars1d.ref }],
    });
    for (const t of [start, after]) t.addResourceDependency(this.workflow);

    // --- Alternative data: scheduled news pull into the curated zone ----------------------------
    this.news = new NewsIngest(this, 'News', {
      bucket: curated,
      logKey: monitoring.logKey,
      logRetentionDays: monitoring.logRetentionDays,
    });

    this.addMonitoring(monitoring, streamKey);
    if (config.vendorStreams?.length) {
      check(
        props.vpc !== undefined,
        'vendorStreams',
        'the vendor streaming services need the VPC (props.vpc)',
      );
      this.vendorStreams = new VendorStreamService(this, 'VendorStream', {
        vpc: props.vpc!,
        subnets: props.egressSubnets,
        stream: this.stream,
        rawBucket: raw,
        connections: config.vendorStreams,
        monitoring,
      });
    }
    this.acknowledgeFindings();
  }

  private addMonitoring(monitoring: IMonitoring, streamKey: kms.IKey): void {
    const period = Duration.minutes(5);
    const jobNames = Object.values(this.jobs).map((j) => j.ref);
    // Glue run outcomes come as events; rules matching them give countable metrics (TriggeredRules).
    const runEvents = new sqs.Queue(this, 'GlueRunEvents', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: streamKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    streamKey.addToResourcePolicy(eventBridgeKeyStatement(this, 'AllowEventBridgeRules'));
    const rule = (idName: string, states: string[]): events.Rule =>
      new events.Rule(this, idName, {
        description: `Glue ingestion job runs ending in ${states.join('/')}`,
        eventPattern: {
          source: ['aws.glue'],
          detailType: ['Glue Job State Change'],
          detail: { jobName: jobNames, state: states },
        },
        // Not targets.SqsQueue: with a customer-managed key it grants events.amazonaws.com the queue
        // and the key on aws:SourceAccount alone. Here the queue policy names these two rules and
        // the key statement (above) only rules of this account and region.
        targets: [{ bind: () => ({ arn: runEvents.queueArn, targetResource: runEvents }) }],
      });
    const failed = rule('GlueJobFailedRule', ['FAILED', 'TIMEOUT', 'ERROR', 'STOPPED']);
    const succeeded = rule('GlueJobSucceededRule', ['SUCCEEDED']);
    runEvents.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [runEvents.queueArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnEquals: { 'aws:SourceArn': [failed.ruleArn, succeeded.ruleArn] },
        },
      }),
    );
    const triggered = (r: events.Rule, label: string): cw.Metric =>
      new cw.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: r.ruleName },
        statistic: 'Sum',
        period,
        label,
      });
    const custom = (metricName: string, label: string): cw.Metric =>
      new cw.Metric({
        namespace: CONSUMER_METRICS.namespace,
        metricName,
        dimensionsMap: { service: CONSUMER_METRICS.service },
        statistic: 'Sum',
        period,
        label,
      });

    monitoring.addAlarm(this, 'IteratorAgeAlarm', {
      alarmDescription: 'The ingestion consumer is falling behind the ticks stream',
      metric: this.consumer.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: this.iteratorAgeAlarmMs,
      evaluationPeriods: 5,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    monitoring.addAlarm(this, 'DlqAlarm', {
      alarmDescription: 'Ingestion batches gave up after all retries and went to the DLQ',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    monitoring.addAlarm(this, 'NewsIngestFailedAlarm', {
      alarmDescription:
        'The scheduled news pull failed (vendor down after retries, lake write, or a rejected key)',
      metric: this.news.errorsMetric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    monitoring.addAlarm(this, 'NewsApiKeyRejectedAlarm', {
      alarmDescription:
        'The news vendor rejected the API key (expired or revoked): put a valid key in the news secret',
      metric: this.news.authFailuresMetric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    monitoring.addAlarm(this, 'GlueJobFailedAlarm', {
      alarmDescription: 'A Glue compaction or bars job run failed, timed out or was stopped',
      metric: triggered(failed, 'failed runs'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    monitoring.addSection('Ingestion', [
      [
        new cw.GraphWidget({
          title: 'Ticks stream in',
          left: [this.stream.metricIncomingRecords({ period, statistic: 'Sum', label: 'records' })],
          right: [this.stream.metricIncomingBytes({ period, statistic: 'Sum', label: 'bytes' })],
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Consumer iterator age (ms)',
          left: [this.consumer.metric('IteratorAge', { statistic: 'Maximum', period, label: 'max' })],
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Consumer errors',
          left: [
            this.consumer.metricErrors({ period, statistic: 'Sum', label: 'invocation errors' }),
            custom(INGEST_METRICS.batchWriteFailures, 'batches not stored'),
          ],
          width: 8,
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'Ticks written / quarantined',
          left: [custom(INGEST_METRICS.ticksWritten, 'written')],
          right: [custom(INGEST_METRICS.ticksQuarantined, 'quarantined')],
          width: 12,
        }),
        new cw.GraphWidget({
          title: 'Glue job runs',
          left: [triggered(succeeded, 'succeeded'), triggered(failed, 'failed')],
          width: 12,
        }),
      ],
    ]);
  }

  private acknowledgeFindings(): void {
    const ack = (scope: Construct, id: string, reason: string): void =>
      Validations.of(scope).acknowledge({ id, reason });
    ack(
      this.stream,
      'AwsSolutions-KDS3',
      'A customer-managed key (rotated, retained) instead of aws/kinesis: its key policy controls who can read ticks.',
    );
    ack(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter destination of the Kinesis event source mapping.',
    );
    this.node.addValidation({
      validate: () => {
        for (const c of this.node.findAll()) {
          if (c instanceof sqs.CfnQueue && c.node.path.includes('GlueRunEvents')) {
            ack(
              c,
              'AwsSolutions-SQS3',
              'A record of Glue run outcomes for inspection; losing one only loses a copy of a Glue event.',
            );
          }
        }
        return [];
      },
    });
    acknowledgeWildcards(this, WILDCARD_REASONS);
  }
}

/** Wildcards this stack's policies are meant to have, and why (matched against IAM5 findings). */
const WILDCARD_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^Action::s3:(GetObject|GetBucket|List|Abort|DeleteObject)\*$/,
    'CDK grant action groups for reading, writing or deleting objects; the resources of the same statements limit them to the ticks and bars prefixes.',
  ],
  [
    /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    'Data-key actions SSE-KMS needs; the statements are limited to the lake, stream and log keys.',
  ],
  [
    /^Resource::\*$/,
    'X-Ray trace upload and ecr:GetAuthorizationToken of the vendor-stream tasks (neither has resource-level permissions), and cloudwatch:PutMetricData, which is limited to the Glue namespace by condition.',
  ],
  [
    /GetAttRawBucket[0-9A-F]+Arn[0-9A-F]+"}}\/ticks\/\*$/,
    'Ticks objects are named per (day, symbol, shard, sequence range) at run time.',
  ],
  [
    /GetAttRawBucket[0-9A-F]+Arn[0-9A-F]+"}}\/quarantine\/ticks\/\*$/,
    'Quarantined records are written per batch under the quarantine prefix.',
  ],
  [
    /GetAttCuratedBucket[0-9A-F]+Arn[0-9A-F]+"}}\/bars\/\*$/,
    'The bars job rewrites the bars of the (interval, symbol, year) partitions it rebuilds.',
  ],
  [
    /^Resource::arn:[^:]+:logs:[^:]+:\d+:log-group:\/aws-glue\/\*(:\*)?$/,
    'Glue names its job log groups and streams under /aws-glue/ at run time.',
  ],
  [
    /^Resource::arn:[^:]+:s3:::cdk-[a-z0-9]+-assets-\d+-[a-z0-9-]+\/\*$/,
    'The job scripts and SQL files are CDK assets in the bootstrap bucket (read only).',
  ],
];
