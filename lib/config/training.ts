import { parseConfig, regionalSections } from './schema';
import type { TrainingConfig } from './types';
import { FEATURE_NAMES } from '../../src/contract/ml';

/** Instance families whose local NVMe storage SageMaker uses instead of an EBS volume (hardware-encrypted). */
const LOCAL_STORAGE_FAMILIES = /^ml\.(g4dn|g5|g6|g6e|p3dn|p4d|p4de|p5|p5e|trn1|trn1n|trn2|m5d|c5d|r5d)\./;

/** True when SageMaker rejects a VolumeKmsKeyId for this instance type (local storage, encrypted by the hardware). */
export function hasLocalInstanceStorage(instanceType: string): boolean {
  return LOCAL_STORAGE_FAMILIES.test(instanceType);
}

/** Checks the training section alone with the schema's rules (`training.compute.instanceType: ...`). */
export function validateTrainingConfig(training: TrainingConfig, region: string): void {
  parseConfig(regionalSections.training, { region, training });
}

/** The features the environment trains on: its `features` hyperparameter, else the whole set (version 1). */
export function trainingFeatures(c: TrainingConfig): string[] {
  return (c.hyperparameters.features ?? FEATURE_NAMES.join(',')).split(',').map((f) => f.trim());
}
