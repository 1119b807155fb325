/**
 * Physical names of the disaster-recovery resources that the home region must find in the DR region
 * without a cross-region reference (a reference across regions needs custom resources): replica
 * buckets, replica tables, key aliases and backup vaults. Derived from environment, account and
 * region, never written as literals.
 */

/** The parts a DR name is derived from. */
export interface DrNaming {
  readonly environmentName: string;
  readonly account: string;
  readonly drRegion: string;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9-]/g, '-');

/** Replica bucket of a lake zone in the DR region (globally unique: account and region in it). */
export function replicaBucketName(n: DrNaming, zone: string): string {
  const name = `quant-${slug(n.environmentName)}-${slug(zone)}-dr-${n.account}-${n.drRegion}`;
  if (name.length > 63) throw new Error(`replica bucket name longer than 63 characters: ${name}`);
  return name;
}

/** Replica of a trading table in the DR region (`risk`, `orders`, `idempotency`). */
export const replicaTableName = (n: DrNaming, kind: string): string =>
  `quant-${slug(n.environmentName)}-dr-${slug(kind)}`;

/** Alias of a DR-region key (`lake`, `audit`, `trading`, `backup`). */
export const drKeyAlias = (n: DrNaming, purpose: string): string =>
  `alias/quant-${slug(n.environmentName)}-dr-${slug(purpose)}`;

/** Backup vault name (the same in the home and the DR region). */
export const backupVaultName = (environmentName: string): string => `quant-${slug(environmentName)}-backup`;
