import { describe, expect, it } from 'vitest';
import type { FeedChannelConfig } from '../../../../lib/config';
import {
  ENA_ALLOWANCE_METRICS,
  enaMetricName,
  feedAgentConfig,
} from '../../../../lib/constructs/feed-handler-host/agent-config';
import {
  feedChannelLog,
  feedRunArgs,
  feedUnit,
  feedUnitName,
  writeFileCommand,
} from '../../../../lib/constructs/feed-handler-host/systemd';

const channel: FeedChannelConfig = {
  id: 310,
  feedA: { group: '224.0.31.1', port: 14310 },
  feedB: { group: '224.0.32.1', port: 15310 },
  relayTcpPort: 9310,
  relayUdp: [],
  metricsPort: 9464,
};
const SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:quant/cme-replay-Ab12Cd';

describe('feed handler host: systemd units (pure)', () => {
  it('the smallest channel: no snapshot, relay, replay or Kinesis flags', () => {
    expect(feedRunArgs({ channel, schemaPath: '/s.xml', multicastIp: '10.0.0.5' })).toEqual([
      '--aws feed run',
      '--channel 310',
      '--schema /s.xml',
      '--feed-a 224.0.31.1:14310',
      '--feed-b 224.0.32.1:15310',
      '--iface 10.0.0.5',
      '--relay-tcp 0.0.0.0:9310',
      '--metrics-port 9464',
      '--emf',
    ]);
  });

  it('every optional flag, in the order the unit passes them', () => {
    const full: FeedChannelConfig = {
      ...channel,
      snapshot: { group: '224.0.31.22', port: 14310 },
      relayUdp: ['10.10.5.7:7000', '10.10.5.8:7000'],
      tcpReplay: '10.200.9.9:10000',
    };
    const args = feedRunArgs({
      channel: full,
      schemaPath: '/s.xml',
      multicastIp: '10.0.0.5',
      replaySecretArn: SECRET,
      ticksStreamName: 'ticks',
    });
    expect(args.slice(5)).toEqual([
      '--snapshot 224.0.31.22:14310',
      '--iface 10.0.0.5',
      '--relay-tcp 0.0.0.0:9310',
      '--relay-udp 10.10.5.7:7000 10.10.5.8:7000',
      '--replay 10.200.9.9:10000',
      `--replay-secret ${SECRET}`,
      '--metrics-port 9464',
      '--emf',
      '--kinesis ticks',
    ]);
  });

  it('the unit file, as written by hand', () => {
    const unit = feedUnit({ channel, schemaPath: '/s.xml', multicastIp: '10.0.0.5', region: 'us-east-1' });
    expect(unit).toBe(`[Unit]
Description=Quant CME MDP 3.0 feed handler, channel 310
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
User=quant-feed
Environment=AWS_REGION=us-east-1
Environment=QUANT_MODE=aws
Environment=NODE_OPTIONS=--enable-source-maps
ExecStart=/usr/local/bin/quant-feed-node /opt/quant-feed/feed-handler.mjs --aws feed run --channel 310 --schema /s.xml --feed-a 224.0.31.1:14310 --feed-b 224.0.32.1:15310 --iface 10.0.0.5 --relay-tcp 0.0.0.0:9310 --metrics-port 9464 --emf
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
StandardOutput=append:/var/log/quant-feed/channel-310.log
StandardError=append:/var/log/quant-feed/channel-310.err.log

[Install]
WantedBy=multi-user.target`);
    expect(feedUnitName(channel)).toBe('quant-feed-310');
  });

  it('writes files with a quoted heredoc (no expansion of $ in the text)', () => {
    expect(writeFileCommand('/etc/x.conf', 'a = $HOME\nb')).toBe(
      "cat > /etc/x.conf <<'EOF'\na = $HOME\nb\nEOF",
    );
  });
});

describe('feed handler host: CloudWatch agent config (pure)', () => {
  it("ships each channel's stdout and stderr to the log group, one stream per instance and file", () => {
    const config = feedAgentConfig([310, 312], 'the-group') as {
      logs: { logs_collected: { files: { collect_list: Record<string, string>[] } } };
      metrics: { namespace: string; metrics_collected: { ethtool: { metrics_include: string[] } } };
    };
    expect(config.logs.logs_collected.files.collect_list).toEqual([
      {
        file_path: '/var/log/quant-feed/channel-310.log',
        log_group_name: 'the-group',
        log_stream_name: '{instance_id}/channel-310',
      },
      {
        file_path: '/var/log/quant-feed/channel-310.err.log',
        log_group_name: 'the-group',
        log_stream_name: '{instance_id}/channel-310.err',
      },
      {
        file_path: '/var/log/quant-feed/channel-312.log',
        log_group_name: 'the-group',
        log_stream_name: '{instance_id}/channel-312',
      },
      {
        file_path: '/var/log/quant-feed/channel-312.err.log',
        log_group_name: 'the-group',
        log_stream_name: '{instance_id}/channel-312.err',
      },
    ]);
    // The files are the ones the units append to.
    expect(feedChannelLog(312, 'err')).toBe('/var/log/quant-feed/channel-312.err.log');
    expect(config.metrics.namespace).toBe('Quant/FeedHost');
    expect(config.metrics.metrics_collected.ethtool.metrics_include).toEqual([
      'bw_in_allowance_exceeded',
      'pps_allowance_exceeded',
      'conntrack_allowance_exceeded',
    ]);
    // The agent prefixes ethtool counters with `ethtool_` (the names the dashboard graphs).
    expect(ENA_ALLOWANCE_METRICS.map(enaMetricName)).toContain('ethtool_pps_allowance_exceeded');
  });
});
