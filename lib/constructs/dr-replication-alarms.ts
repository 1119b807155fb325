import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { IMonitoring } from '../stacks/monitoring-stack';
import type { BucketReplication, ReplicatedBucket } from './bucket-replication';
import type { TableReplicator } from './table-replicator';
import { Area } from './area';
import { graph } from './alarms';

export interface DrReplicationAlarmsProps {
  readonly monitoring: IMonitoring;
  readonly drRegion: string;
  readonly replicator: TableReplicator;
  /** The lake's replication and the buckets it replicates. */
  readonly replication: BucketReplication;
  readonly buckets: readonly ReplicatedBucket[];
  /** Table replica lag that raises the alarm, in seconds (RPO 1 minute). */
  readonly tableLagSeconds: number;
  /** Lake replication latency (slowest zone) that raises the alarm, in seconds. */
  readonly lakeLatencySeconds: number;
}

/**
 * Replication to the DR region, watched (docs/disaster-recovery.md): table replica lag, changes the
 * replicator gave up on, its errors, the lake's replication latency and failed objects; and the
 * dashboard section "Disaster recovery".
 */
export class DrReplicationAlarms extends Area {
  constructor(scope: Construct, id: string, props: DrReplicationAlarmsProps) {
    super(scope, id);
    const { monitoring, replicator, replication, buckets, drRegion } = props;
    const minute = Duration.minutes(1);
    const lag = replicator.metricLag();
    const tableLag = monitoring.alarm(this, 'TableReplicationLag', {
      description: `Trading tables' DR replica lags by more than ${props.tableLagSeconds} s (RPO 1 minute): see docs/disaster-recovery.md`,
      metric: lag,
      threshold: props.tableLagSeconds * 1000,
      comparison: '>',
    });
    monitoring.alarm(this, 'TableReplicationFailures', {
      description: 'The DR replica missed a change (records on the failure queue): resynchronise it',
      metric: replicator.failureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparison: '>',
    });
    monitoring.alarm(this, 'TableReplicatorErrors', {
      description: 'The trading-table replicator fails (the replica falls behind)',
      metric: replicator.function.metricErrors({ period: Duration.minutes(5) }),
      threshold: 0,
      comparison: '>',
    });

    const ids = buckets.map((_, i) => `z${i}`);
    const over = (
      expression: string,
      label: string,
      f: (b: ReplicatedBucket) => cw.Metric,
      period: Duration,
    ) =>
      new cw.MathExpression({
        expression: `${expression}([${ids.join(',')}])`,
        usingMetrics: Object.fromEntries(buckets.map((b, i) => [ids[i], f(b)])),
        label,
        period,
      });
    monitoring.alarm(this, 'LakeReplicationLatency', {
      description: `Lake replication to ${drRegion} takes longer than ${props.lakeLatencySeconds} s`,
      metric: over('MAX', 'Slowest zone', (b) => replication.metricLatency(b, { period: minute }), minute),
      threshold: props.lakeLatencySeconds,
      comparison: '>',
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
    const fiveMinutes = Duration.minutes(5);
    monitoring.alarm(this, 'LakeReplicationFailures', {
      description: `Objects failed to replicate to ${drRegion}`,
      metric: over(
        'SUM',
        'Failed operations',
        (b) => replication.metricFailed(b, { period: fiveMinutes }),
        fiveMinutes,
      ),
      threshold: 0,
      comparison: '>',
    });

    monitoring.addSection('Disaster recovery', [
      [
        graph(`Trading tables → ${drRegion}: replication lag (ms, max)`, [lag], {
          leftAnnotations: [{ value: 60_000, label: 'RPO 1 minute' }],
        }),
        graph(
          `Lake → ${drRegion}: replication latency (s, max)`,
          buckets.map((b) => replication.metricLatency(b, { period: minute })),
          { leftAnnotations: [{ value: props.lakeLatencySeconds, label: 'alarm' }] },
        ),
        new cw.AlarmStatusWidget({ title: 'Table replication', alarms: [tableLag], width: 8 }),
      ],
    ]);
  }
}
