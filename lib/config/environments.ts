import { ConfigError } from './errors';
import type { EnvironmentConfig, EnvironmentName, FeedChannelConfig, LifecycleConfig } from './types';

/** A partial config: objects merge field by field, lists and values replace. */
export type Overrides<T> = {
  readonly [K in keyof T]?: T[K] extends readonly unknown[]
    ? T[K]
    : T[K] extends object
      ? Overrides<T[K]>
      : T[K];
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
/** A context value not given (`-c name=` gives ''). */
const isUnset = (v: unknown): boolean => v === undefined || v === null || v === '';

/** `base` with `overrides` applied (lists replace, objects merge); the stage checks the result. */
export function withOverrides<T extends object>(
  base: T,
  overrides: Overrides<T> | Record<string, unknown>,
): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(overrides))
    out[k] = isObject(v) && isObject(out[k]) ? withOverrides(out[k], v) : v;
  return out as T;
}

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

/** Lifecycles of the zones: the market and vendor data (raw, curated, vendor), and what is built from it. */
const zoneLifecycles = (data: LifecycleConfig, built: LifecycleConfig) => ({
  raw: data,
  curated: data,
  vendor: data,
  results: built,
  models: built,
});

/**
 * CME channel 310 (example addresses: take each channel's groups and ports from CME's config.xml for the
 * environment you connect to; the handler's schema is the one CME publishes for it).
 */
const channel310: FeedChannelConfig = {
  id: 310,
  feedA: { group: '224.0.31.1', port: 14310 },
  feedB: { group: '224.0.32.1', port: 15310 },
  snapshot: { group: '224.0.31.22', port: 14310 },
  relayTcpPort: 9310,
  relayUdp: [],
  metricsPort: 9464,
};

/** Deep-learning containers (AWS's account 763104351884 serves every commercial region used here). */
const pytorchGpuImage = (region: string) =>
  `763104351884.dkr.ecr.${region}.amazonaws.com/pytorch-training:2.3.0-gpu-py311-cu121-ubuntu20.04-sagemaker`;
const pytorchNeuronImage = (region: string) =>
  `763104351884.dkr.ecr.${region}.amazonaws.com/pytorch-training-neuronx:2.1.2-neuronx-py310-sdk2.20.2-ubuntu20.04`;

/** What every environment shares, catalogs included; each environment below overrides the rest. */
const base: Overrides<EnvironmentConfig> = {
  terminationProtection: false,
  network: { natGateways: 1 },
  dataLake: { athenaResultsExpireDays: 7, projectionStartDate: '2000-01-01' },
  vendorSync: {
    vendorAccount: '444444444444',
    vendorRegion: 'us-east-1',
    vendorName: 'acme',
    mode: 'pull',
    fullCopyPrefixes: [],
    incrementalSchedule: 'cron(0 3 * * ? *)',
    includes: [],
    excludes: ['*/_tmp/*', '*.inprogress'],
    bytesPerSecond: -1,
    lateAfterHours: 26,
    replicationTimeControl: false,
    datasets: [
      {
        table: 'vendor_symbols',
        prefix: 'symbols',
        format: 'parquet',
        columns: [
          { name: 'symbol', type: 'string' },
          { name: 'name', type: 'string' },
          { name: 'asset_class', type: 'string' },
          { name: 'region', type: 'string' },
          { name: 'sector', type: 'string' },
          { name: 'currency', type: 'string' },
          { name: 'exchange', type: 'string' },
          { name: 'inception_date', type: 'date' },
          { name: 'expense_ratio', type: 'double' },
        ],
        datePartition: { name: 'as_of', start: '2020-01-01' },
      },
    ],
  },
  ingestion: {
    streamMode: 'on-demand',
    consumerParallelization: 1,
    iteratorAgeAlarmSeconds: 300,
    glueWorkerType: 'G.1X',
    dailyRunHourUtc: 2,
  },
  backtest: { batchSize: 50, useFargateSpot: true, taskCpu: 1024, taskMemoryMiB: 2048 },
  trading: {
    account: 'main',
    broker: 'paper',
    paperCostBps: 1,
    signalShards: 0,
    killSwitchErrorThreshold: 5,
    // After the US close and the daily bars; the window the VaR / correlation limits read.
    returnsJob: { symbols: ['SPY', 'EFA', 'AGG', 'GLD'], days: 250, hourUtc: 22, minuteUtc: 30 },
  },
  training: {
    modelName: 'ml-signal',
    symbols: ['SPY', 'QQQ', 'IWM', 'EFA', 'AGG', 'GLD'],
    fromDate: '2005-01-01',
    horizon: 5,
    hyperparameters: { model: 'mlp', epochs: '30', batch_size: '256', lr: '0.001', hidden: '32', seed: '7' },
    useSpot: true,
    retryAttempts: 2,
    minSharpeGain: 0.05,
    minTestIc: 0.01,
    retrainSchedule: 'cron(0 6 ? * SUN *)',
    // After the US close and the daily bars (ingestion's daily run).
    driftSchedule: 'cron(30 23 ? * MON-FRI *)',
    driftLookbackBars: 60,
    driftPsiAlarm: 0.2,
    runnerSchedule: 'cron(45 23 ? * MON-FRI *)',
    runnerMemoryMiB: 1024,
  },
  feed: {
    enabled: true,
    clusterPlacementGroup: false,
    rootVolumeGiB: 16,
    schemaPath: '/opt/quant-feed/schema/templates_FixBinary.xml',
    channels: [channel310],
    multicastSourceCidrs: ['10.200.0.0/24'],
    routerSourceEnis: [],
    igmpv2: false,
    onPremisesCidrs: [],
    publishToKinesis: true,
    noPacketsAlarmMinutes: 3,
    gapAlarmThreshold: 5,
    recoveryAlarmThreshold: 5,
  },
};

const environment = (overrides: Overrides<EnvironmentConfig>): EnvironmentConfig =>
  withOverrides(base as EnvironmentConfig, overrides);

/** Development: one AZ pair, one NAT gateway, short retention, data expires. */
export const dev = environment({
  name: 'dev',
  account: '111111111111',
  region: 'us-east-1',
  network: {
    vpcCidr: '10.10.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    flowLogRetentionDays: 14,
  },
  dataLake: {
    ...zoneLifecycles(shortLived, shortLived),
    accessLogsExpireDays: 30,
    auditRetentionDays: 1,
    athenaBytesScannedCutoff: 10 * 2 ** 30,
    athenaHourlyBytesAlarm: 100 * 2 ** 30,
  },
  monitoring: { alarmEmail: 'quant-dev-alarms@example.com', logRetentionDays: 14 },
  vendorSync: { vendorBucket: 'vendor-market-data-dev', vendorPrefix: 'reference/' },
  ingestion: {
    shardCount: 1,
    retentionHours: 24,
    consumerBatchSize: 1000,
    consumerBatchingWindowSeconds: 5,
    consumerMemoryMiB: 1024,
    glueWorkers: 2,
  },
  backtest: {
    maxGridSize: 20_000,
    maxConcurrency: 20,
    toleratedFailurePercentage: 10,
    topN: 20,
    timeoutHours: 6,
  },
  trading: { executionConcurrency: 2 },
  training: {
    // One small GPU, spot: cheap retrains while developing.
    compute: {
      accelerator: 'gpu',
      instanceType: 'ml.g5.xlarge',
      instanceCount: 1,
      devicesPerInstance: 1,
      imageUri: pytorchGpuImage('us-east-1'),
      volumeSizeGiB: 50,
    },
    maxRuntimeHours: 2,
    maxWaitHours: 4,
    tradingEnvironment: 'paper',
    durationAlarmMinutes: 90,
  },
  feed: {
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    instanceType: 'c6in.large',
    schemaS3Uri: 's3://quant-dev-reference-data/cme/templates_FixBinary.xml',
    relaySubscriberCidrs: ['10.10.0.0/16'],
  },
});

/** Staging: prod-like backups and replication, Trainium tuning, paper trading. */
export const staging = environment({
  name: 'staging',
  account: '222222222222',
  region: 'us-east-1',
  network: {
    vpcCidr: '10.20.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    flowLogRetentionDays: 30,
  },
  dataLake: {
    ...zoneLifecycles({ ...longLived, expireAfterDays: 400 }, shortLived),
    accessLogsExpireDays: 90,
    auditRetentionDays: 30,
    athenaBytesScannedCutoff: 100 * 2 ** 30,
    athenaHourlyBytesAlarm: 1024 * 2 ** 30,
  },
  monitoring: { alarmEmail: 'quant-staging-alarms@example.com', logRetentionDays: 30 },
  vendorSync: { vendorBucket: 'vendor-market-data', vendorPrefix: '' },
  ingestion: {
    shardCount: 2,
    retentionHours: 48,
    consumerBatchSize: 5000,
    consumerBatchingWindowSeconds: 10,
    consumerMemoryMiB: 1536,
    glueWorkers: 4,
    // Alpaca's free IEX feed, as a paper-trading account gets it; the key goes into the secret the
    // service creates (`KEY_ID:SECRET`, lib/constructs/vendor-stream-service.ts).
    vendorStreams: [
      {
        name: 'alpaca-iex',
        vendor: 'alpaca',
        symbols: ['SPY', 'QQQ', 'IWM', 'EFA', 'AGG', 'GLD'],
        url: 'wss://stream.data.alpaca.markets/v2/iex',
      },
    ],
  },
  backtest: {
    maxGridSize: 50_000,
    maxConcurrency: 50,
    toleratedFailurePercentage: 5,
    topN: 50,
    timeoutHours: 12,
  },
  trading: { executionConcurrency: 5 },
  training: {
    // Trainium: two NeuronCores of one trn1.2xlarge under torchrun; Bayesian tuning on val_ic.
    compute: {
      accelerator: 'trainium',
      instanceType: 'ml.trn1.2xlarge',
      instanceCount: 1,
      devicesPerInstance: 2,
      imageUri: pytorchNeuronImage('us-east-1'),
      volumeSizeGiB: 100,
    },
    maxRuntimeHours: 4,
    maxWaitHours: 8,
    tuning: {
      objective: 'val_ic',
      maxJobs: 8,
      maxParallelJobs: 2,
      learningRate: [1e-4, 1e-2],
      hidden: [16, 128],
    },
    tradingEnvironment: 'staging',
    durationAlarmMinutes: 180,
  },
  // Backups and replication as in prod, without the long archive, RTC or an immutable lock.
  disasterRecovery: {
    drRegion: 'us-west-2',
    backup: {
      dailyRetentionDays: 30,
      monthlyRetentionDays: 0,
      hourUtc: 5,
      vaultLock: 'governance',
      lockChangeableForDays: 3,
    },
    replicationTimeControl: false,
    s3ReplicationAlarmSeconds: 3600,
    tableReplicationAlarmSeconds: 30,
    // No warm standby: staging proves the replication, not the 15-minute failover, and the standby's
    // NAT gateways and stream would cost as much as staging's own.
    standby: { enabled: false, dormant: true },
  },
  feed: {
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    // Graviton, network-optimized: the arm64 image (the bundle is plain JavaScript).
    instanceType: 'c7gn.large',
    schemaS3Uri: 's3://quant-staging-reference-data/cme/templates_FixBinary.xml',
    relaySubscriberCidrs: ['10.20.0.0/16'],
  },
});

/** Production: three AZs, NAT per AZ, long retention, 7-year write-once audit trail. */
export const prod = environment({
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
    ...zoneLifecycles(longLived, { ...longLived, glacierAfterDays: 0 }),
    athenaResultsExpireDays: 30,
    accessLogsExpireDays: 365,
    auditRetentionDays: 7 * 365 + 2,
    athenaBytesScannedCutoff: 1024 * 2 ** 30,
    athenaHourlyBytesAlarm: 10 * 2 ** 40,
  },
  monitoring: { alarmEmail: 'quant-prod-alarms@example.com', logRetentionDays: 365 },
  vendorSync: {
    vendorBucket: 'vendor-market-data',
    vendorPrefix: 'acme/',
    mode: 'both',
    fullCopyPrefixes: ['reference/', 'eod/', 'intraday/'],
    replicationRoleArn: 'arn:aws:iam::444444444444:role/acme-replication-to-quant',
    replicationTimeControl: true,
  },
  ingestion: {
    // Provisioned: steady market-hours load; 8 shards = 8 MB/s in, aggregated ~150k ticks/s.
    streamMode: 'provisioned',
    shardCount: 8,
    retentionHours: 168,
    // Large batches and a 30 s window make files of several MB; compaction brings them to >= 32 MB.
    consumerBatchSize: 10000,
    consumerBatchingWindowSeconds: 30,
    consumerParallelization: 2,
    consumerMemoryMiB: 3008,
    iteratorAgeAlarmSeconds: 120,
    glueWorkerType: 'G.2X',
    glueWorkers: 10,
    dailyRunHourUtc: 22,
  },
  backtest: {
    maxGridSize: 100_000,
    maxConcurrency: 200,
    toleratedFailurePercentage: 1,
    useFargateSpot: false,
    taskCpu: 2048,
    taskMemoryMiB: 4096,
    topN: 100,
    timeoutHours: 24,
  },
  trading: {
    broker: 'rest',
    brokerUrl: 'https://broker.example.com',
    executionConcurrency: 10,
    signalShards: 2,
    killSwitchErrorThreshold: 3,
  },
  training: {
    // Trainium: the 32 NeuronCores of a trn1.32xlarge under torchrun; on-demand (no spot) for a
    // predictable weekly retrain.
    compute: {
      accelerator: 'trainium',
      instanceType: 'ml.trn1.32xlarge',
      instanceCount: 1,
      devicesPerInstance: 32,
      imageUri: pytorchNeuronImage('ap-southeast-1'),
      volumeSizeGiB: 200,
    },
    useSpot: false,
    maxRuntimeHours: 8,
    maxWaitHours: 8,
    tuning: {
      objective: 'val_ic',
      maxJobs: 20,
      maxParallelJobs: 4,
      learningRate: [1e-4, 1e-2],
      hidden: [16, 256],
    },
    retrainSchedule: 'cron(0 6 ? * SAT *)',
    tradingEnvironment: 'prod',
    durationAlarmMinutes: 360,
  },
  // RPO 1 minute / RTO 15 minutes: docs/disaster-recovery.md. Trading state replicates within
  // seconds (alarm at half the RPO); daily backups 30 days, monthly 7 years, copied to the DR region.
  disasterRecovery: {
    drRegion: 'ap-southeast-2',
    backup: {
      dailyRetentionDays: 30,
      monthlyRetentionDays: 7 * 365 + 2,
      hourUtc: 18,
      vaultLock: 'compliance',
      lockChangeableForDays: 3,
    },
    replicationTimeControl: true,
    // Replication Time Control's threshold: 15 minutes.
    s3ReplicationAlarmSeconds: 900,
    tableReplicationAlarmSeconds: 30,
    // Warm standby (RTO 15 minutes): the trading compute waits in the DR region, dormant.
    standby: {
      enabled: true,
      dormant: true,
      network: {
        vpcCidr: '10.60.0.0/16',
        availabilityZones: ['ap-southeast-2a', 'ap-southeast-2b'],
        natGateways: 2,
        flowLogRetentionDays: 365,
      },
    },
  },
  feed: {
    // A/B pair in two AZs; each AZ gets its own cluster placement group for co-located consumers.
    availabilityZones: ['ap-southeast-1a', 'ap-southeast-1b'],
    instanceType: 'c6in.2xlarge',
    clusterPlacementGroup: true,
    rootVolumeGiB: 32,
    schemaS3Uri: 's3://quant-prod-reference-data/cme/templates_FixBinary.xml',
    channels: [
      channel310,
      {
        id: 312,
        feedA: { group: '224.0.31.3', port: 14312 },
        feedB: { group: '224.0.32.3', port: 15312 },
        snapshot: { group: '224.0.31.24', port: 14312 },
        relayTcpPort: 9312,
        relayUdp: [],
        metricsPort: 9466,
      },
    ],
    // The virtual routers' ENIs (Catalyst 8000V in the feed subnets) are the static multicast sources.
    routerSourceEnis: ['eni-0a1b2c3d4e5f60718', 'eni-0a1b2c3d4e5f60719'],
    multicastSourceCidrs: ['10.200.0.0/24', '10.201.0.0/24'],
    relaySubscriberCidrs: ['10.30.0.0/16'],
    onPremisesCidrs: ['10.200.0.0/16', '10.201.0.0/16'],
  },
});

export const environments: Readonly<Record<EnvironmentName, EnvironmentConfig>> = { dev, staging, prod };

/** Looks an environment up by name; an unknown name fails with the list of valid ones. */
export function environmentConfig(name: string): EnvironmentConfig {
  if (!Object.hasOwn(environments, name)) {
    throw new ConfigError(
      `Unknown environment "${name}". Valid environments: ${Object.keys(environments).join(', ')} (select one with -c env=NAME).`,
    );
  }
  return environments[name as EnvironmentName];
}

/** Context key of a JSON object merged into every selected environment before it is checked. */
export const OVERRIDE_CONTEXT = 'quant:override';

/** The `quant:override` context value (`-c 'quant:override={"trading":{"paperCostBps":2}}'`) as an object. */
function overridesFrom(context: unknown): Record<string, unknown> {
  if (isUnset(context)) return {};
  let value = context;
  if (typeof context === 'string') {
    try {
      value = JSON.parse(context);
    } catch {
      throw new ConfigError(`context ${OVERRIDE_CONTEXT}: not JSON: ${context}`);
    }
  }
  if (!isObject(value))
    throw new ConfigError(
      `context ${OVERRIDE_CONTEXT}: expected a JSON object such as {"trading":{"paperCostBps":2}}`,
    );
  return value;
}

/**
 * The environments selected by the `env` context value (`-c env=NAME`): that one, or all of them when
 * it is not given, each with the `quant:override` context merged in. An unknown name fails with the
 * list of valid ones.
 */
export function selectEnvironments(envContext: unknown, overrideContext?: unknown): EnvironmentConfig[] {
  const overrides = overridesFrom(overrideContext);
  return selectedNames(envContext).map((name) => withOverrides(environments[name], overrides));
}

function selectedNames(envContext: unknown): EnvironmentName[] {
  if (isUnset(envContext)) return Object.keys(environments) as EnvironmentName[];
  if (typeof envContext !== 'string') {
    throw new ConfigError(
      `Context "env" must be a string, got ${typeof envContext}. Valid environments: ${Object.keys(environments).join(', ')}.`,
    );
  }
  return [environmentConfig(envContext).name];
}
