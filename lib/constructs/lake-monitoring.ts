import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { Zone } from '../../src/contract/lake';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { Area } from './area';
import { graph } from './alarms';

export interface LakeMonitoringProps {
  /** Where the alarms and the dashboard section go. */
  readonly monitoring: IMonitoring;
  /** The Athena workgroup whose queries are watched. */
  readonly workgroupName: string;
  /** The zones whose size is graphed. */
  readonly buckets: Readonly<Record<Zone, s3.IBucket>>;
  /**
   * Alarm when the workgroup scans more than this many bytes in an hour (a cost guard).
   * @default 1 TB
   */
  readonly hourlyBytesAlarm?: number;
}

/** Alarms on failing and costly Athena queries, and the lake's dashboard section (queries, bucket sizes). */
export class LakeMonitoring extends Area {
  constructor(scope: Construct, id: string, props: LakeMonitoringProps) {
    super(scope, id);
    const hourlyBytesAlarm = props.hourlyBytesAlarm ?? 1_000_000_000_000;
    const wg = props.workgroupName;
    const { monitoring } = props;
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

    monitoring.alarm(this, 'AthenaFailedQueriesAlarm', {
      description: `Athena queries in workgroup ${wg} are failing (5 or more in 15 minutes)`,
      metric: failedQueries.with({ period: Duration.minutes(15) }),
      threshold: 5,
    });
    monitoring.alarm(this, 'AthenaBytesScannedAlarm', {
      description: `Athena workgroup ${wg} scanned more than ${hourlyBytesAlarm} bytes in an hour (cost)`,
      metric: bytesScanned.with({ period: Duration.hours(1) }),
      threshold: hourlyBytesAlarm,
      comparison: '>',
    });

    const zones: Zone[] = ['raw', 'curated', 'vendor', 'results', 'models'];
    const daily = Duration.days(1);
    const bucketMetric = (z: Zone, metricName: string, storageType: string) =>
      new cw.Metric({
        namespace: 'AWS/S3',
        metricName,
        dimensionsMap: { BucketName: props.buckets[z].bucketName, StorageType: storageType },
        statistic: 'Average',
        period: daily,
        label: z,
      });
    monitoring.addSection('Data lake', [
      [
        graph('Athena bytes scanned', [bytesScanned]),
        graph('Athena failed queries', [failedQueries]),
        graph('Athena query time (p90, ms)', [athenaMetric('TotalExecutionTime', 'SUCCEEDED', 'p90')]),
      ],
      [
        graph(
          'Bucket size, Standard (bytes, daily)',
          zones.map((z) => bucketMetric(z, 'BucketSizeBytes', 'StandardStorage')),
          { width: 12 },
        ),
        graph(
          'Objects per bucket (daily)',
          zones.map((z) => bucketMetric(z, 'NumberOfObjects', 'AllStorageTypes')),
          { width: 12 },
        ),
      ],
    ]);
  }
}
