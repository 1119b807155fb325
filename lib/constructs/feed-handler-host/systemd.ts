/**
 * The texts a feed handler host is configured with at boot, as pure functions of the config: the
 * kernel settings, each channel's `quant feed run` command line and systemd unit, and the boot
 * script's file writes. lib/constructs/feed-handler-host/user-data.ts puts them together.
 */
import type { FeedChannelConfig, FeedGroupConfig } from '../../config/types';
import { QUANT_MODE_AWS, QUANT_MODE_ENV } from '../../../src/contract/env';
import { FEED_HOST_PATHS, FEED_SERVICE_USER } from '../../../src/contract/feed';

/**
 * Multicast arrives on the second ENI from sources routed via the first: loose reverse-path filtering.
 * Transit Gateway speaks IGMPv2; the handler asks for 8 MiB receive buffers.
 */
export const FEED_SYSCTL = `net.ipv4.conf.all.rp_filter = 2
net.ipv4.conf.default.rp_filter = 2
net.ipv4.conf.all.force_igmp_version = 2
net.core.rmem_max = 33554432
net.core.rmem_default = 8388608`;

/** A shell command that writes `text` to `file` verbatim (a quoted heredoc: no expansion). */
export function writeFileCommand(file: string, text: string): string {
  return `cat > ${file} <<'EOF'\n${text}\nEOF`;
}

/** The systemd service of one channel. */
export function feedUnitName(channel: Pick<FeedChannelConfig, 'id'>): string {
  return `quant-feed-${channel.id}`;
}

/** Where the unit of one channel writes its stdout (EMF lines) and stderr. */
export function feedChannelLog(channelId: number, stream: 'out' | 'err'): string {
  return `${FEED_HOST_PATHS.logs}/channel-${channelId}${stream === 'err' ? '.err' : ''}.log`;
}

export interface FeedRunOptions {
  readonly channel: FeedChannelConfig;
  /** Where the host keeps the SBE schema. */
  readonly schemaPath: string;
  /** Address of the market-data ENI the handler joins the groups on (may be a CloudFormation token). */
  readonly multicastIp: string;
  /** Secret of the CME TCP replay logon (used only by a channel with `tcpReplay`). */
  readonly replaySecretArn?: string;
  /** Kinesis stream normalized trades and quotes go to; none: no publishing. */
  readonly ticksStreamName?: string;
}

const endpoint = (g: FeedGroupConfig): string => `${g.group}:${g.port}`;

/** The arguments of `quant feed run` for one channel (each element one flag with its value). */
export function feedRunArgs(o: FeedRunOptions): string[] {
  const c = o.channel;
  return [
    '--aws feed run',
    `--channel ${c.id}`,
    `--schema ${o.schemaPath}`,
    `--feed-a ${endpoint(c.feedA)}`,
    `--feed-b ${endpoint(c.feedB)}`,
    ...(c.snapshot ? [`--snapshot ${endpoint(c.snapshot)}`] : []),
    `--iface ${o.multicastIp}`,
    `--relay-tcp 0.0.0.0:${c.relayTcpPort}`,
    ...(c.relayUdp.length > 0 ? [`--relay-udp ${c.relayUdp.join(' ')}`] : []),
    ...(c.tcpReplay ? [`--replay ${c.tcpReplay}`, `--replay-secret ${o.replaySecretArn}`] : []),
    `--metrics-port ${c.metricsPort}`,
    '--emf',
    ...(o.ticksStreamName ? [`--kinesis ${o.ticksStreamName}`] : []),
  ];
}

/** The systemd unit of one channel: restarted on failure, forever, as the service user. */
export function feedUnit(o: FeedRunOptions & { readonly region: string }): string {
  const id = o.channel.id;
  return `[Unit]
Description=Quant CME MDP 3.0 feed handler, channel ${id}
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
User=${FEED_SERVICE_USER}
Environment=AWS_REGION=${o.region}
Environment=${QUANT_MODE_ENV}=${QUANT_MODE_AWS}
Environment=NODE_OPTIONS=--enable-source-maps
ExecStart=${FEED_HOST_PATHS.node} ${[FEED_HOST_PATHS.bundle, ...feedRunArgs(o)].join(' ')}
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
StandardOutput=append:${feedChannelLog(id, 'out')}
StandardError=append:${feedChannelLog(id, 'err')}

[Install]
WantedBy=multi-user.target`;
}
