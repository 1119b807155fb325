/**
 * Disaster recovery (docs/disaster-recovery.md): two stacks per environment that has a
 * `disasterRecovery` config.
 *
 * - `DisasterRecoveryRegionStack`, in the DR region: the replica keys, the lake's replica buckets
 *   (the audit replica under Object Lock, compliance mode), the trading tables' replicas and the
 *   locked vault that receives backup copies. Deployed first: the home region's replication and
 *   copy rules point at it by name (dr-names.ts), not by cross-region reference.
 * - `DisasterRecoveryStack`, in the home region: the locked backup vault and plan (tables and
 *   buckets, copies to the DR vault), the trading-table replicator, and the replication alarms and
 *   dashboard section.
 *
 * The lake's replication rules themselves sit on the buckets (`BucketReplication`, in the data
 * lake's stack).
 */
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DataLakeConfig, DisasterRecoveryConfig } from '../config/types';
import type { BucketReplication } from '../constructs';
import {
  backupVaultName,
  DataBackupPlan,
  drKeyAlias,
  EncryptedTable,
  LockedBackupVault,
  QuantKey,
  replicaBucketName,
  replicaTableName,
  SecureBucket,
  TableReplicator,
  type DrNaming,
  type ReplicatedBucket,
} from '../constructs';
import type { IMonitoring } from './monitoring-stack';
import { packageRoot } from '../../src/package-root';

// Found from package.json, not from this file: the CDK app also runs from the build in dist/.
const repoRoot = packageRoot();

/** Lake zones replicated to the DR region (results and Athena results are rebuilt, not replicated). */
export const REPLICATED_ZONES = ['raw', 'curated', 'vendor', 'models', 'audit'] as const;
export type ReplicatedZone = (typeof REPLICATED_ZONES)[number];
/** The trading tables replicated to the DR region. */
export const REPLICATED_TABLES = ['risk', 'orders', 'idempotency'] as const;
export type ReplicatedTableKind = (typeof REPLICATED_TABLES)[number];

const naming = (environmentName: string, account: string, cfg: DisasterRecoveryConfig): DrNaming => ({
  environmentName,
  account,
  drRegion: cfg.drRegion,
});

export interface DisasterRecoveryRegionStackProps extends StackProps {
  readonly environmentName: string;
  readonly config: DisasterRecoveryConfig;
  /** Lifecycles of the zones and the audit retention (the replicas keep the same). */
  readonly dataLake: DataLakeConfig;
  /** The home region's trading tables: the replicas get their key schema and TTL attribute. */
  readonly tables: Readonly<Record<ReplicatedTableKind, dynamodb.Table>>;
}

/** Stateful, in the DR region: replica keys, buckets and tables, and the DR backup vault. */
export class DisasterRecoveryRegionStack extends Stack {
  readonly keys: Readonly<Record<'lake' | 'audit' | 'trading' | 'backup', kms.Key>>;
  readonly buckets: Readonly<Record<ReplicatedZone, SecureBucket>>;
  readonly tables: Readonly<Record<ReplicatedTableKind, EncryptedTable>>;
  readonly vault: LockedBackupVault;

  constructor(scope: Construct, id: string, props: DisasterRecoveryRegionStackProps) {
    super(scope, id, props);
    const cfg = props.config;
    const n = naming(props.environmentName, this.account, cfg);
    const key = (kid: string, purpose: string, description: string): kms.Key => {
      const k = new QuantKey(this, kid, { description });
      new kms.Alias(this, `${kid}Alias`, { aliasName: drKeyAlias(n, purpose), targetKey: k });
      return k;
    };
    this.keys = {
      lake: key('LakeReplicaKey', 'lake', 'Quant DR: replicas of the lake zones'),
      audit: key('AuditReplicaKey', 'audit', 'Quant DR: replica of the write-once audit trail'),
      trading: key('TradingReplicaKey', 'trading', 'Quant DR: replicas of the trading tables'),
      backup: key('BackupKey', 'backup', 'Quant DR: copies of the backups'),
    };

    const accessLogs = new SecureBucket(this, 'AccessLogsBucket', {
      encryption: 's3-managed',
      lifecycle: {
        infrequentAccessAfterDays: 0,
        glacierAfterDays: 0,
        expireAfterDays: props.dataLake.accessLogsExpireDays,
        noncurrentVersionExpireDays: 1,
      },
    });
    acknowledgeAccessLogsBucket(accessLogs);
    const replica = (zone: ReplicatedZone, bid: string): SecureBucket => {
      const b =
        zone === 'audit'
          ? new SecureBucket(this, bid, {
              bucketName: replicaBucketName(n, zone),
              encryptionKey: this.keys.audit,
              accessLogsBucket: accessLogs,
              objectLock: { mode: 'compliance', retentionDays: props.dataLake.auditRetentionDays },
            })
          : new SecureBucket(this, bid, {
              bucketName: replicaBucketName(n, zone),
              encryptionKey: this.keys.lake,
              accessLogsBucket: accessLogs,
              lifecycle: props.dataLake[zone],
            });
      Validations.of(b).acknowledge({
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason: 'This bucket is the DR-region replica; replicating it again would copy the copy.',
      });
      return b;
    };
    this.buckets = {
      raw: replica('raw', 'RawReplica'),
      curated: replica('curated', 'CuratedReplica'),
      vendor: replica('vendor', 'VendorReplica'),
      models: replica('models', 'ModelsReplica'),
      audit: replica('audit', 'AuditReplica'),
    };

    const table = (kind: ReplicatedTableKind, tid: string): EncryptedTable => {
      const source = props.tables[kind];
      const ttl = (source.node.defaultChild as dynamodb.CfnTable).timeToLiveSpecification as
        dynamodb.CfnTable.TimeToLiveSpecificationProperty | undefined;
      const { partitionKey, sortKey } = source.schema();
      if (!partitionKey) throw new Error(`trading table ${kind} has no partition key`);
      const t = new EncryptedTable(this, tid, {
        tableName: replicaTableName(n, kind),
        partitionKey,
        sortKey,
        encryptionKey: this.keys.trading,
        timeToLiveAttribute: ttl?.enabled ? ttl.attributeName : undefined,
      });
      Validations.of(t).acknowledge({
        id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
        reason:
          'A replica: the home-region table is in the backup plan and its recovery points are copied to this region; point-in-time recovery is on here too.',
      });
      return t;
    };
    this.tables = {
      risk: table('risk', 'RiskReplica'),
      orders: table('orders', 'OrdersReplica'),
      idempotency: table('idempotency', 'IdempotencyReplica'),
    };

    this.vault = new LockedBackupVault(this, 'Vault', {
      backupVaultName: backupVaultName(props.environmentName),
      encryptionKey: this.keys.backup,
      minRetentionDays: cfg.backup.dailyRetentionDays,
      // Without monthly backups the daily retention is the only one: no maximum beyond it.
      maxRetentionDays: cfg.backup.monthlyRetentionDays > 0 ? cfg.backup.monthlyRetentionDays : undefined,
      mode: cfg.backup.vaultLock,
      changeableForDays: cfg.backup.lockChangeableForDays,
    });
  }
}

function acknowledgeAccessLogsBucket(b: s3.IBucket): void {
  for (const [rule, reason] of [
    ['NIST.800.53.R5-S3DefaultEncryptionKMS', 'S3 server access log delivery writes only to SSE-S3 buckets.'],
    [
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'Access logs of the DR-region replicas; the replicas themselves are the copies.',
    ],
  ] as const)
    Validations.of(b).acknowledge({ id: rule, reason });
}

export interface DisasterRecoveryStackProps extends StackProps {
  readonly environmentName: string;
  readonly config: DisasterRecoveryConfig;
  /** The trading tables (streams with new images on), backed up and replicated. */
  readonly tables: Readonly<Record<ReplicatedTableKind, dynamodb.ITable>>;
  /** The lake buckets to back up. */
  readonly buckets: readonly s3.IBucket[];
  /** The lake's replication (its metrics feed the alarms and the dashboard). */
  readonly replication: {
    readonly construct: BucketReplication;
    readonly buckets: readonly ReplicatedBucket[];
  };
  readonly monitoring: IMonitoring;
}

/** Stateful (the vault holds recovery points), in the home region: backups, table replication, alarms. */
export class DisasterRecoveryStack extends Stack {
  readonly key: QuantKey;
  readonly vault: LockedBackupVault;
  readonly backupPlan: DataBackupPlan;
  readonly replicator: TableReplicator;

  constructor(scope: Construct, id: string, props: DisasterRecoveryStackProps) {
    super(scope, id, props);
    const cfg = props.config;
    const n = naming(props.environmentName, this.account, cfg);
    this.key = new QuantKey(this, 'BackupKey', {
      description: 'Quant: backup vault and the table replicator failure queue',
    });
    this.vault = new LockedBackupVault(this, 'Vault', {
      backupVaultName: backupVaultName(props.environmentName),
      encryptionKey: this.key,
      minRetentionDays: cfg.backup.dailyRetentionDays,
      // Without monthly backups the daily retention is the only one: no maximum beyond it.
      maxRetentionDays: cfg.backup.monthlyRetentionDays > 0 ? cfg.backup.monthlyRetentionDays : undefined,
      mode: cfg.backup.vaultLock,
      changeableForDays: cfg.backup.lockChangeableForDays,
    });
    const drVault = backup.BackupVault.fromBackupVaultArn(
      this,
      'DrVault',
      this.formatArn({
        service: 'backup',
        region: cfg.drRegion,
        resource: 'backup-vault',
        resourceName: backupVaultName(props.environmentName),
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    this.backupPlan = new DataBackupPlan(this, 'Backup', {
      vault: this.vault,
      copyTo: drVault,
      dailyRetentionDays: cfg.backup.dailyRetentionDays,
      monthlyRetentionDays: cfg.backup.monthlyRetentionDays,
      hourUtc: cfg.backup.hourUtc,
      tables: REPLICATED_TABLES.map((k) => props.tables[k]),
      buckets: props.buckets,
    });

    this.replicator = new TableReplicator(this, 'TableReplicator', {
      tables: REPLICATED_TABLES.map((k) => ({
        table: props.tables[k],
        replicaTableName: replicaTableName(n, k),
      })),
      replicaRegion: cfg.drRegion,
      replicaKeyAlias: drKeyAlias(n, 'trading'),
      logKey: props.monitoring.logKey,
      queueKey: this.key,
      logRetentionDays: props.monitoring.logRetentionDays,
      repoRoot,
    });

    this.addMonitoring(props, cfg);
  }

  private addMonitoring(props: DisasterRecoveryStackProps, cfg: DisasterRecoveryConfig): void {
    const { monitoring } = props;
    const minute = Duration.minutes(1);
    const lag = this.replicator.metricLag();
    const tableLag = monitoring.alarm(this, 'TableReplicationLag', {
      description: `Trading tables' DR replica lags by more than ${cfg.tableReplicationAlarmSeconds} s (RPO 1 minute): see docs/disaster-recovery.md`,
      metric: lag,
      threshold: cfg.tableReplicationAlarmSeconds * 1000,
      comparison: '>',
    });
    monitoring.alarm(this, 'TableReplicationFailures', {
      description: 'The DR replica missed a change (records on the failure queue): resynchronise it',
      metric: this.replicator.failureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparison: '>',
    });
    monitoring.alarm(this, 'TableReplicatorErrors', {
      description: 'The trading-table replicator fails (the replica falls behind)',
      metric: this.replicator.function.metricErrors({ period: Duration.minutes(5) }),
      threshold: 0,
      comparison: '>',
    });

    const { construct: replication, buckets } = props.replication;
    const ids = buckets.map((_, i) => `z${i}`);
    const using = (f: (b: ReplicatedBucket) => cw.Metric) =>
      Object.fromEntries(buckets.map((b, i) => [ids[i], f(b)]));
    monitoring.alarm(this, 'LakeReplicationLatency', {
      description: `Lake replication to ${cfg.drRegion} takes longer than ${cfg.s3ReplicationAlarmSeconds} s`,
      metric: new cw.MathExpression({
        expression: `MAX([${ids.join(',')}])`,
        usingMetrics: using((b) => replication.metricLatency(b, { period: minute })),
        label: 'Slowest zone',
        period: minute,
      }),
      threshold: cfg.s3ReplicationAlarmSeconds,
      comparison: '>',
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
    monitoring.alarm(this, 'LakeReplicationFailures', {
      description: `Objects failed to replicate to ${cfg.drRegion}`,
      metric: new cw.MathExpression({
        expression: `SUM([${ids.join(',')}])`,
        usingMetrics: using((b) => replication.metricFailed(b, { period: Duration.minutes(5) })),
        label: 'Failed operations',
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparison: '>',
    });

    monitoring.addSection('Disaster recovery', [
      [
        new cw.GraphWidget({
          title: `Trading tables → ${cfg.drRegion}: replication lag (ms, max)`,
          left: [lag],
          leftAnnotations: [{ value: 60_000, label: 'RPO 1 minute' }],
          width: 8,
        }),
        new cw.GraphWidget({
          title: `Lake → ${cfg.drRegion}: replication latency (s, max)`,
          left: buckets.map((b) => replication.metricLatency(b, { period: minute })),
          leftAnnotations: [{ value: cfg.s3ReplicationAlarmSeconds, label: 'alarm' }],
          width: 8,
        }),
        new cw.AlarmStatusWidget({ title: 'Table replication', alarms: [tableLag], width: 8 }),
      ],
    ]);
  }
}
