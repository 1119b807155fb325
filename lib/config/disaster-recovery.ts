import { parseConfig, regionalSections } from './schema';
import type { DisasterRecoveryConfig } from './types';

/** Checks the disaster-recovery section alone with the schema's rules (`disasterRecovery.drRegion: ...`). */
export function validateDisasterRecoveryConfig(
  disasterRecovery: DisasterRecoveryConfig,
  region: string,
): void {
  parseConfig(regionalSections.disasterRecovery, { region, disasterRecovery });
}
