/**
 * The CME MDP 3.0 feed handler on EC2: a Transit Gateway multicast domain spanning the handler
 * subnets (lib/constructs/multicast-domain.ts) and one handler instance per AZ, a hot-hot A/B pair
 * (lib/constructs/feed-handler-host.ts), each handler's market-data ENI a static member of every feed
 * group, the virtual routers' ENIs (from config) the static sources. The handlers run in the platform
 * VPC's private subnets, or in a dedicated feed VPC built here.
 *
 * What AWS cannot provision (GRE tunnels, PIM, static IGMP joins on the virtual router) is the
 * on-premises runbook in docs/feed-handler.md.
 */
import { Stack } from 'aws-cdk-lib';
import type { CfnElement, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';
import type { FeedChannelConfig, FeedConfig, FeedGroupConfig, NetworkConfig } from '../config/types';
import { ConfigError } from '../config/errors';
import { EncryptedLogGroup, FeedHandlerHost, MulticastDomain, feedGroups } from '../constructs';
import type { IMonitoring } from './monitoring-stack';

/** A complete secret ARN: the IAM grant names it exactly, so the random suffix must be there. */
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function octets(ip: string): number[] | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  return o.every((x) => x <= 255) ? o : undefined;
}

function isCidr(s: string): boolean {
  const [ip, mask, ...rest] = s.split('/');
  return (
    rest.length === 0 && octets(ip ?? '') !== undefined && /^\d{1,2}$/.test(mask ?? '') && Number(mask) <= 32
  );
}

/** Checks the feed config, naming the field that is wrong (`feed.channels[0].feedA.group: ...`). */
export function validateFeedConfig(f: FeedConfig, network: NetworkConfig): void {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`feed.${field}: ${problem}`);
  };
  const port = (field: string, p: number, min = 1): void => {
    if (!Number.isInteger(p) || p < min || p > 65_535)
      fail(field, `must be an integer ${min}-65535, got ${p}`);
  };
  const cidrs = (field: string, list: readonly string[], min = 0): void => {
    if (list.length < min) fail(field, `at least ${min} needed`);
    list.forEach((c, i) => {
      if (!isCidr(c)) fail(`${field}[${i}]`, `expected an IPv4 CIDR such as 10.0.0.0/24, got "${c}"`);
    });
  };
  if (f.dedicatedVpcCidr !== undefined) {
    const mask = Number(f.dedicatedVpcCidr.split('/')[1]);
    if (!isCidr(f.dedicatedVpcCidr) || mask < 16 || mask > 24)
      fail('dedicatedVpcCidr', `expected an IPv4 CIDR with a /16 to /24 mask, got "${f.dedicatedVpcCidr}"`);
  }
  if (f.availabilityZones.length === 0) fail('availabilityZones', 'at least one AZ (two for an A/B pair)');
  if (new Set(f.availabilityZones).size !== f.availabilityZones.length)
    fail('availabilityZones', 'duplicates');
  const foreign = f.availabilityZones.filter((az) => !network.availabilityZones.includes(az));
  if (foreign.length > 0)
    fail(
      'availabilityZones',
      `${foreign.join(', ')} not in network.availabilityZones (${network.availabilityZones.join(', ')})`,
    );
  const type = /^([a-z]+)(\d+)([a-z-]*)\.(\d*[a-z]+\d*)$/.exec(f.instanceType);
  if (!type)
    fail('instanceType', `expected an EC2 instance type such as c6in.xlarge, got "${f.instanceType}"`);
  else if (!type[3]!.includes('n'))
    fail(
      'instanceType',
      `"${f.instanceType}" is not network-optimized (use a type with the n attribute: c6in, c7gn, m6in, ...)`,
    );
  if (!Number.isInteger(f.rootVolumeGiB) || f.rootVolumeGiB < 8 || f.rootVolumeGiB > 16_384)
    fail('rootVolumeGiB', `must be an integer 8-16384, got ${f.rootVolumeGiB}`);
  if (!/^\/[A-Za-z0-9._/-]+$/.test(f.schemaPath))
    fail('schemaPath', `expected an absolute path without spaces or quotes, got "${f.schemaPath}"`);
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9!_.*'()/-]+$/.test(f.schemaS3Uri))
    fail('schemaS3Uri', `expected s3://bucket/key, got "${f.schemaS3Uri}"`);
  if (f.channels.length === 0) fail('channels', 'at least one channel');
  const seen = { ids: new Set<number>(), ports: new Map<number, string>() };
  const localPort = (field: string, p: number): void => {
    port(field, p, 1024);
    const other = seen.ports.get(p);
    if (other) fail(field, `port ${p} is already used by ${other}`);
    seen.ports.set(p, `feed.${field}`);
  };
  f.channels.forEach((c: FeedChannelConfig, i) => {
    const at = `channels[${i}]`;
    if (!Number.isInteger(c.id) || c.id < 1) fail(`${at}.id`, `must be a positive integer, got ${c.id}`);
    if (seen.ids.has(c.id)) fail(`${at}.id`, `channel ${c.id} is listed twice`);
    seen.ids.add(c.id);
    const feeds: [string, FeedGroupConfig | undefined][] = [
      ['feedA', c.feedA],
      ['feedB', c.feedB],
      ['snapshot', c.snapshot],
    ];
    for (const [name, g] of feeds) {
      if (!g) continue;
      const o = octets(g.group);
      // 224.0.0.0/24 is link-local (never routed); the rest of 224/4 is multicast.
      if (!o || o[0]! < 224 || o[0]! > 239 || (o[0] === 224 && o[1] === 0 && o[2] === 0))
        fail(
          `${at}.${name}.group`,
          `expected a routable multicast address (224.0.1.0-239.255.255.255), got "${g.group}"`,
        );
      port(`${at}.${name}.port`, g.port);
    }
    if (c.feedA.group === c.feedB.group && c.feedA.port === c.feedB.port)
      fail(`${at}.feedB`, 'feeds A and B are the same group and port');
    localPort(`${at}.relayTcpPort`, c.relayTcpPort);
    localPort(`${at}.metricsPort`, c.metricsPort);
    const hostPort = (field: string, e: string): void => {
      const [host, p, ...rest] = e.split(':');
      if (
        rest.length > 0 ||
        !octets(host ?? '') ||
        !/^\d+$/.test(p ?? '') ||
        Number(p) < 1 ||
        Number(p) > 65_535
      )
        fail(field, `expected ipv4:port, got "${e}"`);
    };
    if (c.tcpReplay !== undefined) {
      hostPort(`${at}.tcpReplay`, c.tcpReplay);
      if (f.tcpReplayCredentialsSecretArn === undefined)
        fail(
          `${at}.tcpReplay`,
          'CME TCP replay requires a logon: set feed.tcpReplayCredentialsSecretArn (the secret with its username and password)',
        );
    }
    c.relayUdp.forEach((e, j) => hostPort(`${at}.relayUdp[${j}]`, e));
  });
  if (f.tcpReplayCredentialsSecretArn !== undefined) {
    if (!SECRET_ARN.test(f.tcpReplayCredentialsSecretArn))
      fail(
        'tcpReplayCredentialsSecretArn',
        `expected a full Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>), got "${f.tcpReplayCredentialsSecretArn}"`,
      );
    if (!f.channels.some((c) => c.tcpReplay !== undefined))
      fail(
        'tcpReplayCredentialsSecretArn',
        'no channel sets tcpReplay (the role would read a secret it never uses)',
      );
  }
  cidrs('multicastSourceCidrs', f.multicastSourceCidrs, 1);
  cidrs('relaySubscriberCidrs', f.relaySubscriberCidrs);
  cidrs('onPremisesCidrs', f.onPremisesCidrs);
  f.routerSourceEnis.forEach((e, i) => {
    if (!/^eni-[0-9a-f]{8,17}$/.test(e))
      fail(`routerSourceEnis[${i}]`, `expected an ENI id (eni-...), got "${e}"`);
  });
  if (f.igmpv2 && f.routerSourceEnis.length > 0)
    fail(
      'igmpv2',
      'a multicast domain cannot have IGMPv2 and static sources (routerSourceEnis) at the same time',
    );
  if (
    !Number.isInteger(f.noPacketsAlarmMinutes) ||
    f.noPacketsAlarmMinutes < 1 ||
    f.noPacketsAlarmMinutes > 60
  )
    fail('noPacketsAlarmMinutes', `must be an integer 1-60, got ${f.noPacketsAlarmMinutes}`);
  for (const k of ['gapAlarmThreshold', 'recoveryAlarmThreshold'] as const) {
    if (!Number.isInteger(f[k]) || f[k] < 0) fail(k, `must be an integer >= 0, got ${f[k]}`);
  }
}

export interface FeedHandlerStackProps extends StackProps {
  readonly config: FeedConfig;
  /** The network config (the feed AZs must be among its AZs). */
  readonly network: NetworkConfig;
  /** The platform VPC: its private subnets with egress hold the handlers unless `config.dedicatedVpcCidr`. */
  readonly vpc: ec2.IVpc;
  /**
   * The ingestion `ticks` stream (normalized trades and quotes go there when `config.publishToKinesis`).
   * @default no Kinesis publishing
   */
  readonly ticksStream?: kinesis.IStream;
  readonly monitoring: IMonitoring;
}

export class FeedHandlerStack extends Stack {
  readonly vpc: ec2.IVpc;
  readonly multicast: MulticastDomain;
  readonly handlers: FeedHandlerHost;

  constructor(scope: Construct, id: string, props: FeedHandlerStackProps) {
    super(scope, id, props);
    const { config, monitoring } = props;
    validateFeedConfig(config, props.network);

    this.vpc = config.dedicatedVpcCidr ? this.dedicatedVpc(config, monitoring) : props.vpc;
    const subnets = config.availabilityZones.map((az) => {
      const s = this.vpc.selectSubnets({
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
        availabilityZones: [az],
      }).subnets;
      if (s.length === 0)
        throw new ConfigError(`feed.availabilityZones: the VPC has no private subnet in ${az}`);
      return s[0]!;
    });
    this.multicast = new MulticastDomain(this, 'Multicast', {
      vpc: this.vpc,
      subnets,
      groups: feedGroups(config.channels),
      igmpv2: config.igmpv2,
      staticSourceEnis: config.routerSourceEnis,
      onPremisesCidrs: config.onPremisesCidrs,
    });
    // Id `Default` is left out of logical ids: the handlers' resources keep the ids they had when
    // this stack created them itself (a new id would replace the instances and the log group).
    this.handlers = new FeedHandlerHost(this, 'Default', {
      ...config,
      vpc: this.vpc,
      subnets,
      ticksStream: config.publishToKinesis ? props.ticksStream : undefined,
      monitoring,
    });
    this.handlers.multicastEnis.forEach((eni, i) => this.multicast.addMember(eni, subnets[i]!));
  }

  /**
   * The multicast domain's resources keep the logical ids they had when this stack created them itself:
   * a new id would replace the transit gateway, whose id the on-premises runbook configures.
   */
  protected override allocateLogicalId(element: CfnElement): string {
    return element.node.scope instanceof MulticastDomain ? element.node.id : super.allocateLogicalId(element);
  }

  /** A dedicated feed VPC: NAT for package installs and AWS APIs, S3 gateway endpoint, flow logs. */
  private dedicatedVpc(config: FeedConfig, monitoring: IMonitoring): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'FeedVpc', {
      ipAddresses: ec2.IpAddresses.cidr(config.dedicatedVpcCidr!),
      availabilityZones: [...config.availabilityZones],
      natGateways: 1,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 27, mapPublicIpOnLaunch: false },
        { name: 'feed', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 26 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    const flowLogs = new EncryptedLogGroup(this, 'FeedVpcFlowLogs', {
      encryptionKey: monitoring.logKey,
      retentionDays: monitoring.logRetentionDays,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    return vpc;
  }
}
