import type { EnvironmentConfig, EnvironmentName, LifecycleConfig } from './types';

const shortLived: LifecycleConfig = {
  infrequentAccessAfterDays: 0,
  glacierAfterDays: 0,
  expireAfterDays: 90,
  noncurrentVersionExpireDays: 7,
};

const longLived: LifecycleConfig = {
  infrequentAccessAfterDays: 90,
  glacierAfterDays: 365,
  expireAfterDays: 0,
  noncurrentVersionExpireDays: 90,
};

/** Development: one AZ pair, one NAT gateway, short retention, data expires. */
export const dev: EnvironmentConfig = {
  name: 'dev',
  account: '111111111111',
  region: 'us-east-1',
  terminationProtection: false,
  network: {
    vpcCidr: '10.10.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    natGateways: 1,
    flowLogRetentionDays: 14,
  },
  dataLake: {
    raw: shortLived,
    curated: shortLived,
    vendor: shortLived,
    results: shortLived,
    models: shortLived,
    athenaResultsExpireDays: 7,
    accessLogsExpireDays: 30,
    auditRetentionDays: 1,
    athenaBytesScannedCutoff: 10 * 2 ** 30,
    athenaHourlyBytesAlarm: 100 * 2 ** 30,
    projectionStartDate: '2000-01-01',
  },
  monitoring: { alarmEmail: 'quant-dev-alarms@example.com', logRetentionDays: 14 },
  vendorSync: {
    vendorAccount: '444444444444',
    vendorBucket: 'vendor-market-data-dev',
    vendorRegion: 'us-east-1',
    vendorPrefix: 'reference/',
  },
};

export const staging: EnvironmentConfig = {
  name: 'staging',
  account: '222222222222',
  region: 'us-east-1',
  terminationProtection: false,
  network: {
    vpcCidr: '10.20.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    natGateways: 1,
    flowLogRetentionDays: 30,
  },
  dataLake: {
    raw: { ...longLived, expireAfterDays: 400 },
    curated: { ...longLived, expireAfterDays: 400 },
    vendor: { ...longLived, expireAfterDays: 400 },
    results: shortLived,
    models: shortLived,
    athenaResultsExpireDays: 7,
    accessLogsExpireDays: 90,
    auditRetentionDays: 30,
    athenaBytesScannedCutoff: 100 * 2 ** 30,
    athenaHourlyBytesAlarm: 1024 * 2 ** 30,
    projectionStartDate: '2000-01-01',
  },
  monitoring: { alarmEmail: 'quant-staging-alarms@example.com', logRetentionDays: 30 },
  vendorSync: {
    vendorAccount: '444444444444',
    vendorBucket: 'vendor-market-data',
    vendorRegion: 'us-east-1',
    vendorPrefix: '',
  },
};

/** Production: three AZs, NAT per AZ, long retention, 7-year write-once audit trail. */
export const prod: EnvironmentConfig = {
  name: 'prod',
  account: '333333333333',
  region: 'ap-southeast-1',
  terminationProtection: true,
  network: {
    vpcCidr: '10.30.0.0/16',
    availabilityZones: ['ap-southeast-1a', 'ap-southeast-1b', 'ap-southeast-1c'],
    natGateways: 3,
    flowLogRetentionDays: 365,
  },
  dataLake: {
    raw: longLived,
    curated: longLived,
    vendor: longLived,
    results: { ...longLived, glacierAfterDays: 0 },
    models: { ...longLived, glacierAfterDays: 0 },
    athenaResultsExpireDays: 30,
    accessLogsExpireDays: 365,
    auditRetentionDays: 7 * 365 + 2,
    athenaBytesScannedCutoff: 1024 * 2 ** 30,
    athenaHourlyBytesAlarm: 10 * 2 ** 40,
    projectionStartDate: '2000-01-01',
  },
  monitoring: { alarmEmail: 'quant-prod-alarms@example.com', logRetentionDays: 365 },
  vendorSync: {
    vendorAccount: '444444444444',
    vendorBucket: 'vendor-market-data',
    vendorRegion: 'us-east-1',
    vendorPrefix: '',
  },
};

export const environments: Readonly<Record<EnvironmentName, EnvironmentConfig>> = { dev, staging, prod };

/** Looks an environment up by name; an unknown name fails with the list of valid ones. */
export function environmentConfig(name: string): EnvironmentConfig {
  if (!Object.hasOwn(environments, name)) {
    throw new Error(
      `Unknown environment "${name}". Valid environments: ${Object.keys(environments).join(', ')} (select one with -c env=NAME).`,
    );
  }
  return environments[name as EnvironmentName];
}

/**
 * The environments selected by the `env` context value (`-c env=NAME`): that one, or all of them when
 * it is not given. An unknown name fails with the list of valid ones.
 */
export function selectEnvironments(envContext: unknown): EnvironmentConfig[] {
  if (envContext === undefined || envContext === null || envContext === '')
    return Object.values(environments);
  if (typeof envContext !== 'string') {
    throw new Error(
      `Context "env" must be a string, got ${typeof envContext}. Valid environments: ${Object.keys(environments).join(', ')}.`,
    );
  }
  return [environmentConfig(envContext)];
}
