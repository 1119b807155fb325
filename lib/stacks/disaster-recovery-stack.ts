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
import { ArnFormat } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DataLakeConfig, DisasterRecoveryConfig } from '../config/types';
import type { BucketReplication } from '../constructs';
import {
  AreaStack,
  backupVaultName,
  DataBackupPlan,
  drKeyAlias,
  DrReplicationAlarms,
  type EncryptedTable,
  LockedBackupVault,
  QuantKey,
  ReplicaBuckets,
  ReplicaTables,
  replicaBucketName,
  replicaTableName,
  type SecureBucket,
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

export interface DisasterRecoveryRegionStackProps extends StackProps {
  /** The environment's name, account and DR region (`drRegion` of `config`): the DR names derive from them. */
  readonly naming: DrNaming;
  readonly config: DisasterRecoveryConfig;
  /** Lifecycles of the zones and the audit retention (the replicas keep the same). */
  readonly dataLake: DataLakeConfig;
  /** The home region's trading tables: the replicas get their key schema and TTL attribute. */
  readonly tables: Readonly<Record<ReplicatedTableKind, dynamodb.Table>>;
}

/** The backup vault of one region: locked, retention bounded by the backup plan's. */
function lockedVault(scope: Construct, environmentName: string, key: kms.IKey, cfg: DisasterRecoveryConfig) {
  return new LockedBackupVault(scope, 'Vault', {
    backupVaultName: backupVaultName(environmentName),
    encryptionKey: key,
    minRetentionDays: cfg.backup.dailyRetentionDays,
    // Without monthly backups the daily retention is the only one: no maximum beyond it.
    maxRetentionDays: cfg.backup.monthlyRetentionDays > 0 ? cfg.backup.monthlyRetentionDays : undefined,
    mode: cfg.backup.vaultLock,
    changeableForDays: cfg.backup.lockChangeableForDays,
  });
}

/** Stateful, in the DR region: replica keys, buckets and tables, and the DR backup vault. */
export class DisasterRecoveryRegionStack extends AreaStack {
  readonly keys: Readonly<Record<'lake' | 'audit' | 'trading' | 'backup', kms.Key>>;
  readonly buckets: Readonly<Record<ReplicatedZone, SecureBucket>>;
  readonly tables: Readonly<Record<ReplicatedTableKind, EncryptedTable>>;
  readonly vault: LockedBackupVault;

  constructor(scope: Construct, id: string, props: DisasterRecoveryRegionStackProps) {
    super(scope, id, props);
    const { config: cfg, naming: n } = props;
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
    this.buckets = new ReplicaBuckets(this, 'LakeReplicas', {
      ids: {
        raw: 'RawReplica',
        curated: 'CuratedReplica',
        vendor: 'VendorReplica',
        models: 'ModelsReplica',
        audit: 'AuditReplica',
      },
      bucketName: (zone) => replicaBucketName(n, zone),
      auditZone: 'audit',
      auditRetentionDays: props.dataLake.auditRetentionDays,
      auditKey: this.keys.audit,
      lakeKey: this.keys.lake,
      lifecycle: (zone) => props.dataLake[zone as Exclude<ReplicatedZone, 'audit'>],
      accessLogsExpireDays: props.dataLake.accessLogsExpireDays,
    }).buckets;
    this.tables = new ReplicaTables(this, 'TableReplicas', {
      sources: props.tables,
      ids: { risk: 'RiskReplica', orders: 'OrdersReplica', idempotency: 'IdempotencyReplica' },
      tableName: (kind) => replicaTableName(n, kind),
      encryptionKey: this.keys.trading,
    }).tables;
    this.vault = lockedVault(this, n.environmentName, this.keys.backup, cfg);
  }
}

export interface DisasterRecoveryStackProps extends StackProps {
  /** The environment's name, account and DR region (`drRegion` of `config`): the DR names derive from them. */
  readonly naming: DrNaming;
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
export class DisasterRecoveryStack extends AreaStack {
  readonly key: QuantKey;
  readonly vault: LockedBackupVault;
  readonly backupPlan: DataBackupPlan;
  readonly replicator: TableReplicator;

  constructor(scope: Construct, id: string, props: DisasterRecoveryStackProps) {
    super(scope, id, props);
    const { config: cfg, naming: n } = props;
    this.key = new QuantKey(this, 'BackupKey', {
      description: 'Quant: backup vault and the table replicator failure queue',
    });
    this.vault = lockedVault(this, n.environmentName, this.key, cfg);
    const drVault = backup.BackupVault.fromBackupVaultArn(
      this,
      'DrVault',
      this.formatArn({
        service: 'backup',
        region: cfg.drRegion,
        resource: 'backup-vault',
        resourceName: backupVaultName(n.environmentName),
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
    new DrReplicationAlarms(this, 'ReplicationAlarms', {
      monitoring: props.monitoring,
      drRegion: cfg.drRegion,
      replicator: this.replicator,
      replication: props.replication.construct,
      buckets: props.replication.buckets,
      tableLagSeconds: cfg.tableReplicationAlarmSeconds,
      lakeLatencySeconds: cfg.s3ReplicationAlarmSeconds,
    });
  }
}
