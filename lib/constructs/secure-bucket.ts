import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Storage-class tiering and expiry of a bucket (same shape as `LifecycleConfig` in lib/config). */
export interface BucketLifecycle {
  /** Days after which objects move to S3 Standard-IA (0 = never; S3 requires at least 30). */
  readonly infrequentAccessAfterDays: number;
  /** Days after which objects move to Glacier Instant Retrieval (0 = never). */
  readonly glacierAfterDays: number;
  /** Days after which current objects expire (0 = never). */
  readonly expireAfterDays: number;
  /** Days after which non-current versions expire (at least 1). */
  readonly noncurrentVersionExpireDays: number;
}

export interface SecureBucketObjectLock {
  /** Compliance mode: nobody, root included, can delete or shorten it. Governance: privileged users can. */
  readonly mode: 'compliance' | 'governance';
  /** Default retention of every new object version, in days. */
  readonly retentionDays: number;
}

export interface SecureBucketProps {
  /**
   * Physical name. Give one only where another region must find the bucket without a reference
   * (a replication destination).
   * @default a name CloudFormation generates
   */
  readonly bucketName?: string;
  /**
   * Customer-managed key for SSE-KMS. Required unless `encryption` is `'s3-managed'`.
   * @default none
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * `'kms'` (SSE-KMS with `encryptionKey`, bucket keys on) or `'s3-managed'` (SSE-S3). Use SSE-S3 only
   * where a service cannot write to KMS-encrypted targets (S3 server access log delivery).
   * @default 'kms'
   */
  readonly encryption?: 'kms' | 's3-managed';
  /**
   * Bucket that receives this bucket's server access logs. Omit only for the access-logs bucket itself.
   * @default no server access logs
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * Prefix of this bucket's server access logs in `accessLogsBucket`.
   * @default `${id}/`
   */
  readonly accessLogsPrefix?: string;
  /**
   * Tiering and expiry. Incomplete multipart uploads are always aborted after 7 days.
   * @default no tiering or expiry
   */
  readonly lifecycle?: BucketLifecycle;
  /**
   * Object Lock default retention (write once, read many). Can only be set when the bucket is created.
   * @default no Object Lock
   */
  readonly objectLock?: SecureBucketObjectLock;
  /**
   * Extra lifecycle rules (for example expiry of a scratch prefix).
   * @default none
   */
  readonly extraLifecycleRules?: s3.LifecycleRule[];
}

const IA_MIN_DAYS = 30;

/** Checks a lifecycle against S3's rules at synth time, naming the field that is wrong. */
export function validateLifecycle(where: string, l: BucketLifecycle): void {
  const fail = (field: string, problem: string) => {
    throw new Error(`${where}.${field}: ${problem}`);
  };
  for (const [field, value] of Object.entries(l)) {
    if (!Number.isInteger(value) || value < 0)
      fail(field, `must be a whole number of days >= 0, got ${value}`);
  }
  if (l.infrequentAccessAfterDays > 0 && l.infrequentAccessAfterDays < IA_MIN_DAYS) {
    fail(
      'infrequentAccessAfterDays',
      `S3 moves objects to Standard-IA after ${IA_MIN_DAYS} days at the earliest, got ${l.infrequentAccessAfterDays}`,
    );
  }
  if (
    l.infrequentAccessAfterDays > 0 &&
    l.glacierAfterDays > 0 &&
    l.glacierAfterDays < l.infrequentAccessAfterDays + IA_MIN_DAYS
  ) {
    fail(
      'glacierAfterDays',
      `objects must stay ${IA_MIN_DAYS} days in Standard-IA, so at least ${l.infrequentAccessAfterDays + IA_MIN_DAYS}, got ${l.glacierAfterDays}`,
    );
  }
  const lastTransition = Math.max(l.infrequentAccessAfterDays, l.glacierAfterDays);
  if (l.expireAfterDays > 0 && l.expireAfterDays <= lastTransition) {
    fail(
      'expireAfterDays',
      `must be later than the last transition (day ${lastTransition}), got ${l.expireAfterDays}`,
    );
  }
  if (l.noncurrentVersionExpireDays < 1)
    fail('noncurrentVersionExpireDays', `must be at least 1, got ${l.noncurrentVersionExpireDays}`);
}

function lifecycleRules(l: BucketLifecycle): s3.LifecycleRule[] {
  const transitions: s3.Transition[] = [];
  if (l.infrequentAccessAfterDays > 0) {
    transitions.push({
      storageClass: s3.StorageClass.INFREQUENT_ACCESS,
      transitionAfter: Duration.days(l.infrequentAccessAfterDays),
    });
  }
  if (l.glacierAfterDays > 0) {
    transitions.push({
      storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
      transitionAfter: Duration.days(l.glacierAfterDays),
    });
  }
  return [
    {
      id: 'tiering-and-expiry',
      transitions: transitions.length > 0 ? transitions : undefined,
      expiration: l.expireAfterDays > 0 ? Duration.days(l.expireAfterDays) : undefined,
      noncurrentVersionExpiration: Duration.days(l.noncurrentVersionExpireDays),
    },
  ];
}

/**
 * An S3 bucket with the platform's defaults: SSE-KMS with a given customer-managed key, versioning,
 * TLS-only bucket policy (TLS 1.2+), all public access blocked, bucket-owner-enforced ownership (no ACLs),
 * server access logs, lifecycle from config, retained on stack deletion and never auto-emptied.
 */
export class SecureBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    const encryption = props.encryption ?? 'kms';
    if (encryption === 'kms' && !props.encryptionKey) {
      throw new Error(
        `SecureBucket ${id}: encryptionKey is required for SSE-KMS (or set encryption: 's3-managed')`,
      );
    }
    if (props.lifecycle) validateLifecycle(`SecureBucket ${id} lifecycle`, props.lifecycle);
    if (
      props.objectLock &&
      (!Number.isInteger(props.objectLock.retentionDays) || props.objectLock.retentionDays < 1)
    ) {
      throw new Error(
        `SecureBucket ${id} objectLock.retentionDays: must be a whole number of days >= 1, got ${props.objectLock.retentionDays}`,
      );
    }
    const rules = [
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ...(props.lifecycle ? lifecycleRules(props.lifecycle) : []),
      ...(props.extraLifecycleRules ?? []),
    ];
    const lock = props.objectLock;
    super(scope, id, {
      bucketName: props.bucketName,
      encryption: encryption === 'kms' ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: encryption === 'kms' ? props.encryptionKey : undefined,
      bucketKeyEnabled: encryption === 'kms' ? true : undefined,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: props.accessLogsBucket ? (props.accessLogsPrefix ?? `${id}/`) : undefined,
      lifecycleRules: rules,
      objectLockEnabled: lock ? true : undefined,
      objectLockDefaultRetention: lock
        ? lock.mode === 'compliance'
          ? s3.ObjectLockRetention.compliance(Duration.days(lock.retentionDays))
          : s3.ObjectLockRetention.governance(Duration.days(lock.retentionDays))
        : undefined,
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
  }
}
