import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledgeWildcards, QuantKey, SecureBucket } from '../constructs';
import type { DataLakeConfig } from '../config/types';
import type { IMonitoring } from './monitoring-stack';
import {
  ATHENA_WORKGROUP_ENV,
  BACKTEST_RESULTS,
  BARS,
  glueColumn,
  GLUE_DATABASE_ENV,
  LAKE_BUCKET_ENV,
  TABLES,
  TICKS,
  ZONES,
  type Zone,
} from '../../src/contract/lake';

/** A lake zone (src/contract/lake.ts). */
export type LakeZone = Zone;

/**
 * Partition projection of one lake table (`projection.<key>.*` without the prefix, per partition key);
 * the table itself is defined in src/contract/lake.ts.
 */
type Projection = (cfg: DataLakeConfig) => Readonly<Record<string, Readonly<Record<string, string>>>>;

/** First year of the projections (the schema checked the date: lib/config/schema.ts). */
const startYear = (cfg: DataLakeConfig): number => Number(cfg.projectionStartDate.slice(0, 4));

/** Last year the `year` projection covers (a fixed bound keeps synth deterministic). */
export const PROJECTION_LAST_YEAR = 2099;

const PROJECTIONS: Readonly<Record<string, Projection>> = {
  ticks: (cfg) => {
    return {
      dt: {
        type: 'date',
        range: `${cfg.projectionStartDate},NOW`,
        format: 'yyyy-MM-dd',
        interval: '1',
        'interval.unit': 'DAYS',
      },
      symbol: { type: 'injected' },
    };
  },
  bars: (cfg) => ({
    interval: { type: 'enum', values: '1m,1d' },
    symbol: { type: 'injected' },
    year: { type: 'integer', range: `${startYear(cfg)},${PROJECTION_LAST_YEAR}` },
  }),
  backtest_results: () => ({ strategy: { type: 'injected' }, sweep_id: { type: 'injected' } }),
  news_sentiment: (cfg) => ({
    dt: {
      type: 'date',
      range: `${cfg.projectionStartDate},NOW`,
      format: 'yyyy-MM-dd',
      interval: '1',
      'interval.unit': 'DAYS',
    },
    symbol: { type: 'injected' },
  }),
};

export interface DataLakeStackProps extends StackProps {
  /** Environment name (part of the Glue database and Athena workgroup names). */
  readonly environmentName: string;
  readonly dataLake: DataLakeConfig;
  /**
   * Alarms and dashboard widgets of the lake go here.
   * @default no alarms or widgets
   */
  readonly monitoring?: IMonitoring;
}

/** The data-lake handles other stacks receive. */
export interface DataLakeHandles {
  readonly buckets: Readonly<Record<LakeZone, s3.IBucket>>;
  /** Key of every lake zone and of Athena results. */
  readonly lakeKey: kms.IKey;
  /** Key of the audit zone (separate, so audit access is granted separately). */
  readonly auditKey: kms.IKey;
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly tableNames: Readonly<Record<'ticks' | 'bars' | 'backtestResults', string>>;
}

/**
 * Stateful: the lake's keys and buckets, the Glue catalog (partition projection, no crawlers) and the
 * Athena workgroup. Keys and buckets are retained when the stack is deleted; the catalog and the
 * workgroup hold no data (definitions rebuilt from this code) and go with the stack.
 */
export class DataLakeStack extends Stack implements DataLakeHandles {
  readonly lakeKey: kms.IKey;
  readonly auditKey: kms.IKey;
  /** Key of the vendor zone only (vendors' replication roles may encrypt with it). */
  readonly vendorKey: kms.IKey;
  readonly buckets: Readonly<Record<LakeZone, SecureBucket>>;
  /** Receives S3 server access logs of every other bucket (SSE-S3: log delivery cannot write to SSE-KMS). */
  readonly accessLogsBucket: SecureBucket;
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly tableNames: Readonly<Record<'ticks' | 'bars' | 'backtestResults', string>>;
  readonly database: glue.CfnDatabase;
  readonly tables: Readonly<Record<string, glue.CfnTable>>;
  readonly workgroup: athena.CfnWorkGroup;
  /**
   * The only principal that may delete object versions of the raw zone (ticks lost for good
   * otherwise only by lifecycle expiry). Assumed by an operator of this account with MFA.
   */
  readonly rawBreakGlassRole: iam.Role;

  constructor(scope: Construct, id: string, props: DataLakeStackProps) {
    super(scope, id, props);
    const cfg = props.dataLake;

    this.lakeKey = new QuantKey(this, 'LakeKey', { description: 'Quant data lake zones and Athena results' });
    this.auditKey = new QuantKey(this, 'AuditKey', { description: 'Quant write-once audit trail' });
    // The vendor zone's own key: a vendor's replication role may encrypt with it, never with the
    // key of the other zones.
    this.vendorKey = new QuantKey(this, 'VendorKey', { description: 'Quant data lake vendor zone' });

    const accessLogs = new SecureBucket(this, 'AccessLogsBucket', {
      encryption: 's3-managed',
      lifecycle: {
        infrequentAccessAfterDays: 0,
        glacierAfterDays: 0,
        expireAfterDays: cfg.accessLogsExpireDays,
        noncurrentVersionExpireDays: 1,
      },
    });
    this.accessLogsBucket = accessLogs;
    const zoneBucket = (name: string, lifecycle: DataLakeConfig['raw']) =>
      new SecureBucket(this, name, { encryptionKey: this.lakeKey, accessLogsBucket: accessLogs, lifecycle });

    this.buckets = {
      raw: zoneBucket('RawBucket', cfg.raw),
      curated: zoneBucket('CuratedBucket', cfg.curated),
      vendor: new SecureBucket(this, 'VendorBucket', {
        encryptionKey: this.vendorKey,
        accessLogsBucket: accessLogs,
        lifecycle: cfg.vendor,
      }),
      results: zoneBucket('ResultsBucket', cfg.results),
      models: zoneBucket('ModelsBucket', cfg.models),
      athenaResults: zoneBucket('AthenaResultsBucket', {
        infrequentAccessAfterDays: 0,
        glacierAfterDays: 0,
        expireAfterDays: cfg.athenaResultsExpireDays,
        noncurrentVersionExpireDays: 1,
      }),
      audit: new SecureBucket(this, 'AuditBucket', {
        encryptionKey: this.auditKey,
        accessLogsBucket: accessLogs,
        objectLock: { mode: 'compliance', retentionDays: cfg.auditRetentionDays },
      }),
    };

    // Glue and Athena have no generated names; derive them from the environment, not from a literal.
    const env = props.environmentName.toLowerCase().replace(/[^a-z0-9]/g, '_');
    this.databaseName = `quant_${env}`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: this.account,
      databaseInput: {
        name: this.databaseName,
        description: `Quant platform data lake (${props.environmentName})`,
      },
    });

    const tables: Record<string, glue.CfnTable> = {};
    for (const layout of TABLES) {
      const bucket = this.buckets[layout.zone];
      const location = `s3://${bucket.bucketName}/${layout.prefix}/`;
      const template = location + layout.partitionKeys.map((k) => `${k.name}=\${${k.name}}`).join('/') + '/';
      const parameters: Record<string, string> = {
        classification: 'parquet',
        EXTERNAL: 'TRUE',
        'parquet.compression': 'ZSTD',
        'projection.enabled': 'true',
        'storage.location.template': template,
      };
      const projection = PROJECTIONS[layout.name];
      if (!projection) throw new Error(`table ${layout.name}: no partition projection in PROJECTIONS`);
      for (const [key, settings] of Object.entries(projection(cfg))) {
        for (const [setting, value] of Object.entries(settings))
          parameters[`projection.${key}.${setting}`] = value;
      }
      const table = new glue.CfnTable(this, `Table-${layout.name}`, {
        catalogId: this.account,
        databaseName: this.databaseName,
        tableInput: {
          name: layout.name,
          tableType: 'EXTERNAL_TABLE',
          parameters,
          partitionKeys: layout.partitionKeys.map(glueColumn),
          storageDescriptor: {
            location,
            columns: layout.columns.map(glueColumn),
            inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
              parameters: { 'serialization.format': '1' },
            },
          },
        },
      });
      table.addResourceDependency(this.database);
      tables[layout.name] = table;
    }
    this.tables = tables;
    this.tableNames = { ticks: TICKS.name, bars: BARS.name, backtestResults: BACKTEST_RESULTS.name };

    this.workgroupName = `quant-${env.replace(/_/g, '-')}`;
    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workgroupName,
      description: `Quant platform queries (${props.environmentName})`,
      state: 'ENABLED',
      // Deleting the stack fails rather than silently dropping saved queries.
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: cfg.athenaBytesScannedCutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.buckets.athenaResults.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.lakeKey.keyArn },
        },
      },
    });

    // What `quant ... --aws` and operators need: the variable name is in each output's description.
    for (const [name, value] of Object.entries(this.runtimeEnvironment())) {
      new CfnOutput(
        this,
        name.replace(
          /(^|_)([A-Z])([A-Z]*)/g,
          (_m, _u, first: string, rest: string) => first + rest.toLowerCase(),
        ),
        {
          value,
          description: name,
        },
      );
    }

    this.rawBreakGlassRole = this.protectRawVersions();
    this.acknowledgeNistFindings();
    if (props.monitoring) this.addMonitoring(props.monitoring, cfg);
  }

  /**
   * Raw ticks are the one copy of what the market sent: nobody but the break-glass role may delete
   * a version of them (a plain delete only adds a delete marker in the versioned bucket).
   */
  private protectRawVersions(): iam.Role {
    const raw = this.buckets.raw;
    const role = new iam.Role(this, 'RawBreakGlassRole', {
      assumedBy: new iam.AccountRootPrincipal().withConditions({
        Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      }),
      description:
        'Break glass: permanently delete object versions of the raw zone (MFA; audited by CloudTrail)',
      maxSessionDuration: Duration.hours(1),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:DeleteObjectVersion', 's3:ListBucketVersions'],
        resources: [raw.bucketArn, raw.arnForObjects('*')],
      }),
    );
    raw.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyVersionDeletesExceptBreakGlass',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObjectVersion'],
        resources: [raw.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
      }),
    );
    acknowledgeWildcards(role, [
      [
        /^Resource::<RawBucket[0-9A-F]+\.Arn>\/\*$/,
        'Break glass is for any object of the raw zone (which one is known only in the incident); the role needs MFA to assume and holds nothing else.',
      ],
    ]);
    return role;
  }

  /** NIST 800-53 R5 findings of the lake that do not apply, each with its reason. */
  private acknowledgeNistFindings(): void {
    const ack = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
    ack(
      this.accessLogsBucket,
      'NIST.800.53.R5-S3DefaultEncryptionKMS',
      'Target of S3 server access logs, which S3 delivers only to buckets encrypted with SSE-S3.',
    );
    ack(
      this.accessLogsBucket,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'Server access logs expire after dataLake.accessLogsExpireDays and hold nothing needed to restore the lake or to trade; the audit trail proper is the audit bucket.',
    );
    ack(
      this.buckets.results,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'Backtest results and rankings are derived data: a sweep re-run from the lake and the code rebuilds them.',
    );
    ack(
      this.buckets.athenaResults,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'Athena query results: scratch output that expires after dataLake.athenaResultsExpireDays.',
    );
  }

  /**
   * For an environment without disaster recovery: the zones the DisasterRecovery stacks replicate
   * (lib/quant-stage.ts) are not replicated there, by configuration.
   */
  acknowledgeNoReplication(): void {
    for (const zone of ['raw', 'curated', 'vendor', 'models', 'audit'] as const) {
      Validations.of(this.buckets[zone]).acknowledge({
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason:
          'This environment has no disaster recovery (its config has no disasterRecovery section, lib/config/environments.ts): a non-production lake is not replicated to another region; staging and prod replicate it (BucketReplication).',
      });
    }
  }

  /** Environment variables runtime code reads to find the lake (`lakeBuckets`, `createQueryEngine`). */
  runtimeEnvironment(zones: readonly LakeZone[] = ZONES): Record<string, string> {
    const env: Record<string, string> = {
      [ATHENA_WORKGROUP_ENV]: this.workgroupName,
      [GLUE_DATABASE_ENV]: this.databaseName,
    };
    for (const z of zones) env[LAKE_BUCKET_ENV[z]] = this.buckets[z].bucketName;
    return env;
  }

  /**
   * Lets `grantee` run Athena queries in the workgroup over the lake tables: read access to the zones it
   * names, write access to Athena results, and the Glue catalog reads Athena makes on its behalf.
   */
  grantQuery(
    grantee: iam.IGrantable,
    zones: readonly LakeZone[] = ['raw', 'curated', 'vendor', 'results'],
  ): void {
    const workgroupArn = this.formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: this.workgroupName,
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      resourceArns: [workgroupArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:GetPartition',
        'glue:GetPartitions',
      ],
      resourceArns: [
        this.formatArn({ service: 'glue', resource: 'catalog' }),
        this.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
        this.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/*` }),
      ],
    });
    for (const z of zones) this.buckets[z].grantRead(grantee);
    this.buckets.athenaResults.grantReadWrite(grantee);
  }

  private addMonitoring(monitoring: IMonitoring, cfg: DataLakeConfig): void {
    const wg = this.workgroupName;
    const athenaMetric = (metricName: string, state: string, statistic: string) =>
      new cw.Metric({
        namespace: 'AWS/Athena',
        metricName,
        dimensionsMap: { WorkGroup: wg, QueryState: state, QueryType: 'DML' },
        statistic,
        period: Duration.minutes(5),
      });
    const bytesScanned = athenaMetric('ProcessedBytes', 'SUCCEEDED', 'Sum');
    const failedQueries = athenaMetric('TotalExecutionTime', 'FAILED', 'SampleCount');

    monitoring.addAlarm(this, 'AthenaFailedQueriesAlarm', {
      alarmDescription: `Athena queries in workgroup ${wg} are failing (5 or more in 15 minutes)`,
      metric: failedQueries.with({ period: Duration.minutes(15) }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    monitoring.addAlarm(this, 'AthenaBytesScannedAlarm', {
      alarmDescription: `Athena workgroup ${wg} scanned more than ${cfg.athenaHourlyBytesAlarm} bytes in an hour (cost)`,
      metric: bytesScanned.with({ period: Duration.hours(1) }),
      threshold: cfg.athenaHourlyBytesAlarm,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    const zones: LakeZone[] = ['raw', 'curated', 'vendor', 'results', 'models'];
    const daily = Duration.days(1);
    const bucketMetric = (z: LakeZone, metricName: string, storageType: string) =>
      new cw.Metric({
        namespace: 'AWS/S3',
        metricName,
        dimensionsMap: { BucketName: this.buckets[z].bucketName, StorageType: storageType },
        statistic: 'Average',
        period: daily,
        label: z,
      });
    monitoring.addSection('Data lake', [
      [
        new cw.GraphWidget({ title: 'Athena bytes scanned', left: [bytesScanned], width: 8 }),
        new cw.GraphWidget({ title: 'Athena failed queries', left: [failedQueries], width: 8 }),
        new cw.GraphWidget({
          title: 'Athena query time (p90, ms)',
          left: [athenaMetric('TotalExecutionTime', 'SUCCEEDED', 'p90')],
          width: 8,
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'Bucket size, Standard (bytes, daily)',
          left: zones.map((z) => bucketMetric(z, 'BucketSizeBytes', 'StandardStorage')),
          width: 12,
        }),
        new cw.GraphWidget({
          title: 'Objects per bucket (daily)',
          left: zones.map((z) => bucketMetric(z, 'NumberOfObjects', 'AllStorageTypes')),
          width: 12,
        }),
      ],
    ]);
  }
}
