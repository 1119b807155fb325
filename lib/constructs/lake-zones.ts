import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { Zone } from '../../src/contract/lake';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { Area } from './area';
import { QuantKey } from './quant-key';
import { SecureBucket } from './secure-bucket';
import type { BucketLifecycle } from './secure-bucket';

/** The zones whose tiering and expiry the environment chooses. */
export type TieredZone = 'raw' | 'curated' | 'vendor' | 'results' | 'models';

export interface LakeZonesProps {
  /** Tiering and expiry of each data zone. */
  readonly lifecycles: Readonly<Record<TieredZone, BucketLifecycle>>;
  /**
   * Days before Athena query results (scratch output) expire.
   * @default 7
   */
  readonly athenaResultsExpireDays?: number;
  /**
   * Days before S3 server access logs expire.
   * @default 90
   */
  readonly accessLogsExpireDays?: number;
  /**
   * Object Lock retention (compliance mode) of the audit zone, in days.
   * @default 2557 (seven years)
   */
  readonly auditRetentionDays?: number;
}

/**
 * The lake's storage: one retained, versioned, KMS-encrypted bucket per zone, their keys (the audit and
 * vendor zones each have their own), a bucket for the S3 server access logs of the others, and a
 * break-glass role, the only principal that may delete a version of the raw zone.
 */
export class LakeZones extends Area {
  /** Key of every zone but audit and vendor, and of Athena results. */
  readonly lakeKey: QuantKey;
  /** Key of the audit zone (separate, so audit access is granted separately). */
  readonly auditKey: QuantKey;
  /** Key of the vendor zone only (vendors' replication roles may encrypt with it). */
  readonly vendorKey: QuantKey;
  readonly buckets: Readonly<Record<Zone, SecureBucket>>;
  /** Receives S3 server access logs of every other bucket (SSE-S3: log delivery cannot write to SSE-KMS). */
  readonly accessLogsBucket: SecureBucket;
  /** May permanently delete object versions of the raw zone; assumed by an operator of this account with MFA. */
  readonly rawBreakGlassRole: iam.Role;

  constructor(scope: Construct, id: string, props: LakeZonesProps) {
    super(scope, id);
    this.lakeKey = new QuantKey(this, 'LakeKey', { description: 'Quant data lake zones and Athena results' });
    this.auditKey = new QuantKey(this, 'AuditKey', { description: 'Quant write-once audit trail' });
    // The vendor zone's own key: a vendor's replication role may encrypt with it, never with the
    // key of the other zones.
    this.vendorKey = new QuantKey(this, 'VendorKey', { description: 'Quant data lake vendor zone' });

    const accessLogs = new SecureBucket(this, 'AccessLogsBucket', {
      encryption: 's3-managed',
      lifecycle: scratch(props.accessLogsExpireDays ?? 90),
    });
    this.accessLogsBucket = accessLogs;
    const zoneBucket = (name: string, lifecycle: BucketLifecycle) =>
      new SecureBucket(this, name, { encryptionKey: this.lakeKey, accessLogsBucket: accessLogs, lifecycle });
    const l = props.lifecycles;
    this.buckets = {
      raw: zoneBucket('RawBucket', l.raw),
      curated: zoneBucket('CuratedBucket', l.curated),
      vendor: new SecureBucket(this, 'VendorBucket', {
        encryptionKey: this.vendorKey,
        accessLogsBucket: accessLogs,
        lifecycle: l.vendor,
      }),
      results: zoneBucket('ResultsBucket', l.results),
      models: zoneBucket('ModelsBucket', l.models),
      athenaResults: zoneBucket('AthenaResultsBucket', scratch(props.athenaResultsExpireDays ?? 7)),
      audit: new SecureBucket(this, 'AuditBucket', {
        encryptionKey: this.auditKey,
        accessLogsBucket: accessLogs,
        objectLock: { mode: 'compliance', retentionDays: props.auditRetentionDays ?? 2557 },
      }),
    };
    this.rawBreakGlassRole = this.protectRawVersions();
    this.acknowledgeNistFindings();
  }

  /**
   * Raw ticks are the one copy of what the market sent: nobody but the break-glass role may delete
   * a version of them (a plain delete only adds a delete marker in the versioned bucket).
   */
  private protectRawVersions(): iam.Role {
    const raw = this.buckets.raw;
    const role = new iam.Role(this, 'RawBreakGlassRole', {
      assumedBy: new iam.AccountRootPrincipal().withConditions({
        Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      }),
      description:
        'Break glass: permanently delete object versions of the raw zone (MFA; audited by CloudTrail)',
      maxSessionDuration: Duration.hours(1),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:DeleteObjectVersion', 's3:ListBucketVersions'],
        resources: [raw.bucketArn, raw.arnForObjects('*')],
      }),
    );
    raw.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyVersionDeletesExceptBreakGlass',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObjectVersion'],
        resources: [raw.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
      }),
    );
    acknowledgeWildcards(role, [
      [
        /^Resource::<[A-Za-z0-9]*RawBucket[0-9A-F]+\.Arn>\/\*$/,
        'Break glass is for any object of the raw zone (which one is known only in the incident); the role needs MFA to assume and holds nothing else.',
      ],
    ]);
    return role;
  }

  /** NIST 800-53 R5 findings of the lake that do not apply, each with its reason. */
  private acknowledgeNistFindings(): void {
    const ack = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
    ack(
      this.accessLogsBucket,
      'NIST.800.53.R5-S3DefaultEncryptionKMS',
      'Target of S3 server access logs, which S3 delivers only to buckets encrypted with SSE-S3.',
    );
    ack(
      this.accessLogsBucket,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'Server access logs expire after dataLake.accessLogsExpireDays and hold nothing needed to restore the lake or to trade; the audit trail proper is the audit bucket.',
    );
    ack(
      this.buckets.results,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'Backtest results and rankings are derived data: a sweep re-run from the lake and the code rebuilds them.',
    );
    ack(
      this.buckets.athenaResults,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'Athena query results: scratch output that expires after dataLake.athenaResultsExpireDays.',
    );
  }

  /**
   * For an environment without disaster recovery: the zones the DisasterRecovery stacks replicate
   * (lib/quant-stage.ts) are not replicated there, by configuration.
   */
  acknowledgeNoReplication(): void {
    for (const zone of ['raw', 'curated', 'vendor', 'models', 'audit'] as const) {
      Validations.of(this.buckets[zone]).acknowledge({
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason:
          'This environment has no disaster recovery (its config has no disasterRecovery section, lib/config/environments.ts): a non-production lake is not replicated to another region; staging and prod replicate it (BucketReplication).',
      });
    }
  }
}

/** Scratch data: no tiering, expires after `days`, old versions after a day. */
const scratch = (days: number): BucketLifecycle => ({
  infrequentAccessAfterDays: 0,
  glacierAfterDays: 0,
  expireAfterDays: days,
  noncurrentVersionExpireDays: 1,
});
