import { Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { INGEST_CONSUMER_ENV } from '../../src/contract/functions';
import { LAKE_PREFIXES, TICKS } from '../../src/contract/lake';
import { INGEST_METRICS } from '../../src/contract/metrics';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import type { WildcardReason } from './acknowledge-wildcards';
import { Area, areaFreeNodeId, areaFreePath, logicalIdOf } from './area';
import { EncryptedQueue } from './encrypted-queue';
import { QuantFunction, specEnvironment } from './quant-function';
import { QuantKey } from './quant-key';

export interface TickStreamProps {
  /** Raw zone: the consumer writes ticks (and quarantined records) into it. */
  readonly rawBucket: s3.IBucket;
  /** Key and retention of the consumer's log group. */
  readonly logKey: kms.IKey;
  readonly logRetentionDays: number;
  /** @default 'on-demand' */
  readonly streamMode?: 'on-demand' | 'provisioned';
  /** Shards of a provisioned stream. @default 1 */
  readonly shardCount?: number;
  /** @default 24 */
  readonly retentionHours?: number;
  /** @default 1000 */
  readonly consumerBatchSize?: number;
  /** @default 5 */
  readonly consumerBatchingWindowSeconds?: number;
  /** @default 1 */
  readonly consumerParallelization?: number;
  /** @default 1024 */
  readonly consumerMemoryMiB?: number;
}

/**
 * The Kinesis `ticks` stream (customer-managed key, retained) and its Lambda consumer, which lands
 * ticks in the raw zone as Parquet (src/ingest). The consumer reports the first record it could not
 * store, so Lambda retries from there; batches that still fail go to a dead-letter queue.
 */
export class TickStream extends Area {
  /** Encrypts the stream and the dead-letter queue. */
  readonly key: QuantKey;
  readonly stream: kinesis.Stream;
  readonly consumer: QuantFunction;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TickStreamProps) {
    super(scope, id);
    const provisioned = props.streamMode === 'provisioned';
    const shardCount = props.shardCount ?? 1;
    const parallelization = props.consumerParallelization ?? 1;
    const retentionHours = props.retentionHours ?? 24;
    this.key = new QuantKey(this, 'StreamKey', { description: 'Kinesis ticks stream and ingestion DLQ' });
    this.stream = new kinesis.Stream(this, 'Ticks', {
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: provisioned ? shardCount : undefined,
      retentionPeriod: Duration.hours(retentionHours),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      // Un-consumed ticks are data: a stack deletion must not drop them silently.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.deadLetterQueue = new EncryptedQueue(this, 'ConsumerDlq', { encryptionKey: this.key });
    this.consumer = new QuantFunction(this, 'Consumer', {
      lambda: 'ingest-consumer',
      logKey: props.logKey,
      logRetentionDays: props.logRetentionDays,
      serviceName: INGEST_METRICS.service,
      metricsNamespace: INGEST_METRICS.namespace,
      memorySize: props.consumerMemoryMiB ?? 1024,
      timeout: Duration.minutes(5),
      environment: specEnvironment(INGEST_CONSUMER_ENV, { rawBucket: props.rawBucket.bucketName }),
      // A provisioned stream needs exactly shards x parallelization concurrent batches.
      reservedConcurrentExecutions: provisioned ? shardCount * parallelization : undefined,
      noDeadLetterQueueReason:
        "Invoked only by its Kinesis event source mapping, whose failed batches go to the mapping's on-failure destination ConsumerDlq (DlqAlarm); a function DLQ catches only asynchronous invocations.",
      outsideVpcReason:
        'Calls only AWS service APIs (S3), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
    });
    if (!provisioned) {
      Validations.of(this.consumer).acknowledge({
        id: 'NIST.800.53.R5-LambdaConcurrency',
        reason:
          'On-demand stream: its shard count, and with it the concurrency the event source mapping needs (shards x parallelization factor), follows the traffic; a fixed reservation below it would make the consumer fall behind.',
      });
    }
    props.rawBucket.grantPut(this.consumer, `${TICKS.prefix}/*`);
    props.rawBucket.grantPut(this.consumer, `${LAKE_PREFIXES.quarantine}/*`);
    this.consumer.addEventSource(
      new sources.KinesisEventSource(this.stream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.consumerBatchSize ?? 1000,
        maxBatchingWindow: Duration.seconds(props.consumerBatchingWindowSeconds ?? 5),
        parallelizationFactor: parallelization,
        // The handler reports the first unstored record; Lambda retries from there.
        reportBatchItemFailures: true,
        retryAttempts: 10,
        bisectBatchOnError: false,
        maxRecordAge: Duration.hours(Math.min(retentionHours, 168)),
        onFailure: new sources.SqsDlq(this.deadLetterQueue),
      }),
    );
    this.keepMappingId();
    Validations.of(this.stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        'A customer-managed key (rotated, retained) instead of aws/kinesis: its key policy controls who can read ticks.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter destination of the Kinesis event source mapping.',
    });
    acknowledgeWildcards(this, INGESTION_WILDCARD_REASONS);
  }

  /**
   * CDK names the event source mapping after the stream's path, which this area lengthens: keep the
   * mapping's logical id as if the stream had no area above it (a new mapping would start again at
   * TRIM_HORIZON and replay the stream's retention).
   */
  private keepMappingId(): void {
    const mappingId = (streamId: string) => `KinesisEventSource:${streamId}`;
    const mapping = this.consumer.node.findChild(mappingId(Names.nodeUniqueId(this.stream.node)));
    const cfn = mapping.node.defaultChild as CfnResource;
    const path = [
      ...areaFreePath(Stack.of(this), this.consumer),
      mappingId(areaFreeNodeId(this.stream)),
      'Resource',
    ];
    cfn.overrideLogicalId(logicalIdOf(path));
  }
}

/** Wildcards the ingestion's policies are meant to have, and why (matched against IAM5 findings). */
export const INGESTION_WILDCARD_REASONS: readonly WildcardReason[] = [
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
