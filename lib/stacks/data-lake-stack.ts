import { CfnOutput } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AreaStack, LakeCatalog, LakeMonitoring, LakeZones } from '../constructs';
import type { SecureBucket } from '../constructs';
import type { DataLakeConfig } from '../config/types';
import type { IMonitoring } from './monitoring-stack';
import {
  ATHENA_WORKGROUP_ENV,
  BACKTEST_RESULTS,
  BARS,
  GLUE_DATABASE_ENV,
  LAKE_BUCKET_ENV,
  TICKS,
  ZONES,
  type Zone,
} from '../../src/contract/lake';

/** A lake zone (src/contract/lake.ts). */
export type LakeZone = Zone;

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
 * Stateful: the lake's keys and buckets (LakeZones), the Glue catalog with partition projection and the
 * Athena workgroup (LakeCatalog). Keys and buckets are retained when the stack is deleted; the catalog
 * and the workgroup hold no data (definitions rebuilt from this code) and go with the stack.
 */
export class DataLakeStack extends AreaStack implements DataLakeHandles {
  readonly zones: LakeZones;
  readonly catalog: LakeCatalog;
  readonly lakeKey: kms.IKey;
  readonly auditKey: kms.IKey;
  readonly buckets: Readonly<Record<LakeZone, SecureBucket>>;
  /** Receives S3 server access logs of every other bucket. */
  readonly accessLogsBucket: SecureBucket;
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly tableNames: Readonly<Record<'ticks' | 'bars' | 'backtestResults', string>>;

  constructor(scope: Construct, id: string, props: DataLakeStackProps) {
    super(scope, id, props);
    const cfg = props.dataLake;

    this.zones = new LakeZones(this, 'Zones', {
      lifecycles: cfg,
      athenaResultsExpireDays: cfg.athenaResultsExpireDays,
      accessLogsExpireDays: cfg.accessLogsExpireDays,
      auditRetentionDays: cfg.auditRetentionDays,
    });
    ({ lakeKey: this.lakeKey, auditKey: this.auditKey, buckets: this.buckets } = this.zones);
    this.accessLogsBucket = this.zones.accessLogsBucket;

    this.catalog = new LakeCatalog(this, 'Catalog', {
      environmentName: props.environmentName,
      buckets: this.buckets,
      resultsKey: this.lakeKey,
      projectionStart: cfg.projectionStartDate,
      bytesScannedCutoffPerQuery: cfg.athenaBytesScannedCutoff,
    });
    ({ databaseName: this.databaseName, workgroupName: this.workgroupName } = this.catalog);
    this.tableNames = { ticks: TICKS.name, bars: BARS.name, backtestResults: BACKTEST_RESULTS.name };

    // What `quant ... --aws` and operators need: the variable name is in each output's description.
    for (const [name, value] of Object.entries(this.runtimeEnvironment())) {
      const outputId = name.replace(
        /(^|_)([A-Z])([A-Z]*)/g,
        (_m, _u, a: string, b: string) => a + b.toLowerCase(),
      );
      new CfnOutput(this, outputId, { value, description: name });
    }
    if (props.monitoring) {
      new LakeMonitoring(this, 'Monitoring', {
        monitoring: props.monitoring,
        workgroupName: this.workgroupName,
        buckets: this.buckets,
        hourlyBytesAlarm: cfg.athenaHourlyBytesAlarm,
      });
    }
  }

  /** For an environment without disaster recovery: its zones are not replicated, by configuration. */
  acknowledgeNoReplication(): void {
    this.zones.acknowledgeNoReplication();
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
    this.catalog.grantQuery(
      grantee,
      zones.map((z) => this.buckets[z]),
    );
  }
}
