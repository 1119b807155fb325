/** Typed configuration of one environment. Read only in `bin/`; stacks get it through props. */

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
}
