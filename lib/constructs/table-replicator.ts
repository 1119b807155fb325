import path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DR_METRICS_NAMESPACE,
  DR_REGION_ENV,
  DR_REPLICATION_LAG_METRIC,
  DR_TABLE_MAP_ENV,
} from '../../src/contract/dr';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { EncryptedQueue } from './encrypted-queue';
import { QuantFunction } from './quant-function';
import { allow } from './policy-statements';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';

/** A table whose stream is replicated, and the name of its replica. */
export interface ReplicatedTable {
  /** Source table with a stream that includes new images (NEW_IMAGE or NEW_AND_OLD_IMAGES). */
  readonly table: dynamodb.ITable;
  /** Replica table in the replica region (same key schema). */
  readonly replicaTableName: string;
}

export interface TableReplicatorProps {
  readonly tables: readonly ReplicatedTable[];
  /** Region of the replica tables. */
  readonly replicaRegion: string;
  /** Alias (`alias/...`) of the key that encrypts the replica tables, in the replica region. */
  readonly replicaKeyAlias: string;
  /** Key of the replicator's log group and its failure queue. */
  readonly logKey: kms.IKey;
  /** Key of the failure queue (records given up on). */
  readonly queueKey: kms.IKey;
  readonly logRetentionDays: number;
  /** Directory holding `lambda/` (the repository root). */
  readonly repoRoot: string;
  /**
   * Reserved concurrency of the replicator (one invocation per stream shard at a time).
   * @default 20
   */
  readonly reservedConcurrency?: number;
  /**
   * Records per invocation.
   * @default 100
   */
  readonly batchSize?: number;
}

/**
 * Replicates DynamoDB tables to another region through their streams: a Lambda (lambda/dr-replicator)
 * applies every change in order to the replica, retrying a failed record until it succeeds or is a
 * day old (then its position goes to an encrypted failure queue). The lag from a change to its write
 * in the replica is the Lambda's IteratorAge plus one invocation: alarm on `metricLag()`.
 */
export class TableReplicator extends Construct {
  readonly function: QuantFunction;
  /** Where records given up on are reported (the replica missed a change: resynchronise). */
  readonly failureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TableReplicatorProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.tables.length === 0) throw new Error(`TableReplicator ${id}: no table to replicate`);
    if (props.replicaRegion === stack.region)
      throw new Error(`TableReplicator ${id}: replicaRegion must differ from the stack's region`);
    this.failureQueue = new EncryptedQueue(this, 'Failures', { encryptionKey: props.queueKey });
    const tableMap = Object.fromEntries(props.tables.map((t) => [t.table.tableName, t.replicaTableName]));
    this.function = new QuantFunction(this, 'Function', {
      entry: path.join(props.repoRoot, 'lambda/dr-replicator/index.ts'),
      logKey: props.logKey,
      logRetentionDays: props.logRetentionDays,
      serviceName: FUNCTION_SERVICE.drReplicator,
      metricsNamespace: DR_METRICS_NAMESPACE,
      memorySize: 256,
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: props.reservedConcurrency ?? 20,
      deadLetterQueue: this.failureQueue,
      environment: {
        [DR_REGION_ENV]: props.replicaRegion,
        [DR_TABLE_MAP_ENV]: stack.toJsonString(tableMap),
      },
    });
    for (const t of props.tables) {
      this.function.addEventSource(
        new sources.DynamoEventSource(t.table, {
          startingPosition: lambda.StartingPosition.TRIM_HORIZON,
          batchSize: props.batchSize ?? 100,
          maxBatchingWindow: Duration.seconds(0),
          // Retried until it succeeds or the record is a day old (the stream keeps 24 hours).
          retryAttempts: -1,
          maxRecordAge: Duration.days(1),
          reportBatchItemFailures: true,
          parallelizationFactor: 1,
          onFailure: new sources.SqsDlq(this.failureQueue),
        }),
      );
    }
    const replicaArn = (name: string) =>
      stack.formatArn({
        service: 'dynamodb',
        region: props.replicaRegion,
        resource: 'table',
        resourceName: name,
      });
    allow(this.function, {
      actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resources: props.tables.map((t) => replicaArn(t.replicaTableName)),
    });
    // DynamoDB uses the replica key on the writer's behalf; its id is generated in the other region.
    allow(this.function, {
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: [`arn:${stack.partition}:kms:${props.replicaRegion}:${stack.account}:key/*`],
      conditions: {
        StringEquals: { 'kms:ViaService': `dynamodb.${props.replicaRegion}.amazonaws.com` },
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [props.replicaKeyAlias] },
      },
    });

    acknowledgeWildcards(this, [
      [
        /^Resource::arn:(aws|<AWS::Partition>):kms:[a-z0-9-]+:(\d{12}|<AWS::AccountId>):key\/\*$/,
        'The replica key lives in the DR region (id unknown here); the kms:ResourceAliases condition limits this to it by alias, via DynamoDB only.',
      ],
      [
        /^Resource::\*$/,
        'dynamodb:ListStreams (added by the stream event source) has no resource-level permissions; every other action here names its table, stream or key.',
      ],
      [
        /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
        'Reading an encrypted stream needs the data-key actions of the source table key (added by the stream grant).',
      ],
    ]);
    Validations.of(this.function).acknowledge({
      id: 'NIST.800.53.R5-LambdaInsideVPC',
      reason:
        'The replicator talks only to DynamoDB in two regions; outside a VPC its path to the DR region does not depend on NAT gateways of the region it protects against.',
    });
    for (const c of [this.function.role!, this.function.runtimePolicy])
      Validations.of(c).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason:
          "CDK's inline policies of the replicator's own role, scoped to its source streams, replica tables and keys.",
      });
  }

  /**
   * Age of the oldest change not yet applied when a batch is read (ms, maximum): the replica's lag
   * behind the source, to within one invocation.
   */
  metricLag(props: cw.MetricOptions = {}): cw.Metric {
    return this.function.metric('IteratorAge', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** The replicator's own measure: seconds from a change to its write in the replica (maximum). */
  metricReplicationLag(props: cw.MetricOptions = {}): cw.Metric {
    return new cw.Metric({
      namespace: DR_METRICS_NAMESPACE,
      metricName: DR_REPLICATION_LAG_METRIC,
      dimensionsMap: { service: FUNCTION_SERVICE.drReplicator },
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...props,
    });
  }
}
