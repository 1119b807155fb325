/**
 * Typed configuration of one environment, inferred from the schema (./schema.ts holds every field's
 * documentation and rules). Read only in `bin/`; stacks get checked, frozen slices through props.
 */
import type * as z from 'zod';
import type { configSections, environmentSchema } from './schema';

type Out<K extends keyof typeof configSections> = z.output<(typeof configSections)[K]>;

export type EnvironmentConfig = z.output<typeof environmentSchema>;
export type EnvironmentName = EnvironmentConfig['name'];
export type NetworkConfig = Out<'network'>;
export type LifecycleConfig = Out<'lifecycle'>;
export type DataLakeConfig = Out<'dataLake'>;
export type MonitoringConfig = Out<'monitoring'>;
export type VendorSyncConfig = Out<'vendorSync'>;
export type VendorDatasetConfig = Out<'vendorDataset'>;
export type BacktestConfig = Out<'backtest'>;
export type IngestionConfig = Out<'ingestion'>;
export type VendorStreamConfig = Out<'vendorStream'>;
export type TradingConfig = Out<'trading'>;
export type ReturnsJobConfig = Out<'returnsJob'>;
export type FeedConfig = Out<'feed'>;
export type FeedChannelConfig = Out<'feedChannel'>;
export type FeedGroupConfig = Out<'feedGroup'>;
export type TrainingConfig = Out<'training'>;
export type TrainingComputeConfig = Out<'trainingCompute'>;
export type TrainingTuningConfig = Out<'trainingTuning'>;
export type DisasterRecoveryConfig = Out<'disasterRecovery'>;
export type BackupConfig = Out<'backup'>;
