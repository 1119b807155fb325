/**
 * The CME MDP 3.0 feed handler on EC2: a Transit Gateway with multicast support
 * whose multicast domain spans the handler subnets, one handler instance per AZ (hot-hot A/B pair),
 * each with a dedicated market-data ENI registered as a static member of every feed group, and the
 * virtual routers' ENIs (from config) registered as the static sources. The handler is the same
 * `quant feed run` as on a laptop, bundled with esbuild into one file at synth (no Docker), shipped as
 * an S3 asset and run as one systemd service per channel. The CloudWatch agent ships its output
 * (embedded metric format) to an encrypted log group; alarms and a dashboard section watch it.
 *
 * What AWS cannot provision (GRE tunnels, PIM, static IGMP joins on the virtual router) is the
 * on-premises runbook in docs/feed-handler.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AssetHashType, DockerImage, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import type { FeedChannelConfig, FeedConfig, FeedGroupConfig, NetworkConfig } from '../config/types';
import { ConfigError } from '../config/errors';
import { acknowledgeWildcards, EncryptedLogGroup, QuantKey } from '../constructs';
import { packageRoot } from '../../src/package-root';
import type { IMonitoring } from './monitoring-stack';
import { FEED_HOST_NAMESPACE, FEED_METRICS } from '../../src/contract/metrics';

// Found from package.json, not from this file: the CDK app also runs from the build in dist/.
const repoRoot = packageRoot();

/** Where the bundle, schema and logs live on the instance. */
export const FEED_PATHS = {
  home: '/opt/quant-feed',
  bundle: '/opt/quant-feed/feed-handler.mjs',
  node: '/usr/local/bin/quant-feed-node',
  logs: '/var/log/quant-feed',
  agentConfig: '/opt/aws/amazon-cloudwatch-agent/etc/quant-feed.json',
} as const;
/** File name of the bundled handler inside the asset. */
export const FEED_BUNDLE_FILE = 'feed-handler.mjs';

/** Local stand-ins and native engines that never run on the handler instance: left out of the bundle. */
const LOCAL_ONLY_MODULES = [
  '@duckdb/node-api',
  '@duckdb/node-bindings',
  'kinesalite',
  'dynalite',
  's3rver',
  'aws-local-stepfunctions',
  'leveldown',
  'classic-level',
];

/**
 * The handler's entry: the `quant` program with only the `feed` commands, so the bundle carries the
 * feed path and the AWS SDK clients, not the lake engine or the local cloud.
 */
const ENTRY_SOURCE = `
import { isMainThread, workerData } from 'node:worker_threads';
import { Command, CommanderError } from 'commander';
import { InputError } from './src/errors';
import { registerFeed } from './src/cli/commands/feed';
import { runDecoderWorker } from './src/feed/decoder-worker';

if (!isMainThread && workerData?.role === 'feed-decoder') {
  // The same file is the decoder worker's entry (DecoderThread starts it with this role).
  runDecoderWorker();
} else {
  // The same global options as the full CLI (commands read them with optsWithGlobals()).
  const program = new Command('quant')
    .option('--data-dir <dir>', 'local cloud state directory')
    .option('--aws', 'use AWS instead of the local cloud')
    .exitOverride();
  registerFeed(program);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
    else {
      process.stderr.write('error: ' + (err instanceof Error ? err.message : String(err)) + '\\n');
      process.exitCode = err instanceof InputError ? 2 : 1;
    }
  }
}
`;

/**
 * Bundles the handler into `outDir/feed-handler.mjs` with esbuild (ESM, Node 22, minified with a
 * source map). Local-only modules become empty stubs: they are imported by shared CLI code but never
 * used by `quant feed run`.
 */
export function bundleFeedHandler(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  // esbuild's synchronous API takes no plugins: alias the local-only modules to an empty CommonJS stub.
  const stubDir = mkdtempSync(path.join(os.tmpdir(), 'feed-bundle-'));
  const stub = path.join(stubDir, 'local-only-stub.cjs');
  writeFileSync(stub, 'module.exports = {};\n');
  try {
    buildSync({
      stdin: { contents: ENTRY_SOURCE, resolveDir: repoRoot, loader: 'ts', sourcefile: 'feed-handler.ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      outfile: path.join(outDir, FEED_BUNDLE_FILE),
      // CommonJS dependencies call require(); give the ESM bundle one.
      banner: {
        js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      },
      logLevel: 'error',
      alias: Object.fromEntries(LOCAL_ONLY_MODULES.map((m) => [m, stub])),
    });
  } finally {
    rmSync(stubDir, { recursive: true, force: true });
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

/** All feed groups of the config, each once. */
function feedGroups(channels: readonly FeedChannelConfig[]): string[] {
  return [
    ...new Set(
      channels.flatMap((c) => [c.feedA.group, c.feedB.group, ...(c.snapshot ? [c.snapshot.group] : [])]),
    ),
  ];
}

/** All UDP ports of the config, each once. */
function feedPorts(channels: readonly FeedChannelConfig[]): number[] {
  return [
    ...new Set(
      channels.flatMap((c) => [c.feedA.port, c.feedB.port, ...(c.snapshot ? [c.snapshot.port] : [])]),
    ),
  ].sort((a, b) => a - b);
}

const AZ_LETTER = (az: string): string => az.slice(-1).toUpperCase();

export class FeedHandlerStack extends Stack {
  readonly vpc: ec2.IVpc;
  readonly transitGateway: ec2.CfnTransitGateway;
  readonly attachment: ec2.CfnTransitGatewayAttachment;
  readonly multicastDomain: ec2.CfnTransitGatewayMulticastDomain;
  /** Security group of the market-data ENIs (multicast in). */
  readonly multicastSecurityGroup: ec2.SecurityGroup;
  /** Security group of the instances' primary ENIs (relay subscribers in, AWS APIs out). */
  readonly hostSecurityGroup: ec2.SecurityGroup;
  readonly instances: readonly ec2.Instance[];
  /** The market-data ENI of each instance (same order as `instances`). */
  readonly multicastEnis: readonly ec2.CfnNetworkInterface[];
  readonly role: iam.Role;
  readonly logGroup: EncryptedLogGroup;
  readonly bundle: s3assets.Asset;

  constructor(scope: Construct, id: string, props: FeedHandlerStackProps) {
    super(scope, id, props);
    const { config, monitoring } = props;
    const channels = config.channels;
    const groups = feedGroups(channels);

    // --- Network: VPC, subnets (one per feed AZ), Transit Gateway multicast ------------------------
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

    this.transitGateway = new ec2.CfnTransitGateway(this, 'TransitGateway', {
      description: 'Market data multicast (CME MDP 3.0 feeds A/B) to the feed handlers',
      multicastSupport: 'enable',
      autoAcceptSharedAttachments: 'disable',
      defaultRouteTableAssociation: 'enable',
      defaultRouteTablePropagation: 'enable',
      dnsSupport: 'enable',
      vpnEcmpSupport: 'enable',
      tags: [{ key: 'Name', value: `${this.stackName}-multicast` }],
    });
    this.attachment = new ec2.CfnTransitGatewayAttachment(this, 'VpcAttachment', {
      transitGatewayId: this.transitGateway.attrId,
      vpcId: this.vpc.vpcId,
      subnetIds: subnets.map((s) => s.subnetId),
      tags: [{ key: 'Name', value: `${this.stackName}-feed-vpc` }],
    });
    // AWS: IGMPv2 and static sources exclude each other. Static members (our ENIs) work with either.
    this.multicastDomain = new ec2.CfnTransitGatewayMulticastDomain(this, 'MulticastDomain', {
      transitGatewayId: this.transitGateway.attrId,
      options: {
        Igmpv2Support: config.igmpv2 ? 'enable' : 'disable',
        StaticSourcesSupport: config.routerSourceEnis.length > 0 ? 'enable' : 'disable',
        AutoAcceptSharedAssociations: 'disable',
      },
      tags: [{ key: 'Name', value: `${this.stackName}-feeds` }],
    });
    const domainId = this.multicastDomain.attrTransitGatewayMulticastDomainId;
    const associations = subnets.map(
      (s, i) =>
        new ec2.CfnTransitGatewayMulticastDomainAssociation(
          this,
          `DomainAssociation${AZ_LETTER(config.availabilityZones[i]!)}`,
          {
            transitGatewayMulticastDomainId: domainId,
            transitGatewayAttachmentId: this.attachment.attrId,
            subnetId: s.subnetId,
          },
        ),
    );
    // Unicast to on-premises (TCP replay, the GRE peers) goes through the Transit Gateway too.
    subnets.forEach((s, i) => {
      config.onPremisesCidrs.forEach((cidr, j) => {
        new ec2.CfnRoute(this, `OnPremRoute${AZ_LETTER(config.availabilityZones[i]!)}${j}`, {
          routeTableId: s.routeTable.routeTableId,
          destinationCidrBlock: cidr,
          transitGatewayId: this.transitGateway.attrId,
        }).addResourceDependency(this.attachment);
      });
    });

    // --- Security groups ---------------------------------------------------------------------
    this.multicastSecurityGroup = new ec2.SecurityGroup(this, 'MulticastSecurityGroup', {
      vpc: this.vpc,
      description: 'Feed handler market-data ENIs: UDP feeds from the configured multicast sources only',
      allowAllOutbound: false,
    });
    for (const cidr of config.multicastSourceCidrs) {
      for (const p of feedPorts(channels)) {
        this.multicastSecurityGroup.addIngressRule(
          ec2.Peer.ipv4(cidr),
          ec2.Port.udp(p),
          `Feed UDP ${p} from ${cidr}`,
        );
      }
    }
    if (config.igmpv2) {
      // The minimum IGMP rules AWS documents for Transit Gateway multicast (IGMP is IP protocol 2).
      const igmp = new ec2.Port({ protocol: ec2.Protocol.IGMP, stringRepresentation: 'IGMP' });
      this.multicastSecurityGroup.addIngressRule(
        ec2.Peer.ipv4('0.0.0.0/32'),
        igmp,
        'IGMP query from the transit gateway',
      );
      this.multicastSecurityGroup.addEgressRule(ec2.Peer.ipv4('224.0.0.2/32'), igmp, 'IGMP leave');
      for (const g of groups)
        this.multicastSecurityGroup.addEgressRule(ec2.Peer.ipv4(`${g}/32`), igmp, `IGMP join ${g}`);
    }
    this.hostSecurityGroup = new ec2.SecurityGroup(this, 'HostSecurityGroup', {
      vpc: this.vpc,
      description:
        'Feed handler hosts: relay subscribers in; AWS APIs (SSM, S3, CloudWatch, Kinesis) and UDP subscribers out',
      allowAllOutbound: false,
    });
    this.hostSecurityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to AWS APIs and package repositories',
    );
    for (const cidr of config.relaySubscriberCidrs) {
      for (const c of channels) {
        this.hostSecurityGroup.addIngressRule(
          ec2.Peer.ipv4(cidr),
          ec2.Port.tcp(c.relayTcpPort),
          `TCP relay of channel ${c.id} from ${cidr}`,
        );
      }
    }
    for (const c of channels) {
      if (c.tcpReplay) {
        const [host, p] = c.tcpReplay.split(':');
        this.hostSecurityGroup.addEgressRule(
          ec2.Peer.ipv4(`${host}/32`),
          ec2.Port.tcp(Number(p)),
          `TCP replay of channel ${c.id} at ${c.tcpReplay}`,
        );
      }
      for (const e of c.relayUdp) {
        const [host, p] = e.split(':');
        this.hostSecurityGroup.addEgressRule(
          ec2.Peer.ipv4(`${host}/32`),
          ec2.Port.udp(Number(p)),
          `UDP relay of channel ${c.id} to ${e}`,
        );
      }
    }

    // --- Role, logs, keys, bundle ----------------------------------------------------------------
    this.logGroup = new EncryptedLogGroup(this, 'HandlerLogs', {
      encryptionKey: monitoring.logKey,
      retentionDays: monitoring.logRetentionDays,
    });
    const volumeKey = new QuantKey(this, 'VolumeKey', { description: 'EBS volumes of the feed handlers' });
    this.role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Feed handler instances: Session Manager, their log group, the handler bundle and schema',
    });
    // Session Manager without AmazonSSMManagedInstanceCore (which also allows Run Command, inventory,
    // parameter reads and more): the agent's registration and the session channels only.
    const sessionPolicy = new iam.Policy(this, 'SessionManagerPolicy', {
      roles: [this.role],
      statements: [
        // The agent reports only as an EC2 instance of this account and region.
        new iam.PolicyStatement({
          actions: ['ssm:UpdateInstanceInformation'],
          resources: [`arn:${this.partition}:ec2:${this.region}:${this.account}:instance/*`],
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
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': FEED_HOST_NAMESPACE } },
        }),
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
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    const schema = /^s3:\/\/([^/]+)\/(.+)$/.exec(config.schemaS3Uri)!;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [`arn:${this.partition}:s3:::${schema[1]}/${schema[2]}`],
      }),
    );
    const ticks = config.publishToKinesis ? props.ticksStream : undefined;
    ticks?.grantWrite(this.role);
    // The CME TCP replay logon: this one secret, read once when each channel's service starts.
    if (config.tcpReplayCredentialsSecretArn)
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [config.tcpReplayCredentialsSecretArn],
        }),
      );

    this.bundle = new s3assets.Asset(this, 'HandlerBundle', {
      path: path.join(repoRoot, 'src'),
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
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey)],
      }),
    );

    // --- Instances: one per AZ, each with its market-data ENI ------------------------------------
    const arm = /^[a-z]+\d+[a-z-]*g[a-z-]*\./.test(config.instanceType);
    const machineImage = ec2.MachineImage.resolveSsmParameterAtLaunch(
      // Resolved at launch, not at deploy: a new AMI never replaces a running handler behind our back.
      `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arm ? 'arm64' : 'x86_64'}`,
      { os: ec2.OperatingSystemType.LINUX },
    );
    const instances: ec2.Instance[] = [];
    const enis: ec2.CfnNetworkInterface[] = [];
    config.availabilityZones.forEach((az, i) => {
      const letter = AZ_LETTER(az);
      const subnet = subnets[i]!;
      const eni = new ec2.CfnNetworkInterface(this, `MulticastEni${letter}`, {
        subnetId: subnet.subnetId,
        groupSet: [this.multicastSecurityGroup.securityGroupId],
        description: `Feed handler ${letter} market data (multicast group member)`,
        tags: [{ key: 'Name', value: `${this.stackName}-feed-${letter}` }],
      });
      const placementGroup = config.clusterPlacementGroup
        ? new ec2.PlacementGroup(this, `PlacementGroup${letter}`, {
            strategy: ec2.PlacementGroupStrategy.CLUSTER,
          })
        : undefined;
      const instance = new ec2.Instance(this, `Handler${letter}`, {
        vpc: this.vpc,
        vpcSubnets: { subnets: [subnet] },
        instanceType: new ec2.InstanceType(config.instanceType),
        machineImage,
        role: this.role,
        securityGroup: this.hostSecurityGroup,
        requireImdsv2: true,
        detailedMonitoring: true,
        ebsOptimized: true,
        ssmSessionPermissions: false,
        placementGroup,
        propagateTagsToVolumeOnCreation: true,
        blockDevices: [
          {
            deviceName: '/dev/xvda',
            volume: ec2.BlockDeviceVolume.ebs(config.rootVolumeGiB, {
              encrypted: true,
              kmsKey: volumeKey,
              volumeType: ec2.EbsDeviceVolumeType.GP3,
              deleteOnTermination: true,
            }),
          },
        ],
        userData: this.userData(config, eni.attrPrimaryPrivateIpAddress, ticks),
      });
      // The subnet fixes the AZ; a hard-coded AvailabilityZone only repeats it (and trips CloudFormation's W3010).
      (instance.node.defaultChild as ec2.CfnInstance).addPropertyDeletionOverride('AvailabilityZone');
      // One at a time: an update that restarts instances (new bundle, config) leaves the other AZ running.
      if (i > 0) instance.node.addDependency(instances[i - 1]!);
      new ec2.CfnNetworkInterfaceAttachment(this, `MulticastEniAttachment${letter}`, {
        instanceId: instance.instanceId,
        networkInterfaceId: eni.attrId,
        deviceIndex: '1',
        deleteOnTermination: false,
      });
      for (const [g, group] of groups.entries()) {
        new ec2.CfnTransitGatewayMulticastGroupMember(this, `Member${letter}${g}`, {
          transitGatewayMulticastDomainId: domainId,
          groupIpAddress: group,
          networkInterfaceId: eni.attrId,
        }).addResourceDependency(associations[i]!);
      }
      instances.push(instance);
      enis.push(eni);
    });
    this.instances = instances;
    this.multicastEnis = enis;
    // The virtual routers' ENIs send every group; they must sit in an associated subnet.
    config.routerSourceEnis.forEach((eniId, r) => {
      for (const [g, group] of groups.entries()) {
        const source = new ec2.CfnTransitGatewayMulticastGroupSource(this, `Source${r}x${g}`, {
          transitGatewayMulticastDomainId: domainId,
          groupIpAddress: group,
          networkInterfaceId: eniId,
        });
        for (const a of associations) source.addResourceDependency(a);
      }
    });

    this.addMonitoring(config, monitoring);
    this.acknowledgeFindings();
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

  /**
   * Boot script (run on every boot, so a stop/start after a user-data change applies it): kernel
   * settings for multicast, Node.js and the CloudWatch agent from the distribution, the bundle and the
   * schema from S3, one systemd service per channel.
   */
  private userData(config: FeedConfig, multicastIp: string, ticks?: kinesis.IStream): ec2.UserData {
    const shell = ec2.UserData.forLinux();
    const unitName = (c: FeedChannelConfig) => `quant-feed-${c.id}`;
    const endpoint = (g: FeedGroupConfig) => `${g.group}:${g.port}`;
    shell.addCommands(
      'set -euo pipefail',
      // Multicast arrives on the second ENI from sources routed via the first: loose reverse-path filtering.
      // Transit Gateway speaks IGMPv2; the handler asks for 8 MiB receive buffers.
      `cat > /etc/sysctl.d/90-quant-feed.conf <<'EOF'
net.ipv4.conf.all.rp_filter = 2
net.ipv4.conf.default.rp_filter = 2
net.ipv4.conf.all.force_igmp_version = 2
net.core.rmem_max = 33554432
net.core.rmem_default = 8388608
EOF`,
      'sysctl --system',
      'dnf install -y nodejs22 amazon-cloudwatch-agent unzip',
      `ln -sf "$(command -v node-22 || command -v node)" ${FEED_PATHS.node}`,
      'id quant-feed >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin quant-feed',
      `mkdir -p ${FEED_PATHS.home} ${path.posix.dirname(config.schemaPath)} ${FEED_PATHS.logs}`,
      `chown quant-feed ${FEED_PATHS.logs}`,
    );
    const zip = shell.addS3DownloadCommand({
      bucket: this.bundle.bucket,
      bucketKey: this.bundle.s3ObjectKey,
      localFile: '/tmp/quant-feed-handler.zip',
    });
    shell.addCommands(
      `unzip -o ${zip} -d ${FEED_PATHS.home}`,
      `aws s3 cp ${config.schemaS3Uri} ${config.schemaPath}`,
      `cat > ${FEED_PATHS.agentConfig} <<'EOF'`,
      JSON.stringify(this.agentConfig(config), null, 1),
      'EOF',
      `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${FEED_PATHS.agentConfig}`,
    );
    for (const c of config.channels) {
      const args = [
        FEED_PATHS.bundle,
        '--aws feed run',
        `--channel ${c.id}`,
        `--schema ${config.schemaPath}`,
        `--feed-a ${endpoint(c.feedA)}`,
        `--feed-b ${endpoint(c.feedB)}`,
        ...(c.snapshot ? [`--snapshot ${endpoint(c.snapshot)}`] : []),
        `--iface ${multicastIp}`,
        `--relay-tcp 0.0.0.0:${c.relayTcpPort}`,
        ...(c.relayUdp.length > 0 ? [`--relay-udp ${c.relayUdp.join(' ')}`] : []),
        ...(c.tcpReplay
          ? [`--replay ${c.tcpReplay}`, `--replay-secret ${config.tcpReplayCredentialsSecretArn}`]
          : []),
        `--metrics-port ${c.metricsPort}`,
        '--emf',
        ...(ticks ? [`--kinesis ${ticks.streamName}`] : []),
      ];
      shell.addCommands(
        `cat > /etc/systemd/system/${unitName(c)}.service <<'EOF'
[Unit]
Description=Quant CME MDP 3.0 feed handler, channel ${c.id}
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
User=quant-feed
Environment=AWS_REGION=${this.region}
Environment=QUANT_MODE=aws
Environment=NODE_OPTIONS=--enable-source-maps
ExecStart=${FEED_PATHS.node} ${args.join(' ')}
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
StandardOutput=append:${FEED_PATHS.logs}/channel-${c.id}.log
StandardError=append:${FEED_PATHS.logs}/channel-${c.id}.err.log

[Install]
WantedBy=multi-user.target
EOF`,
      );
    }
    shell.addCommands(
      'systemctl daemon-reload',
      ...config.channels.map(
        (c) => `systemctl enable ${unitName(c)}.service && systemctl restart ${unitName(c)}.service`,
      ),
    );
    const userData = new ec2.MultipartUserData();
    // Run the script on every boot, not only the first (AWS's documented cloud-init setting).
    userData.addPart(
      ec2.MultipartBody.fromRawBody({
        contentType: 'text/cloud-config; charset="us-ascii"',
        body: '#cloud-config\ncloud_final_modules:\n- [scripts-user, always]\n',
      }),
    );
    userData.addUserDataPart(shell, ec2.MultipartBody.SHELL_SCRIPT, true);
    return userData;
  }

  /** CloudWatch agent: each channel's output (EMF lines included) to the log group; ENA allowance counters. */
  private agentConfig(config: FeedConfig): unknown {
    return {
      agent: { metrics_collection_interval: 60 },
      logs: {
        logs_collected: {
          files: {
            collect_list: config.channels.flatMap((c) =>
              ['', '.err'].map((suffix) => ({
                file_path: `${FEED_PATHS.logs}/channel-${c.id}${suffix}.log`,
                log_group_name: this.logGroup.logGroupName,
                log_stream_name: `{instance_id}/channel-${c.id}${suffix}`,
              })),
            ),
          },
        },
      },
      metrics: {
        namespace: FEED_HOST_NAMESPACE,
        append_dimensions: { InstanceId: '${aws:InstanceId}' },
        metrics_collected: {
          // Packets the ENA dropped because the instance exceeded its PPS or bandwidth allowance.
          ethtool: {
            metrics_include: [
              'bw_in_allowance_exceeded',
              'pps_allowance_exceeded',
              'conntrack_allowance_exceeded',
            ],
          },
          mem: { measurement: ['mem_used_percent'] },
        },
      },
    };
  }

  private addMonitoring(config: FeedConfig, monitoring: IMonitoring): void {
    const period = Duration.minutes(1);
    const feedMetric = (name: string, channel: number, label: string, p = period): cw.Metric =>
      new cw.Metric({
        namespace: FEED_METRICS.namespace,
        metricName: name,
        dimensionsMap: { [FEED_METRICS.dimension]: String(channel) },
        statistic: 'Sum',
        period: p,
        label,
      });
    const allChannels = (name: string, label: string, p: Duration): cw.IMetric => {
      const metrics = config.channels.map((c) => feedMetric(name, c.id, `${label} ${c.id}`, p));
      return metrics.length === 1
        ? metrics[0]!.with({ label })
        : new cw.MathExpression({
            expression: metrics.map((_, i) => `m${i}`).join(' + '),
            usingMetrics: Object.fromEntries(metrics.map((m, i) => [`m${i}`, m])),
            period: p,
            label,
          });
    };

    for (const c of config.channels) {
      monitoring.addAlarm(this, `NoPacketsAlarm${c.id}`, {
        alarmDescription: `Feed channel ${c.id}: no packet on feed A or B (heartbeats included), or the handler stopped reporting`,
        metric: new cw.MathExpression({
          expression: 'FILL(a, 0) + FILL(b, 0)',
          usingMetrics: {
            a: feedMetric(FEED_METRICS.packetsA, c.id, 'A'),
            b: feedMetric(FEED_METRICS.packetsB, c.id, 'B'),
          },
          period,
          label: `channel ${c.id} packets`,
        }),
        threshold: 1,
        evaluationPeriods: config.noPacketsAlarmMinutes,
        comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data means no handler: that is the outage this alarm exists for.
        treatMissingData: cw.TreatMissingData.BREACHING,
      });
    }
    const fiveMinutes = Duration.minutes(5);
    monitoring.addAlarm(this, 'GapAlarm', {
      alarmDescription: `Feed gaps (lost on both A and B) above ${config.gapAlarmThreshold} in 5 minutes`,
      metric: allChannels(FEED_METRICS.gaps, 'gaps', fiveMinutes),
      threshold: config.gapAlarmThreshold,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    monitoring.addAlarm(this, 'RecoveryAlarm', {
      alarmDescription: `Feed recoveries (snapshot or TCP replay) above ${config.recoveryAlarmThreshold} in 5 minutes`,
      metric: allChannels(FEED_METRICS.recoveries, 'recoveries', fiveMinutes),
      threshold: config.recoveryAlarmThreshold,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    monitoring.addAlarm(this, 'SubscriberDropAlarm', {
      alarmDescription: 'A relay subscriber was too slow and was disconnected (or its packets dropped)',
      metric: allChannels(FEED_METRICS.subscriberDrops, 'subscriber drops', fiveMinutes),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.instances.forEach((instance, i) => {
      const letter = AZ_LETTER(config.availabilityZones[i]!);
      monitoring.addAlarm(this, `InstanceStatusAlarm${letter}`, {
        alarmDescription: `Feed handler ${letter} failed its EC2 status checks (the A/B pair runs on one host)`,
        metric: new cw.Metric({
          namespace: 'AWS/EC2',
          metricName: 'StatusCheckFailed',
          dimensionsMap: { InstanceId: instance.instanceId },
          statistic: 'Maximum',
          period,
        }),
        threshold: 1,
        evaluationPeriods: 2,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    });

    const perSecond = (name: string, feed: string): cw.IMetric[] =>
      config.channels.map((c) => {
        const id = `${feed.toLowerCase()}${c.id}`;
        return new cw.MathExpression({
          expression: `${id} / PERIOD(${id})`,
          usingMetrics: { [id]: feedMetric(name, c.id, '') },
          period,
          label: `${c.id} ${feed}`,
        });
      });
    const hostMetric = (name: string, statistic: string) =>
      this.instances.map(
        (instance, i) =>
          new cw.Metric({
            namespace: FEED_HOST_NAMESPACE,
            metricName: name,
            dimensionsMap: { InstanceId: instance.instanceId },
            statistic,
            period,
            label: `handler ${AZ_LETTER(config.availabilityZones[i]!)}`,
          }),
      );
    const sums = (name: string, label: string) =>
      config.channels.map((c) => feedMetric(name, c.id, `${c.id} ${label}`));
    monitoring.addSection('Feed handler', [
      [
        new cw.GraphWidget({
          title: 'Packets/s per feed',
          left: [...perSecond(FEED_METRICS.packetsA, 'A'), ...perSecond(FEED_METRICS.packetsB, 'B')],
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Gaps and recoveries',
          left: sums(FEED_METRICS.gaps, 'gaps'),
          right: sums(FEED_METRICS.recoveries, 'recoveries'),
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Duplicates (arbitrated) and subscriber drops',
          left: sums(FEED_METRICS.duplicates, 'duplicates'),
          right: sums(FEED_METRICS.subscriberDrops, 'drops'),
          width: 8,
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'ENA packets dropped over allowance (PPS / bandwidth)',
          left: hostMetric('ethtool_pps_allowance_exceeded', 'Sum'),
          right: hostMetric('ethtool_bw_in_allowance_exceeded', 'Sum'),
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Latency, first copy received to relayed and decoded (µs)',
          left: config.channels.flatMap((c) =>
            (['LatencyP50', 'LatencyP99', 'LatencyP999'] as const).map(
              (name) =>
                new cw.Metric({
                  namespace: FEED_METRICS.namespace,
                  metricName: name,
                  dimensionsMap: { [FEED_METRICS.dimension]: String(c.id) },
                  statistic: 'Maximum',
                  period,
                  label: `${c.id} ${name.replace('Latency', '').toLowerCase()}`,
                }),
            ),
          ),
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Handler hosts: CPU %',
          left: this.instances.map(
            (instance, i) =>
              new cw.Metric({
                namespace: 'AWS/EC2',
                metricName: 'CPUUtilization',
                dimensionsMap: { InstanceId: instance.instanceId },
                statistic: 'Maximum',
                period,
                label: `handler ${AZ_LETTER(config.availabilityZones[i]!)}`,
              }),
          ),
          width: 8,
        }),
      ],
    ]);
  }

  private acknowledgeFindings(): void {
    for (const instance of this.instances) {
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
    }
    acknowledgeWildcards(this, WILDCARD_REASONS);
  }
}

/** Wildcards this stack's policies are meant to have, and why (matched against IAM5 findings). */
const WILDCARD_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    'Data-key actions for writing to the KMS-encrypted ticks stream; limited to the stream key.',
  ],
];
