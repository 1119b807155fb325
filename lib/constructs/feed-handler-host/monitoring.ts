import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { FEED_HOST_NAMESPACE, FEED_METRICS } from '../../../src/contract/metrics';
import type { IMonitoring } from '../../stacks/monitoring-stack';
import { enaMetricName } from './agent-config';
import { graph } from '../alarms';

export interface FeedMonitoringProps {
  readonly monitoring: IMonitoring;
  readonly channelIds: readonly number[];
  /** The handler instances, each with the letter of its AZ (`A` for us-east-1a). */
  readonly instances: readonly { readonly instance: ec2.Instance; readonly letter: string }[];
  readonly noPacketsAlarmMinutes: number;
  readonly gapAlarmThreshold: number;
  readonly recoveryAlarmThreshold: number;
}

/**
 * Alarms (in `scope`) and the dashboard's Feed handler section: packets per channel (no data means no
 * handler), gaps, recoveries and subscriber drops over all channels, status checks per instance.
 */
export function addFeedMonitoring(scope: Construct, p: FeedMonitoringProps): void {
  const { monitoring, channelIds } = p;
  const period = Duration.minutes(1);
  const feedMetric = (name: string, channel: number, label: string, statistic = 'Sum', at = period) =>
    new cw.Metric({
      namespace: FEED_METRICS.namespace,
      metricName: name,
      dimensionsMap: { [FEED_METRICS.dimension]: String(channel) },
      statistic,
      period: at,
      label,
    });
  const allChannels = (name: string, label: string, at: Duration): cw.IMetric => {
    const metrics = channelIds.map((id) => feedMetric(name, id, `${label} ${id}`, 'Sum', at));
    return metrics.length === 1
      ? metrics[0]!.with({ label })
      : new cw.MathExpression({
          expression: metrics.map((_, i) => `m${i}`).join(' + '),
          usingMetrics: Object.fromEntries(metrics.map((m, i) => [`m${i}`, m])),
          period: at,
          label,
        });
  };
  const hostMetric = (namespace: string, metricName: string, statistic: string) =>
    p.instances.map(
      ({ instance, letter }) =>
        new cw.Metric({
          namespace,
          metricName,
          dimensionsMap: { InstanceId: instance.instanceId },
          statistic,
          period,
          label: `handler ${letter}`,
        }),
    );

  for (const id of channelIds) {
    monitoring.alarm(scope, `NoPacketsAlarm${id}`, {
      description: `Feed channel ${id}: no packet on feed A or B (heartbeats included), or the handler stopped reporting`,
      metric: new cw.MathExpression({
        expression: 'FILL(a, 0) + FILL(b, 0)',
        usingMetrics: {
          a: feedMetric(FEED_METRICS.packetsA, id, 'A'),
          b: feedMetric(FEED_METRICS.packetsB, id, 'B'),
        },
        period,
        label: `channel ${id} packets`,
      }),
      threshold: 1,
      evaluationPeriods: p.noPacketsAlarmMinutes,
      comparison: '<',
      // No data means no handler: that is the outage this alarm exists for.
      treatMissingData: cw.TreatMissingData.BREACHING,
    });
  }
  const fiveMinutes = Duration.minutes(5);
  monitoring.alarm(scope, 'GapAlarm', {
    description: `Feed gaps (lost on both A and B) above ${p.gapAlarmThreshold} in 5 minutes`,
    metric: allChannels(FEED_METRICS.gaps, 'gaps', fiveMinutes),
    threshold: p.gapAlarmThreshold,
    comparison: '>',
  });
  monitoring.alarm(scope, 'RecoveryAlarm', {
    description: `Feed recoveries (snapshot or TCP replay) above ${p.recoveryAlarmThreshold} in 5 minutes`,
    metric: allChannels(FEED_METRICS.recoveries, 'recoveries', fiveMinutes),
    threshold: p.recoveryAlarmThreshold,
    comparison: '>',
  });
  monitoring.alarm(scope, 'SubscriberDropAlarm', {
    description: 'A relay subscriber was too slow and was disconnected (or its packets dropped)',
    metric: allChannels(FEED_METRICS.subscriberDrops, 'subscriber drops', fiveMinutes),
    threshold: 1,
  });
  for (const { instance, letter } of p.instances) {
    monitoring.alarm(scope, `InstanceStatusAlarm${letter}`, {
      description: `Feed handler ${letter} failed its EC2 status checks (the A/B pair runs on one host)`,
      metric: new cw.Metric({
        namespace: 'AWS/EC2',
        metricName: 'StatusCheckFailed',
        dimensionsMap: { InstanceId: instance.instanceId },
        statistic: 'Maximum',
        period,
      }),
      threshold: 1,
      evaluationPeriods: 2,
    });
  }

  const perSecond = (name: string, feed: string): cw.IMetric[] =>
    channelIds.map((id) => {
      const m = `${feed.toLowerCase()}${id}`;
      return new cw.MathExpression({
        expression: `${m} / PERIOD(${m})`,
        usingMetrics: { [m]: feedMetric(name, id, '') },
        period,
        label: `${id} ${feed}`,
      });
    });
  const sums = (name: string, label: string) =>
    channelIds.map((id) => feedMetric(name, id, `${id} ${label}`));
  const latency = [FEED_METRICS.latencyP50, FEED_METRICS.latencyP99, FEED_METRICS.latencyP999];
  monitoring.addSection('Feed handler', [
    [
      graph('Packets/s per feed', [
        ...perSecond(FEED_METRICS.packetsA, 'A'),
        ...perSecond(FEED_METRICS.packetsB, 'B'),
      ]),
      graph('Gaps and recoveries', sums(FEED_METRICS.gaps, 'gaps'), {
        right: sums(FEED_METRICS.recoveries, 'recoveries'),
      }),
      graph('Duplicates (arbitrated) and subscriber drops', sums(FEED_METRICS.duplicates, 'duplicates'), {
        right: sums(FEED_METRICS.subscriberDrops, 'drops'),
      }),
    ],
    [
      graph(
        'ENA packets dropped over allowance (PPS / bandwidth)',
        hostMetric(FEED_HOST_NAMESPACE, enaMetricName('pps_allowance_exceeded'), 'Sum'),
        { right: hostMetric(FEED_HOST_NAMESPACE, enaMetricName('bw_in_allowance_exceeded'), 'Sum') },
      ),
      graph(
        'Latency, first copy received to relayed and decoded (µs)',
        channelIds.flatMap((id) =>
          latency.map((name) =>
            feedMetric(name, id, `${id} ${name.replace('Latency', '').toLowerCase()}`, 'Maximum'),
          ),
        ),
      ),
      graph('Handler hosts: CPU %', hostMetric('AWS/EC2', 'CPUUtilization', 'Maximum')),
    ],
  ]);
}
