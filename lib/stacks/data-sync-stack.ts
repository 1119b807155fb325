/**
 * Vendor data sync: copies a vendor's bucket (another account, another region) into the vendor zone.
 *
 * - pull: DataSync (S3 -> S3) with a role the vendor's bucket policy admits (`quant sync policy
 *   --print`): full-copy tasks (one per prefix, started by hand or with `quant sync start`) and a
 *   scheduled incremental, verified, with task reports in the vendor zone and CloudWatch logs.
 * - push: the vendor replicates into the vendor zone (cross-account, cross-region, SSE-KMS); this
 *   stack lets the vendor's replication role write replicas under `<vendorName>/` and use the lake key.
 * Glue tables with partition projection make each vendor dataset queryable as soon as it lands.
 */
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  AreaStack,
  ProjectedGlueTable,
  TASK_REPORT_PREFIX,
  VendorPullSync,
  VendorPushReplication,
} from '../constructs';
import type { VendorDatasetConfig, VendorSyncConfig } from '../config/types';
import type { ColumnType } from '../../src/contract/lake';
import { GLUE_TYPE } from '../../src/contract/lake';
import type { DataLakeHandles } from './data-lake-stack';
import type { IMonitoring } from './monitoring-stack';

export { TASK_REPORT_PREFIX };

export interface DataSyncStackProps extends StackProps {
  readonly vendorSync: VendorSyncConfig;
  /** The vendor zone bucket, the lake key and the Glue database. */
  readonly lake: DataLakeHandles;
  /** Alarms (failed or late sync), dashboard widgets, log key and retention. */
  readonly monitoring: IMonitoring;
}

/** The DuckDB type of each Hive type a vendor dataset may use (src/contract/lake.ts GLUE_TYPE, inverted). */
const DUCKDB_TYPE = Object.fromEntries(
  Object.entries(GLUE_TYPE).map(([duck, hive]) => [hive, duck as ColumnType]),
) as Readonly<Record<string, ColumnType>>;

export class DataSyncStack extends AreaStack {
  /** Pull mode: DataSync's role, tasks and logs. */
  readonly pull?: VendorPullSync;

  constructor(scope: Construct, id: string, props: DataSyncStackProps) {
    super(scope, id, props);
    const cfg = props.vendorSync;
    const vendorZone = props.lake.buckets.vendor;
    // The vendor zone has its own key (DataLakeStack): a vendor's role never gets the other zones' key.
    const vendorKey = vendorZone.encryptionKey;
    if (!vendorKey) throw new Error('DataSyncStack: the vendor zone bucket has no KMS key');
    // What `quant sync policy --print --config` needs in both modes (the outputs add the rest).
    const policyBase = {
      account: this.account,
      region: this.region,
      vendorAccount: cfg.vendorAccount,
      vendorBucket: cfg.vendorBucket,
      vendorRegion: cfg.vendorRegion,
      vendorPrefix: cfg.vendorPrefix,
    };
    const area = { sync: cfg, vendorZone, vendorKey, policyBase };
    if (cfg.mode !== 'push') {
      this.pull = new VendorPullSync(this, 'Pull', { ...area, monitoring: props.monitoring });
    }
    if (cfg.mode !== 'pull') new VendorPushReplication(this, 'Push', area);

    // Glue tables with partition projection: each vendor dataset is queryable as soon as it lands.
    for (const d of cfg.datasets) this.addDatasetTable(d, props);
  }

  private addDatasetTable(d: VendorDatasetConfig, props: DataSyncStackProps): void {
    const { vendorName } = props.vendorSync;
    new ProjectedGlueTable(this, `Table-${d.table}`, {
      table: {
        name: d.table,
        prefix: `${vendorName}/${d.prefix}`,
        columns: d.columns.map((c) => ({ name: c.name, type: DUCKDB_TYPE[c.type]! })),
        partitionKeys: d.datePartition ? [{ name: d.datePartition.name, type: 'DATE' }] : [],
      },
      bucket: props.lake.buckets.vendor,
      databaseName: props.lake.databaseName,
      projectionStart: d.datePartition?.start,
      format: d.format,
      description: `Vendor dataset ${d.table} (${d.format}) synced from the vendor's bucket`,
    });
  }
}
