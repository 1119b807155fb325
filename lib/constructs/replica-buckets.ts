import { Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { Area } from './area';
import type { LifecycleConfig } from '../config/types';
import { SecureBucket } from './secure-bucket';

export interface ReplicaBucketsProps<Z extends string> {
  /** Construct id of each zone's replica (kept stable: the replicas hold data). */
  readonly ids: Readonly<Record<Z, string>>;
  /** Physical name of each replica (the home region's replication rules name it). */
  readonly bucketName: (zone: Z) => string;
  /** The write-once zone: Object Lock in compliance mode, its own key. */
  readonly auditZone: NoInfer<Z>;
  readonly auditRetentionDays: number;
  readonly auditKey: kms.IKey;
  /** Key and lifecycle of the other zones (the same lifecycle as their source). */
  readonly lakeKey: kms.IKey;
  readonly lifecycle: (zone: Z) => LifecycleConfig;
  /** Days the replicas' access logs are kept. */
  readonly accessLogsExpireDays: number;
}

/**
 * The lake's replica buckets in the DR region, with their own access-log bucket: the audit replica
 * under Object Lock in compliance mode with the source's retention, the others with the source's
 * lifecycle, each encrypted with a DR-region key.
 */
export class ReplicaBuckets<Z extends string> extends Area {
  readonly buckets: Readonly<Record<Z, SecureBucket>>;
  readonly accessLogs: SecureBucket;

  constructor(scope: Construct, id: string, props: ReplicaBucketsProps<Z>) {
    super(scope, id);
    this.accessLogs = new SecureBucket(this, 'AccessLogsBucket', {
      encryption: 's3-managed',
      lifecycle: {
        infrequentAccessAfterDays: 0,
        glacierAfterDays: 0,
        expireAfterDays: props.accessLogsExpireDays,
        noncurrentVersionExpireDays: 1,
      },
    });
    for (const [rule, reason] of [
      [
        'NIST.800.53.R5-S3DefaultEncryptionKMS',
        'S3 server access log delivery writes only to SSE-S3 buckets.',
      ],
      [
        'NIST.800.53.R5-S3BucketReplicationEnabled',
        'Access logs of the DR-region replicas; the replicas themselves are the copies.',
      ],
    ] as const)
      Validations.of(this.accessLogs).acknowledge({ id: rule, reason });
    const entries = (Object.keys(props.ids) as Z[]).map((zone) => {
      const common = { bucketName: props.bucketName(zone), accessLogsBucket: this.accessLogs };
      const b =
        zone === props.auditZone
          ? new SecureBucket(this, props.ids[zone], {
              ...common,
              encryptionKey: props.auditKey,
              objectLock: { mode: 'compliance', retentionDays: props.auditRetentionDays },
            })
          : new SecureBucket(this, props.ids[zone], {
              ...common,
              encryptionKey: props.lakeKey,
              lifecycle: props.lifecycle(zone),
            });
      Validations.of(b).acknowledge({
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason: 'This bucket is the DR-region replica; replicating it again would copy the copy.',
      });
      return [zone, b] as const;
    });
    this.buckets = Object.fromEntries(entries) as Record<Z, SecureBucket>;
  }
}
