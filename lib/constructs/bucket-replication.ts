import { Stack, Validations } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { allow } from './policy-statements';

/** One source bucket and where its replica lives. */
export interface ReplicatedBucket {
  /** Short name (rule id and metric label), e.g. the lake zone. */
  readonly name: string;
  /** Source bucket (versioned, SSE-KMS), in this stack. */
  readonly bucket: s3.Bucket;
  /** Key of the source bucket's objects. */
  readonly sourceKey: kms.IKey;
  /** Name of the replica bucket in the destination region (versioned). */
  readonly destinationBucketName: string;
  /** Alias (`alias/...`) of the key in the destination region that encrypts the replicas. */
  readonly destinationKeyAlias: string;
}

export interface BucketReplicationProps {
  readonly buckets: readonly ReplicatedBucket[];
  /** Region of the replica buckets and their keys. */
  readonly destinationRegion: string;
  /**
   * S3 Replication Time Control: 99.99% of objects replicated within 15 minutes (billed per GB).
   * Replication metrics are on either way.
   * @default true
   */
  readonly replicationTimeControl?: boolean;
}

/**
 * Cross-region replication of SSE-KMS buckets to replicas encrypted with a key of the destination
 * region: every object version, delete markers, Object Lock retention (a locked replica keeps it),
 * replication metrics (and Replication Time Control). The role may read only these buckets'
 * replication data and write only to the named replicas, with the named keys.
 */
export class BucketReplication extends Construct {
  readonly role: iam.Role;
  /** Rule id of every bucket's replication rule (a dimension of the S3 replication metrics). */
  readonly ruleId: string;

  constructor(scope: Construct, id: string, props: BucketReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.buckets.length === 0) throw new Error(`BucketReplication ${id}: no bucket to replicate`);
    if (props.destinationRegion === stack.region)
      throw new Error(`BucketReplication ${id}: destinationRegion must differ from the stack's region`);
    const rtc = props.replicationTimeControl ?? true;
    const region = props.destinationRegion;
    this.ruleId = `dr-${region}`;
    const replicaArn = (name: string) => `arn:${stack.partition}:s3:::${name}`;
    const aliasArn = (alias: string) => `arn:${stack.partition}:kms:${region}:${stack.account}:${alias}`;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: `S3 replication of the lake to ${region}`,
    });
    const sources = props.buckets.map((b) => b.bucket);
    const sourceKeys = [...new Set(props.buckets.map((b) => b.sourceKey))];
    allow(
      this.role,
      {
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: sources.map((b) => b.bucketArn),
      },
      {
        actions: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
          's3:GetObjectRetention',
          's3:GetObjectLegalHold',
        ],
        resources: sources.map((b) => b.arnForObjects('*')),
      },
      {
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        resources: props.buckets.map((b) => `${replicaArn(b.destinationBucketName)}/*`),
      },
      {
        actions: ['kms:Decrypt'],
        resources: sourceKeys.map((k) => k.keyArn),
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      },
      {
        // The replica keys' ids are generated in the other region; their aliases name them.
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [`arn:${stack.partition}:kms:${region}:${stack.account}:key/*`],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
          'ForAnyValue:StringEquals': {
            'kms:ResourceAliases': [...new Set(props.buckets.map((b) => b.destinationKeyAlias))],
          },
        },
      },
    );

    for (const b of props.buckets) {
      const cfn = b.bucket.node.defaultChild as s3.CfnBucket;
      cfn.replicationConfiguration = {
        role: this.role.roleArn,
        rules: [
          {
            id: this.ruleId,
            status: 'Enabled',
            priority: 1,
            filter: { prefix: '' },
            deleteMarkerReplication: { status: 'Enabled' },
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
            destination: {
              bucket: replicaArn(b.destinationBucketName),
              encryptionConfiguration: { replicaKmsKeyId: aliasArn(b.destinationKeyAlias) },
              metrics: { status: 'Enabled', eventThreshold: { minutes: 15 } },
              replicationTime: rtc ? { status: 'Enabled', time: { minutes: 15 } } : undefined,
            },
          },
        ],
      };
      // No dependency on the role's policy: it names the buckets (a cycle), and S3 checks the
      // role's permissions only when it replicates.
    }

    acknowledgeWildcards(this, [
      [
        /^Resource::<[^>]+\.Arn>\/\*$/,
        'Replication reads every object version of the replicated buckets (and only of them).',
      ],
      [
        (finding: string) =>
          props.buckets.some((b) =>
            [
              `Resource::arn:aws:s3:::${b.destinationBucketName}/*`,
              `Resource::arn:<AWS::Partition>:s3:::${b.destinationBucketName}/*`,
            ].includes(finding),
          ),
        'Replication writes every object version into the named replica buckets (and only into them).',
      ],
      [
        /^Resource::arn:(aws|<AWS::Partition>):kms:[a-z0-9-]+:(\d{12}|<AWS::AccountId>):key\/\*$/,
        'The replica keys live in the DR region (ids unknown here); the kms:ResourceAliases condition limits this to the replica keys by alias, via S3 only.',
      ],
    ]);
    Validations.of(this.role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "The role's policy is CDK's inline policy of this role alone, scoped to the replicated buckets, their replicas and their keys.",
    });
  }

  /** Replication latency of one bucket (seconds; S3 publishes it with replication metrics on). */
  metricLatency(b: ReplicatedBucket, props: cw.MetricOptions = {}): cw.Metric {
    return this.replicationMetric('ReplicationLatency', b, { statistic: 'Maximum', ...props });
  }

  /** Operations that failed to replicate (count). */
  metricFailed(b: ReplicatedBucket, props: cw.MetricOptions = {}): cw.Metric {
    return this.replicationMetric('OperationsFailedReplication', b, { statistic: 'Sum', ...props });
  }

  private replicationMetric(metricName: string, b: ReplicatedBucket, props: cw.MetricOptions): cw.Metric {
    return new cw.Metric({
      namespace: 'AWS/S3',
      metricName,
      dimensionsMap: {
        SourceBucket: b.bucket.bucketName,
        DestinationBucket: b.destinationBucketName,
        RuleId: this.ruleId,
      },
      label: b.name,
      ...props,
    });
  }
}
