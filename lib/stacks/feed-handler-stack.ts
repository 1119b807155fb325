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
import type { StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';
import type { FeedConfig, NetworkConfig } from '../config/types';
import { ConfigError } from '../config/errors';
import { AreaStack, EncryptedLogGroup, FeedHandlerHost, MulticastDomain, feedGroups } from '../constructs';
import type { IMonitoring } from './monitoring-stack';

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

export class FeedHandlerStack extends AreaStack {
  readonly vpc: ec2.IVpc;
  readonly multicast: MulticastDomain;
  readonly handlers: FeedHandlerHost;

  constructor(scope: Construct, id: string, props: FeedHandlerStackProps) {
    super(scope, id, props);
    const { config, monitoring } = props;

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
    this.handlers = new FeedHandlerHost(this, 'Handlers', {
      ...config,
      vpc: this.vpc,
      subnets,
      ticksStream: config.publishToKinesis ? props.ticksStream : undefined,
      monitoring,
    });
    this.handlers.multicastEnis.forEach((eni, i) => this.multicast.addMember(eni, subnets[i]!));
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
