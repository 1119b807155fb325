import { ConfigError } from './errors';
import type { DisasterRecoveryConfig } from './types';

/** AWS Backup's floor for a compliance vault lock's grace period, in days. */
export const MIN_LOCK_CHANGEABLE_DAYS = 3;

/** Checks the disaster-recovery section, naming the field that is wrong. */
export function validateDisasterRecoveryConfig(cfg: DisasterRecoveryConfig, homeRegion: string): void {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`disasterRecovery.${field}: ${problem}`);
  };
  const whole = (field: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max)
      fail(field, `must be a whole number ${min}-${max}, got ${v}`);
  };
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(cfg.drRegion))
    fail('drRegion', `expected a region such as us-west-2, got "${cfg.drRegion}"`);
  if (cfg.drRegion === homeRegion) fail('drRegion', `must differ from the home region (${homeRegion})`);
  const b = cfg.backup;
  whole('backup.dailyRetentionDays', b.dailyRetentionDays, 1, 36500);
  whole('backup.monthlyRetentionDays', b.monthlyRetentionDays, 0, 36500);
  if (b.monthlyRetentionDays > 0 && b.monthlyRetentionDays <= b.dailyRetentionDays)
    fail(
      'backup.monthlyRetentionDays',
      `must be 0 or longer than dailyRetentionDays (${b.dailyRetentionDays}), got ${b.monthlyRetentionDays}`,
    );
  whole('backup.hourUtc', b.hourUtc, 0, 23);
  if (b.vaultLock !== 'compliance' && b.vaultLock !== 'governance')
    fail('backup.vaultLock', `must be compliance or governance, got "${String(b.vaultLock)}"`);
  whole('backup.lockChangeableForDays', b.lockChangeableForDays, MIN_LOCK_CHANGEABLE_DAYS, 36500);
  whole('s3ReplicationAlarmSeconds', cfg.s3ReplicationAlarmSeconds, 60, 86400);
  whole('tableReplicationAlarmSeconds', cfg.tableReplicationAlarmSeconds, 1, 3600);
}
