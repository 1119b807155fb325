/**
 * The CME feed handler hosts: one EC2 instance per subnet (one subnet per AZ: a hot-hot A/B pair),
 * each with a dedicated market-data ENI, running the `quant feed` bundle (esbuild at synth, no Docker,
 * shipped as an S3 asset) as one systemd service per channel. The CloudWatch agent ships the services'
 * output (embedded metric format) to an encrypted log group; alarms and a dashboard section watch it.
 * Session Manager only (no SSH), IMDSv2, KMS-encrypted volumes, no managed policies.
 */
import path from 'node:path';
import { AssetHashType, DockerImage, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import type { FeedChannelConfig } from '../config/types';
import { FEED_HOST_NAMESPACE } from '../../src/contract/metrics';
import { packageRoot } from '../../src/package-root';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { Area, areaFreeNodeId, areaFreeNodePathOf } from './area';
import { EncryptedLogGroup } from './encrypted-log-group';
import { azLetter } from './multicast-domain';
import { putMetricData } from './policy-statements';
import { QuantKey } from './quant-key';
import { feedAgentConfig } from './feed-handler-host/agent-config';
import { bundleFeedHandler } from './feed-handler-host/bundle';
import { addFeedMonitoring } from './feed-handler-host/monitoring';
import { feedUserData } from './feed-handler-host/user-data';

export interface FeedHandlerHostProps {
  readonly vpc: ec2.IVpc;
  /** One handler per subnet, each in its own AZ; the subnets need a route to AWS APIs and packages. */
  readonly subnets: readonly ec2.ISubnet[];
  /** Network-optimized instance type (c6in, c7gn, ...); Graviton (`g`) types run the arm64 image. */
  readonly instanceType: string;
  /** One `quant feed run` service per channel on every instance. */
  readonly channels: readonly FeedChannelConfig[];
  /** Where the host keeps the SBE schema. */
  readonly schemaPath: string;
  /** `s3://bucket/key` the host copies the schema from at boot (the role may read that object only). */
  readonly schemaS3Uri: string;
  /** Sources of the multicast packets: the feed UDP ports are open to these only. */
  readonly multicastSourceCidrs: readonly string[];
  /** Alarms, the dashboard section, and the log group's key and retention. */
  readonly monitoring: IMonitoring;
  /**
   * Networks allowed to connect to the TCP relay ports.
   * @default none
   */
  readonly relaySubscriberCidrs?: readonly string[];
  /**
   * The IGMP rules AWS documents for an IGMPv2 multicast domain on the market-data ENIs.
   * @default false
   */
  readonly igmpv2?: boolean;
  /** @default 16 */
  readonly rootVolumeGiB?: number;
  /**
   * One cluster placement group per AZ (low latency to co-located consumers).
   * @default false
   */
  readonly clusterPlacementGroup?: boolean;
  /**
   * Full ARN of the CME TCP replay logon secret (channels with `tcpReplay`); the role may read it only.
   * @default no secret is readable
   */
  readonly tcpReplayCredentialsSecretArn?: string;
  /**
   * Stream the handlers publish normalized trades and quotes into.
   * @default no Kinesis publishing
   */
  readonly ticksStream?: kinesis.IStream;
  /** @default 3 */
  readonly noPacketsAlarmMinutes?: number;
  /** @default 5 */
  readonly gapAlarmThreshold?: number;
  /** @default 5 */
  readonly recoveryAlarmThreshold?: number;
}

/** Feeds A and B and the snapshot loop of every channel. */
const feedsOf = (channels: readonly FeedChannelConfig[]) =>
  channels.flatMap((c) => [c.feedA, c.feedB, ...(c.snapshot ? [c.snapshot] : [])]);

/** All multicast groups of the channels, each once. */
export const feedGroups = (channels: readonly FeedChannelConfig[]): string[] => [
  ...new Set(feedsOf(channels).map((f) => f.group)),
];

/** All UDP ports of the channels, each once, ascending. */
const feedPorts = (channels: readonly FeedChannelConfig[]): number[] =>
  [...new Set(feedsOf(channels).map((f) => f.port))].sort((a, b) => a - b);

export class FeedHandlerHost extends Area {
  /** Security group of the market-data ENIs (multicast in). */
  readonly multicastSecurityGroup: ec2.SecurityGroup;
  /** Security group of the instances' primary ENIs (relay subscribers in, AWS APIs out). */
  readonly hostSecurityGroup: ec2.SecurityGroup;
  readonly instances: readonly ec2.Instance[];
  /** The market-data ENI of each instance (same order as `instances` and the subnets). */
  readonly multicastEnis: readonly ec2.CfnNetworkInterface[];
  readonly role: iam.Role;
  readonly logGroup: EncryptedLogGroup;
  readonly bundle: s3assets.Asset;

  constructor(scope: Construct, id: string, props: FeedHandlerHostProps) {
    super(scope, id);
    const { channels, monitoring } = props;
    const stack = Stack.of(this);

    const securityGroup = (sgId: string, description: string) =>
      new ec2.SecurityGroup(this, sgId, { vpc: props.vpc, description, allowAllOutbound: false });
    /** `ipv4:port` as a /32 peer and its port. */
    const hostPort = (e: string) =>
      [ec2.Peer.ipv4(`${e.split(':')[0]}/32`), Number(e.split(':')[1])] as const;
    const mc = securityGroup(
      'MulticastSecurityGroup',
      'Feed handler market-data ENIs: UDP feeds from the configured multicast sources only',
    );
    for (const cidr of props.multicastSourceCidrs)
      for (const p of feedPorts(channels))
        mc.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.udp(p), `Feed UDP ${p} from ${cidr}`);
    if (props.igmpv2) {
      // The minimum IGMP rules AWS documents for Transit Gateway multicast (IGMP is IP protocol 2).
      const igmp = new ec2.Port({ protocol: ec2.Protocol.IGMP, stringRepresentation: 'IGMP' });
      mc.addIngressRule(ec2.Peer.ipv4('0.0.0.0/32'), igmp, 'IGMP query from the transit gateway');
      mc.addEgressRule(ec2.Peer.ipv4('224.0.0.2/32'), igmp, 'IGMP leave');
      for (const g of feedGroups(channels))
        mc.addEgressRule(ec2.Peer.ipv4(`${g}/32`), igmp, `IGMP join ${g}`);
    }
    const host = securityGroup(
      'HostSecurityGroup',
      'Feed handler hosts: relay subscribers in; AWS APIs (SSM, S3, CloudWatch, Kinesis) and UDP subscribers out',
    );
    host.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs and package repositories');
    for (const cidr of props.relaySubscriberCidrs ?? [])
      for (const c of channels)
        host.addIngressRule(
          ec2.Peer.ipv4(cidr),
          ec2.Port.tcp(c.relayTcpPort),
          `TCP relay of channel ${c.id} from ${cidr}`,
        );
    for (const c of channels) {
      if (c.tcpReplay) {
        const [peer, p] = hostPort(c.tcpReplay);
        host.addEgressRule(peer, ec2.Port.tcp(p), `TCP replay of channel ${c.id} at ${c.tcpReplay}`);
      }
      for (const e of c.relayUdp) {
        const [peer, p] = hostPort(e);
        host.addEgressRule(peer, ec2.Port.udp(p), `UDP relay of channel ${c.id} to ${e}`);
      }
    }
    this.multicastSecurityGroup = mc;
    this.hostSecurityGroup = host;

    this.logGroup = EncryptedLogGroup.of(this, 'HandlerLogs', monitoring);
    const volumeKey = new QuantKey(this, 'VolumeKey', { description: 'EBS volumes of the feed handlers' });
    this.role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Feed handler instances: Session Manager, their log group, the handler bundle and schema',
    });
    const allow = (actions: string[], resource: string) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [resource] }));
    this.grantSessionManager(stack);
    allow(
      ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      this.logGroup.logGroupArn,
    );
    const schema = /^s3:\/\/([^/]+)\/(.+)$/.exec(props.schemaS3Uri);
    if (!schema)
      throw new Error(`FeedHandlerHost: schemaS3Uri: expected s3://bucket/key, got "${props.schemaS3Uri}"`);
    allow(['s3:GetObject'], `arn:${stack.partition}:s3:::${schema[1]}/${schema[2]}`);
    props.ticksStream?.grantWrite(this.role);
    // The CME TCP replay logon: this one secret, read once when each channel's service starts.
    if (props.tcpReplayCredentialsSecretArn)
      allow(['secretsmanager:GetSecretValue'], props.tcpReplayCredentialsSecretArn);

    this.bundle = new s3assets.Asset(this, 'HandlerBundle', {
      path: path.join(packageRoot(), 'src'),
      // The hash of the bundle itself: a change anywhere in the feed path (and only there) ships a new one.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never used: local bundling always succeeds or throws (no Docker on build machines).
        image: DockerImage.fromRegistry('esbuild-local-only'),
        local: {
          tryBundle(outputDir: string): boolean {
            bundleFeedHandler(outputDir);
            return true;
          },
        },
      },
    });
    // The bundle object only (Asset.grantRead would open the whole bootstrap bucket).
    allow(['s3:GetObject'], this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey));

    const arm = /^[a-z]+\d+[a-z-]*g[a-z-]*\./.test(props.instanceType);
    const machineImage = ec2.MachineImage.resolveSsmParameterAtLaunch(
      // Resolved at launch, not at deploy: a new AMI never replaces a running handler behind our back.
      `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arm ? 'arm64' : 'x86_64'}`,
      { os: ec2.OperatingSystemType.LINUX },
    );
    const agentConfig = feedAgentConfig(
      channels.map((c) => c.id),
      this.logGroup.logGroupName,
    );
    const namePrefix = areaFreeNodePathOf(this);
    const instances: ec2.Instance[] = [];
    const enis: ec2.CfnNetworkInterface[] = [];
    for (const subnet of props.subnets) {
      const letter = azLetter(subnet.availabilityZone);
      const eni = new ec2.CfnNetworkInterface(this, `MulticastEni${letter}`, {
        subnetId: subnet.subnetId,
        groupSet: [this.multicastSecurityGroup.securityGroupId],
        description: `Feed handler ${letter} market data (multicast group member)`,
        tags: [{ key: 'Name', value: `${stack.stackName}-feed-${letter}` }],
      });
      const placementGroup = props.clusterPlacementGroup
        ? new ec2.PlacementGroup(this, `PlacementGroup${letter}`, {
            strategy: ec2.PlacementGroupStrategy.CLUSTER,
          })
        : undefined;
      const instance = new ec2.Instance(this, `Handler${letter}`, {
        instanceName: `${namePrefix}/Handler${letter}`,
        vpc: props.vpc,
        vpcSubnets: { subnets: [subnet] },
        instanceType: new ec2.InstanceType(props.instanceType),
        machineImage,
        role: this.role,
        securityGroup: this.hostSecurityGroup,
        detailedMonitoring: true,
        ebsOptimized: true,
        ssmSessionPermissions: false,
        placementGroup,
        propagateTagsToVolumeOnCreation: true,
        blockDevices: [
          {
            deviceName: '/dev/xvda',
            volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB ?? 16, {
              encrypted: true,
              kmsKey: volumeKey,
              volumeType: ec2.EbsDeviceVolumeType.GP3,
              deleteOnTermination: true,
            }),
          },
        ],
        userData: feedUserData({
          channels: [...channels],
          region: stack.region,
          bundle: this.bundle,
          schemaPath: props.schemaPath,
          schemaS3Uri: props.schemaS3Uri,
          agentConfig,
          multicastIp: eni.attrPrimaryPrivateIpAddress,
          replaySecretArn: props.tcpReplayCredentialsSecretArn,
          ticksStreamName: props.ticksStream?.streamName,
        }),
      });
      // IMDSv2 as `requireImdsv2` sets it, the launch template named as if no `Area` were above it.
      const launchTemplate = new ec2.CfnLaunchTemplate(instance, 'LaunchTemplate', {
        launchTemplateName: areaFreeNodeId(instance, 'LaunchTemplate'),
        launchTemplateData: { metadataOptions: { httpTokens: 'required' } },
      });
      (instance.node.defaultChild as ec2.CfnInstance).launchTemplate = {
        launchTemplateName: launchTemplate.launchTemplateName,
        version: launchTemplate.attrLatestVersionNumber,
      };
      // The subnet fixes the AZ; a hard-coded AvailabilityZone only repeats it (and trips CloudFormation's W3010).
      (instance.node.defaultChild as ec2.CfnInstance).addPropertyDeletionOverride('AvailabilityZone');
      // One at a time: an update that restarts instances (new bundle, config) leaves the other AZ running.
      if (instances.length > 0) instance.node.addDependency(instances[instances.length - 1]!);
      new ec2.CfnNetworkInterfaceAttachment(this, `MulticastEniAttachment${letter}`, {
        instanceId: instance.instanceId,
        networkInterfaceId: eni.attrId,
        deviceIndex: '1',
        deleteOnTermination: false,
      });
      Validations.of(instance).acknowledge({
        id: 'CloudFormation-Validate::E1152',
        reason:
          'ImageId "resolve:ssm:<public AMI parameter>" is a documented EC2 form (resolved at launch); the rule only knows ami- ids. A deploy-time SSM parameter would replace the handlers whenever Amazon Linux publishes an AMI.',
      });
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-EC29',
        reason:
          'The handlers are stateless (bundle, schema and config come from S3 and user data at every boot) and run as an A/B pair in two AZs; termination protection would only block the CloudFormation changes that move or remove one.',
      });
      instances.push(instance);
      enis.push(eni);
    }
    this.instances = instances;
    this.multicastEnis = enis;

    addFeedMonitoring(this, {
      monitoring,
      channelIds: channels.map((c) => c.id),
      instances: instances.map((instance, i) => ({
        instance,
        letter: azLetter(props.subnets[i]!.availabilityZone),
      })),
      noPacketsAlarmMinutes: props.noPacketsAlarmMinutes ?? 3,
      gapAlarmThreshold: props.gapAlarmThreshold ?? 5,
      recoveryAlarmThreshold: props.recoveryAlarmThreshold ?? 5,
    });
    acknowledgeWildcards(this, [
      [
        /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
        'Data-key actions for writing to the KMS-encrypted ticks stream; limited to the stream key.',
      ],
    ]);
  }

  /**
   * Session Manager without AmazonSSMManagedInstanceCore (which also allows Run Command, inventory,
   * parameter reads and more): the agent's registration and the session channels only.
   */
  private grantSessionManager(stack: Stack): void {
    const sessionPolicy = new iam.Policy(this, 'SessionManagerPolicy', {
      roles: [this.role],
      statements: [
        // The agent reports only as an EC2 instance of this account and region.
        new iam.PolicyStatement({
          actions: ['ssm:UpdateInstanceInformation'],
          resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:instance/*`],
        }),
        new iam.PolicyStatement({
          actions: [
            'ssmmessages:CreateControlChannel',
            'ssmmessages:CreateDataChannel',
            'ssmmessages:OpenControlChannel',
            'ssmmessages:OpenDataChannel',
          ],
          resources: ['*'],
        }),
        // The agent's ENA allowance and memory metrics, in its own namespace only.
        putMetricData(FEED_HOST_NAMESPACE),
      ],
    });
    Validations.of(sessionPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The ssmmessages session channels and cloudwatch:PutMetricData have no resource-level permissions; PutMetricData is limited to the feed host namespace by condition.',
    });
    acknowledgeWildcards(sessionPolicy, [
      [
        /^Resource::arn:[^:]+:ec2:[^:]+:[^:]+:instance\/\*$/,
        "The SSM agent reports as the instance it runs on; the handlers' instance ids are known only at launch.",
      ],
    ]);
  }
}
