import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export interface LockedBackupVaultProps {
  /** Physical name (the DR copy rule of another region finds the vault by it). */
  readonly backupVaultName: string;
  /** Customer-managed key of the recovery points. */
  readonly encryptionKey: kms.IKey;
  /** Shortest retention a recovery point may have, in days (at least 1). */
  readonly minRetentionDays: number;
  /**
   * Longest retention a recovery point may have, in days.
   * @default no maximum
   */
  readonly maxRetentionDays?: number;
  /**
   * Compliance: once `changeableForDays` have passed, nobody (root included) can delete a recovery
   * point before its retention ends or remove the lock. Governance: principals allowed by IAM can.
   * @default 'compliance'
   */
  readonly mode?: 'compliance' | 'governance';
  /**
   * Days after creation during which a compliance lock can still be removed (AWS Backup: at least 3).
   * @default 3
   */
  readonly changeableForDays?: number;
}

/**
 * An AWS Backup vault with a vault lock (write once, read many), a customer-managed key, and retained
 * on stack deletion (a vault with recovery points cannot be deleted anyway).
 */
export class LockedBackupVault extends backup.BackupVault {
  constructor(scope: Construct, id: string, props: LockedBackupVaultProps) {
    const mode = props.mode ?? 'compliance';
    const changeable = props.changeableForDays ?? 3;
    if (!Number.isInteger(props.minRetentionDays) || props.minRetentionDays < 1)
      throw new Error(
        `LockedBackupVault ${id} minRetentionDays: must be a whole number >= 1, got ${props.minRetentionDays}`,
      );
    if (props.maxRetentionDays !== undefined && props.maxRetentionDays < props.minRetentionDays)
      throw new Error(
        `LockedBackupVault ${id} maxRetentionDays: must be >= minRetentionDays (${props.minRetentionDays})`,
      );
    if (mode === 'compliance' && (!Number.isInteger(changeable) || changeable < 3))
      throw new Error(
        `LockedBackupVault ${id} changeableForDays: AWS Backup needs at least 3, got ${changeable}`,
      );
    super(scope, id, {
      backupVaultName: props.backupVaultName,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
      lockConfiguration: {
        minRetention: Duration.days(props.minRetentionDays),
        maxRetention:
          props.maxRetentionDays === undefined ? undefined : Duration.days(props.maxRetentionDays),
        // Without a grace period the lock stays in governance mode.
        changeableFor: mode === 'compliance' ? Duration.days(changeable) : undefined,
      },
    });
  }
}
