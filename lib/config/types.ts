/** Typed configuration of one environment. Read only in `bin/`; stacks get it through props. */
import type { VendorStreamConnection } from '../constructs/vendor-stream-service';

export type EnvironmentName = 'dev' | 'staging' | 'prod';

export interface NetworkConfig {
  /** CIDR of the platform VPC. */
  readonly vpcCidr: string;
  /** Availability zones (explicit so that synth needs no context lookup). */
  readonly availabilityZones: readonly string[];
  /** NAT gateways for the egress subnets (1 saves cost outside prod). */
  readonly natGateways: number;
  /** Retention of the VPC flow log group, in days. */
  readonly flowLogRetentionDays: number;
}

export interface LifecycleConfig {
  /** Days after which objects move to S3 Standard-IA (0 = never). */
  readonly infrequentAccessAfterDays: number;
  /** Days after which objects move to Glacier Instant Retrieval (0 = never). */
  readonly glacierAfterDays: number;
  /** Days after which current objects expire (0 = never). */
  readonly expireAfterDays: number;
  /** Days after which non-current versions expire. */
  readonly noncurrentVersionExpireDays: number;
}

export interface DataLakeConfig {
  readonly raw: LifecycleConfig;
  readonly curated: LifecycleConfig;
  readonly vendor: LifecycleConfig;
  readonly results: LifecycleConfig;
  readonly models: LifecycleConfig;
  /** Athena query results are scratch data. */
  readonly athenaResultsExpireDays: number;
  /** S3 server access logs retention. */
  readonly accessLogsExpireDays: number;
  /** Object Lock (compliance mode) retention of the audit bucket, in days. */
  readonly auditRetentionDays: number;
  /** Per-query cutoff of bytes scanned in the Athena workgroup. */
  readonly athenaBytesScannedCutoff: number;
  /** Alarm when the workgroup scans more than this many bytes in one hour (a cost guard). */
  readonly athenaHourlyBytesAlarm: number;
  /** First date of the `dt` partition projection range (yyyy-MM-dd). */
  readonly projectionStartDate: string;
}

export interface MonitoringConfig {
  /** Alarm notifications go to this address (SNS e-mail subscription). */
  readonly alarmEmail: string;
  /** Retention of application log groups, in days. */
  readonly logRetentionDays: number;
}

export interface VendorSyncConfig {
  /** AWS account that owns the vendor bucket. */
  readonly vendorAccount: string;
  /** Vendor bucket name. */
  readonly vendorBucket: string;
  /** Region of the vendor bucket. */
  readonly vendorRegion: string;
  /** Prefix in the vendor bucket to copy ('' = all). */
  readonly vendorPrefix: string;
  /** Short name of the vendor: destination prefix `<vendorName>/` in the vendor zone, Glue table prefix. */
  readonly vendorName: string;
  /** 'pull': DataSync reads the vendor bucket; 'push': the vendor replicates to us; 'both'. */
  readonly mode: 'pull' | 'push' | 'both';
  /** Full copy split into one DataSync task per prefix (relative to vendorPrefix); [] = one task. */
  readonly fullCopyPrefixes: readonly string[];
  /** Schedule of the incremental task, a DataSync schedule expression (UTC), e.g. `cron(0 3 * * ? *)`. */
  readonly incrementalSchedule: string;
  /** DataSync include / exclude patterns ('/'-rooted, `*` wildcards); [] = none. */
  readonly includes: readonly string[];
  readonly excludes: readonly string[];
  /** Bandwidth cap per task in bytes/s (-1 = unlimited). */
  readonly bytesPerSecond: number;
  /** Alarm when no incremental has run for this many hours. */
  readonly lateAfterHours: number;
  /** SSE-KMS key of the vendor bucket, if any (pull: our DataSync role may decrypt with it). */
  readonly vendorKmsKeyArn?: string;
  /** Push mode: the vendor's replication role, allowed to write replicas under `<vendorName>/`. */
  readonly replicationRoleArn?: string;
  /** Push mode: ask the vendor for S3 Replication Time Control (15-minute SLA, extra cost). */
  readonly replicationTimeControl: boolean;
  /** Vendor datasets with a Glue table each (partition projection, so Athena sees them at once). */
  readonly datasets: readonly VendorDatasetConfig[];
}

export interface VendorDatasetConfig {
  /** Glue table name. */
  readonly table: string;
  /** Key prefix under `<vendorName>/` in the vendor zone, no slashes at either end. */
  readonly prefix: string;
  readonly format: 'parquet' | 'csv';
  /** Columns with Hive types (string, double, bigint, int, date, timestamp, boolean). */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** Date partition `<name>=yyyy-MM-dd` projected from `start` to today; omit for unpartitioned data. */
  readonly datePartition?: { readonly name: string; readonly start: string };
}

export interface BacktestConfig {
  /** Largest sweep (parameter sets after the --where filter) the validate step accepts. */
  readonly maxGridSize: number;
  /** Parameter sets per ECS task (Distributed Map ItemBatcher MaxItemsPerBatch). */
  readonly batchSize: number;
  /** ECS tasks of one sweep running at the same time (Distributed Map MaxConcurrency). */
  readonly maxConcurrency: number;
  /** Share of failed batches (0-100) a sweep tolerates before it fails. */
  readonly toleratedFailurePercentage: number;
  /** Run batch tasks on Fargate Spot (cheaper; an interrupted batch is retried). */
  readonly useFargateSpot: boolean;
  /** Fargate task size: vCPU units (1024 = 1 vCPU) and memory in MiB. */
  readonly taskCpu: number;
  readonly taskMemoryMiB: number;
  /** Rows in the ranked top-N object a sweep publishes. */
  readonly topN: number;
  /** Longest a sweep may run, in hours (Step Functions stops it then). */
  readonly timeoutHours: number;
}

export interface IngestionConfig {
  /** Vendor WebSocket connections streamed into `ticks`, one ECS service each. @default none */
  readonly vendorStreams?: readonly VendorStreamConnection[];
  /** Kinesis capacity mode of the `ticks` stream: on-demand scales itself; provisioned is cheaper when steady. */
  readonly streamMode: 'on-demand' | 'provisioned';
  /** Shards when provisioned (ignored on demand). */
  readonly shardCount: number;
  /** Stream retention in hours (24-8760): how long a stopped consumer can catch up. */
  readonly retentionHours: number;
  /** Records per consumer invocation (1-10000). */
  readonly consumerBatchSize: number;
  /** Seconds the event source buffers before invoking (bigger files, fewer objects). */
  readonly consumerBatchingWindowSeconds: number;
  /** Concurrent batches per shard (1-10). */
  readonly consumerParallelization: number;
  /** Consumer Lambda memory in MiB. */
  readonly consumerMemoryMiB: number;
  /** Iterator age (seconds) above which the consumer is alarmed as falling behind. */
  readonly iteratorAgeAlarmSeconds: number;
  /** Glue worker type and count of the bars and compaction jobs. */
  readonly glueWorkerType: 'G.1X' | 'G.2X';
  readonly glueWorkers: number;
  /** Hour (UTC) of the daily compaction + bars workflow run. */
  readonly dailyRunHourUtc: number;
}

export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** Target AWS account. */
  readonly account: string;
  /** Target AWS region. */
  readonly region: string;
  /** Stateful stacks get termination protection (prod). */
  readonly terminationProtection: boolean;
  readonly network: NetworkConfig;
  readonly dataLake: DataLakeConfig;
  readonly monitoring: MonitoringConfig;
  readonly vendorSync: VendorSyncConfig;
  readonly backtest: BacktestConfig;
  readonly ingestion: IngestionConfig;
  readonly trading: TradingConfig;
  readonly feed: FeedConfig;
  readonly training: TrainingConfig;
  /**
   * Backups, cross-region copies and replication to a DR region (see docs/disaster-recovery.md).
   * Absent: none of it (dev).
   */
  readonly disasterRecovery?: DisasterRecoveryConfig;
}

/** AWS Backup of the trading tables and the lake buckets, with copies in the DR region. */
export interface BackupConfig {
  /** Daily backups (and their DR-region copies) are kept this many days. */
  readonly dailyRetentionDays: number;
  /** Monthly backups (and copies) are kept this many days; 0 = no monthly backups. */
  readonly monthlyRetentionDays: number;
  /** Hour (UTC) the daily backup window opens. */
  readonly hourUtc: number;
  /**
   * Vault lock of both vaults. Compliance: after `lockChangeableForDays` nobody, root included, can
   * delete a recovery point early or remove the lock. Governance: IAM principals allowed to can.
   */
  readonly vaultLock: 'compliance' | 'governance';
  /** Grace period (days, at least 3) in which a compliance lock can still be removed. */
  readonly lockChangeableForDays: number;
}

export interface DisasterRecoveryConfig {
  /** Region of the replica buckets, the trading-table replicas and the backup copies. */
  readonly drRegion: string;
  readonly backup: BackupConfig;
  /** S3 Replication Time Control on the lake's replication (99.99% of objects within 15 minutes). */
  readonly replicationTimeControl: boolean;
  /** Alarm when an object's S3 replication takes longer than this, in seconds. */
  readonly s3ReplicationAlarmSeconds: number;
  /** Alarm when the trading tables' replica lags by more than this (keep it under the RPO), in seconds. */
  readonly tableReplicationAlarmSeconds: number;
}

export interface TradingConfig {
  /** Trading account the kill switch halts and the Lambdas trade for. */
  readonly account: string;
  /** Broker adapter of the execution Lambda: the paper broker, or the REST adapter. */
  readonly broker: 'paper' | 'rest';
  /** Base URL of the REST broker (broker 'rest'); its keys live in a Secrets Manager secret. */
  readonly brokerUrl?: string;
  /** Commission of the paper broker in basis points. */
  readonly paperCostBps: number;
  /** Reserved concurrency of the execution Lambda (caps the order rate toward the broker). */
  readonly executionConcurrency: number;
  /** Kinesis signals stream: shards when provisioned, 0 = on-demand. */
  readonly signalShards: number;
  /** Execution errors in 5 minutes that trip the kill switch. */
  readonly killSwitchErrorThreshold: number;
  /**
   * Daily job that publishes the account's returns window (VaR and correlation limits) from the
   * lake's daily bars, as `quant risk returns` does. Absent: no schedule (run the CLI yourself).
   */
  readonly returnsJob?: ReturnsJobConfig;
  /**
   * Oldest lake quote (latest 1m bar) an algo child may be priced at, in ms; a child without a
   * fresher one is rejected as stale. Set it above the bars job's lag.
   * @default 300000 (5 minutes)
   */
  readonly quoteMaxAgeMs?: number;
  /**
   * Reserved concurrency of the kill-switch Lambda: a halt is never throttled by other functions
   * using up the account's concurrency.
   * @default 2
   */
  readonly killSwitchConcurrency?: number;
  /**
   * Reserved concurrency of the risk-check Lambda (strategies' pre-trade checks).
   * @default 10
   */
  readonly riskCheckConcurrency?: number;
}

export interface ReturnsJobConfig {
  /** Symbols of the window (each needs daily bars in the lake). */
  readonly symbols: readonly string[];
  /** Returns in the window (2-5000). */
  readonly days: number;
  /** Time of day (UTC) it runs, e.g. after the daily bars are in. */
  readonly hourUtc: number;
  readonly minuteUtc: number;
}

/** A multicast group and UDP port of one CME feed. */
export interface FeedGroupConfig {
  /** Multicast group address (224.0.1.0 - 239.255.255.255). */
  readonly group: string;
  /** UDP destination port. */
  readonly port: number;
}

/** One CME MDP 3.0 channel: one `quant feed run` service per instance. */
export interface FeedChannelConfig {
  /** CME channel id: names the systemd service and the `Channel` dimension of the feed metrics. */
  readonly id: number;
  /** Incremental feed A. */
  readonly feedA: FeedGroupConfig;
  /** Incremental feed B. */
  readonly feedB: FeedGroupConfig;
  /** Market recovery feed (snapshot loop); omit to run without snapshot recovery. */
  readonly snapshot?: FeedGroupConfig;
  /** TCP port subscribers connect to for this channel's packets (>= 1024: the service is not root). */
  readonly relayTcpPort: number;
  /** Unicast UDP subscribers (`host:port`) that receive every packet byte-exact; [] = none. */
  readonly relayUdp: readonly string[];
  /** Loopback port of the handler's Prometheus-text `/metrics` endpoint (>= 1024). */
  readonly metricsPort: number;
  /** CME TCP replay service (`ipv4:port`, reached through the Transit Gateway) for small gaps; omit for none. */
  readonly tcpReplay?: string;
}

/** The CME feed handler on EC2 behind a Transit Gateway multicast domain (docs/feed-handler.md). */
export interface FeedConfig {
  /** Build the FeedHandlerStack (a Transit Gateway and the instances cost money while idle). */
  readonly enabled: boolean;
  /**
   * CIDR of a dedicated feed VPC (/16 to /24) built in the feed stack; omit to use the network stack's
   * private subnets with egress.
   */
  readonly dedicatedVpcCidr?: string;
  /** One handler instance per AZ (A/B redundancy across AZs); each must be one of network.availabilityZones. */
  readonly availabilityZones: readonly string[];
  /** Network-optimized instance type (the `n` attribute: c6in, c7gn, m6in, ...); `g` types run arm64. */
  readonly instanceType: string;
  /** One cluster placement group per AZ (a cluster group cannot span AZs): low latency to co-located consumers. */
  readonly clusterPlacementGroup: boolean;
  /** Encrypted gp3 root volume size in GiB. */
  readonly rootVolumeGiB: number;
  /** Where the instance keeps the SBE schema (passed to `quant feed run --schema`). */
  readonly schemaPath: string;
  /** `s3://bucket/key` the instance copies the schema from at boot (the operator uploads it there). */
  readonly schemaS3Uri: string;
  readonly channels: readonly FeedChannelConfig[];
  /** Source addresses of the multicast packets (as forwarded by the virtual router): UDP allowed from these only. */
  readonly multicastSourceCidrs: readonly string[];
  /**
   * ENIs of the virtual routers, registered as static sources of every group; [] = no static sources
   * (any host in the domain's subnets may send).
   */
  readonly routerSourceEnis: readonly string[];
  /** IGMPv2 multicast domain (hosts join by IGMP); AWS does not allow it together with static sources. */
  readonly igmpv2: boolean;
  /** Networks allowed to connect to the TCP relay ports. */
  readonly relaySubscriberCidrs: readonly string[];
  /** On-premises networks reached through the Transit Gateway (TCP replay, GRE peers); [] = none. */
  readonly onPremisesCidrs: readonly string[];
  /**
   * Full ARN (with Secrets Manager's six-character suffix) of the secret holding the CME TCP replay
   * logon, JSON `{"username": "...", "password": "..."}`; required when a channel sets `tcpReplay`.
   * The handler role may read exactly this secret.
   */
  readonly tcpReplayCredentialsSecretArn?: string;
  /** Publish normalized trades and quotes into the ingestion `ticks` stream. */
  readonly publishToKinesis: boolean;
  /** Alarm when a channel receives no packet on either feed for this many minutes (heartbeats count). */
  readonly noPacketsAlarmMinutes: number;
  /** Alarm when more gaps than this occur in 5 minutes (all channels). */
  readonly gapAlarmThreshold: number;
  /** Alarm when more recoveries than this run in 5 minutes (all channels). */
  readonly recoveryAlarmThreshold: number;
}

/** SageMaker instance and container of the training job (GPU or Trainium, chosen per environment). */
export interface TrainingComputeConfig {
  /** `gpu` (CUDA container), `trainium` (Neuron container) or `cpu` (cheap smoke runs). */
  readonly accelerator: 'gpu' | 'trainium' | 'cpu';
  /** SageMaker instance type, e.g. `ml.g5.xlarge`, `ml.trn1.2xlarge`, `ml.trn1.32xlarge`. */
  readonly instanceType: string;
  /** Instances of the job (1-16); more than one runs torchrun across instances. */
  readonly instanceCount: number;
  /** Accelerator devices per instance torchrun starts one process for (GPUs or NeuronCores); 1 = no torchrun. */
  readonly devicesPerInstance: number;
  /**
   * The deep-learning container (an ECR image URI): the PyTorch GPU training DLC for `gpu`,
   * `pytorch-training-neuronx` for `trainium`.
   */
  readonly imageUri: string;
  /** Storage volume per instance in GiB (instance types with local NVMe use that instead). */
  readonly volumeSizeGiB: number;
}

/** Optional Bayesian hyperparameter tuning in place of the single training job. */
export interface TrainingTuningConfig {
  /** Objective metric printed by the training script: maximize `val_ic` or minimize `val_loss`. */
  readonly objective: 'val_ic' | 'val_loss';
  /** Training jobs in total (1-500). */
  readonly maxJobs: number;
  /** Training jobs at the same time (1-maxJobs). */
  readonly maxParallelJobs: number;
  /** Learning rate range (log scale), [min, max]. */
  readonly learningRate: readonly [number, number];
  /** Hidden units range, [min, max] integers. */
  readonly hidden: readonly [number, number];
}

/** The training workflow, the drift check and the strategy runner of one environment. */
export interface TrainingConfig {
  /** Model name: the SageMaker model package group and the models bucket prefix (lowercase, <= 20 chars). */
  readonly modelName: string;
  /** Symbols whose daily bars the features are computed from. */
  readonly symbols: readonly string[];
  /** First bar date (yyyy-MM-dd) of the training data. */
  readonly fromDate: string;
  /** Bars ahead of the label (forward return), 1-250. */
  readonly horizon: number;
  readonly compute: TrainingComputeConfig;
  /** Hyperparameters passed to training/train.py (all values strings, as SageMaker requires). */
  readonly hyperparameters: Readonly<Record<string, string>>;
  /** Managed spot training (checkpoints make interruptions resumable). */
  readonly useSpot: boolean;
  /** Longest a job may train, in hours (MaxRuntimeInSeconds). */
  readonly maxRuntimeHours: number;
  /** Longest a spot job may wait for capacity plus train, in hours (MaxWaitTimeInSeconds, >= maxRuntimeHours). */
  readonly maxWaitHours: number;
  /** Retries of a job whose instance failed (RetryStrategy.MaximumRetryAttempts, 1-30). */
  readonly retryAttempts: number;
  /** Bayesian tuning; absent = one training job. */
  readonly tuning?: TrainingTuningConfig;
  /** EventBridge schedule expression of the retrain; absent = no scheduled retrain (start it with `quant train --remote`). */
  readonly retrainSchedule?: string;
  /** The gate: the candidate's held-out Sharpe must beat the champion's by at least this. */
  readonly minSharpeGain: number;
  /** The gate: the candidate's held-out information coefficient must be at least this. */
  readonly minTestIc: number;
  /** Which approved model (per trading environment) the gate, drift check and runner use. */
  readonly tradingEnvironment: 'paper' | 'staging' | 'prod';
  /** Schedule expression of the drift check. */
  readonly driftSchedule: string;
  /** Bars of live features the drift check compares with the training statistics (20-5000). */
  readonly driftLookbackBars: number;
  /** Alarm when the largest feature PSI reaches this (0.2 is the usual "significant shift"). */
  readonly driftPsiAlarm: number;
  /** Alarm when a training job runs longer than this many minutes. */
  readonly durationAlarmMinutes: number;
  /** Schedule expression of the strategy runner (after each bar is in the lake). */
  readonly runnerSchedule: string;
  /** Strategy runner memory in MiB (ONNX inference). */
  readonly runnerMemoryMiB: number;
}
