import { FEED_HOST_NAMESPACE } from '../../../src/contract/metrics';
import { feedChannelLog } from './systemd';

/** ENA counters of packets dropped because the instance exceeded its PPS or bandwidth allowance. */
export const ENA_ALLOWANCE_METRICS = [
  'bw_in_allowance_exceeded',
  'pps_allowance_exceeded',
  'conntrack_allowance_exceeded',
] as const;

/** The name under which the agent publishes an ethtool counter in FEED_HOST_NAMESPACE. */
export const enaMetricName = (counter: (typeof ENA_ALLOWANCE_METRICS)[number]): string =>
  `ethtool_${counter}`;

/**
 * CloudWatch agent config of a handler host: each channel's stdout (EMF lines included) and stderr to
 * the log group, one stream per instance and file; ENA allowance counters and memory as host metrics.
 */
export function feedAgentConfig(channelIds: readonly number[], logGroupName: string): unknown {
  return {
    agent: { metrics_collection_interval: 60 },
    logs: {
      logs_collected: {
        files: {
          collect_list: channelIds.flatMap((id) =>
            (['out', 'err'] as const).map((stream) => ({
              file_path: feedChannelLog(id, stream),
              log_group_name: logGroupName,
              log_stream_name: `{instance_id}/channel-${id}${stream === 'err' ? '.err' : ''}`,
            })),
          ),
        },
      },
    },
    metrics: {
      namespace: FEED_HOST_NAMESPACE,
      append_dimensions: { InstanceId: '${aws:InstanceId}' },
      metrics_collected: {
        ethtool: { metrics_include: [...ENA_ALLOWANCE_METRICS] },
        mem: { measurement: ['mem_used_percent'] },
      },
    },
  };
}
