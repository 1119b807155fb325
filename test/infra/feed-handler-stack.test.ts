import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app';
import { ConfigError, dev, prod } from '../../lib/config';
import type { EnvironmentConfig, FeedConfig } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { FEED_METRICS } from '../../src/contract/metrics';
import {
  SKIP_BUNDLING,
  nagViolations,
  resourcesOfType,
  staleAcknowledgements,
  template,
  testApp,
} from './helpers';

type Props = Record<string, unknown>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type Rule = { CidrIp?: string; IpProtocol: string; FromPort?: number; ToPort?: number };

/** The CME TCP replay logon secret of the replay variants (a full ARN, suffix included). */
const REPLAY_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:quant/cme-replay-Ab12Cd';

/** A config variant: dedicated feed VPC, IGMPv2 domain, Graviton instances, one AZ, no Kinesis. */
const variant: EnvironmentConfig = {
  ...dev,
  feed: {
    ...dev.feed,
    dedicatedVpcCidr: '10.50.0.0/20',
    igmpv2: true,
    instanceType: 'c7gn.large',
    availabilityZones: ['us-east-1b'],
    publishToKinesis: false,
  },
};

let stage: QuantStage;
let prodStage: QuantStage;
let variantStage: QuantStage;
let t: Template;
let tp: Template;
let tv: Template;

beforeAll(() => {
  stage = testApp([dev]).stages.dev;
  prodStage = testApp([prod]).stages.prod;
  variantStage = testApp([variant]).stages.dev;
  t = template(stage.feed!);
  tp = template(prodStage.feed!);
  tv = template(variantStage.feed!);
});

const props = (tt: Template, type: string): Props[] =>
  resourcesOfType(tt, type).map(([, r]) => r.Properties ?? {});
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const statements = (tt: Template): Statement[] =>
  props(tt, 'AWS::IAM::Policy').flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
/** Rules of the security group whose logical id starts with `prefix`, as comparable strings. */
const rules = (tt: Template, prefix: string, kind: 'SecurityGroupIngress' | 'SecurityGroupEgress') => {
  const [, sg] = resourcesOfType(tt, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith(prefix))!;
  return ((sg.Properties![kind] as Rule[] | undefined) ?? [])
    .map((r) => `${r.IpProtocol} ${r.CidrIp} ${r.FromPort ?? ''}-${r.ToPort ?? ''}`)
    .sort();
};
/**
 * User data as the instance sees it, with each CloudFormation reference as `<Ref:Id>`, `<GetAtt:Id.Attr>`
 * or `<Output:Stack.Name>` (the template holds Fn::Base64 of Fn::Join, nested for the MIME parts).
 */
const render = (v: unknown): string => {
  if (typeof v === 'string') return v;
  const o = v as Record<string, unknown>;
  if ('Fn::Base64' in o) return render(o['Fn::Base64']);
  if ('Fn::Join' in o) return (o['Fn::Join'] as [string, unknown[]])[1].map(render).join('');
  if ('Ref' in o) return `<Ref:${o.Ref as string}>`;
  if ('Fn::GetAtt' in o) return `<GetAtt:${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::GetStackOutput' in o) {
    const out = o['Fn::GetStackOutput'] as { StackName: string; OutputName: string };
    return `<Output:${out.StackName}.${out.OutputName}>`;
  }
  throw new Error(`unexpected intrinsic in user data: ${JSON.stringify(o)}`);
};
const userData = (tt: Template): string[] => props(tt, 'AWS::EC2::Instance').map((p) => render(p.UserData));
/** The ExecStart lines of the systemd units in a rendered user data. */
const execStarts = (ud: string): string[] => [...ud.matchAll(/^ExecStart=(.*)$/gm)].map((m) => m[1]!);
const groupsOf = (f: FeedConfig): string[] => [
  ...new Set(f.channels.flatMap((c) => [c.feedA.group, c.feedB.group, c.snapshot!.group])),
];

describe('FeedHandlerStack: Transit Gateway multicast', () => {
  it('keeps the logical ids it had before its constructs existed (log group, key, gateway, instances)', () => {
    // A new id would replace the resource: a new log group (the old one retained, orphaned), a new
    // key, a new transit gateway (the on-premises side is configured with its id), new instances.
    for (const tt of [t, tp])
      expect(Object.keys(tt.toJSON().Resources as object)).toEqual(
        expect.arrayContaining([
          'HandlerLogs6FD01908',
          'VolumeKeyB3FBD601',
          'TransitGateway',
          'VpcAttachment',
          'MulticastDomain',
          'DomainAssociationA',
          'MulticastEniA',
          'HandlerA2A37A616',
          'HandlerBCC2D25AE',
          'HandlerRoleF4C27E12',
          'MemberA0',
        ]),
      );
    expect(Object.keys(tp.toJSON().Resources as object)).toEqual(
      expect.arrayContaining(['Source0x0', 'OnPremRouteA0', 'PlacementGroupA9B2FA15F']),
    );
  });

  it('a transit gateway with multicast support, attached to one subnet per feed AZ', () => {
    for (const tt of [t, tp, tv]) {
      tt.resourceCountIs('AWS::EC2::TransitGateway', 1);
      tt.hasResourceProperties('AWS::EC2::TransitGateway', {
        MulticastSupport: 'enable',
        AutoAcceptSharedAttachments: 'disable',
      });
    }
    const [attachment] = props(t, 'AWS::EC2::TransitGatewayAttachment');
    expect(attachment!.TransitGatewayId).toEqual({ 'Fn::GetAtt': ['TransitGateway', 'Id'] });
    expect(attachment!.SubnetIds).toHaveLength(dev.feed.availabilityZones.length);
    // dev uses the network stack's VPC (imported), the variant its own.
    expect(JSON.stringify(attachment!.VpcId)).toMatch(/"Fn::GetStackOutput":\{"StackName":"dev-Network"/);
    t.resourceCountIs('AWS::EC2::VPC', 0);
    tv.resourceCountIs('AWS::EC2::VPC', 1);
    tv.resourceCountIs('AWS::EC2::FlowLog', 1);
    expect(props(tv, 'AWS::EC2::TransitGatewayAttachment')[0]!.VpcId).toEqual({
      Ref: expect.stringMatching(/^FeedVpc/),
    });
  });

  it('a multicast domain: static sources when router ENIs are configured, IGMPv2 only without them', () => {
    expect(props(t, 'AWS::EC2::TransitGatewayMulticastDomain')[0]!.Options).toEqual({
      Igmpv2Support: 'disable',
      StaticSourcesSupport: 'disable',
      AutoAcceptSharedAssociations: 'disable',
    });
    expect(props(tp, 'AWS::EC2::TransitGatewayMulticastDomain')[0]!.Options).toMatchObject({
      Igmpv2Support: 'disable',
      StaticSourcesSupport: 'enable',
    });
    expect(props(tv, 'AWS::EC2::TransitGatewayMulticastDomain')[0]!.Options).toMatchObject({
      Igmpv2Support: 'enable',
      StaticSourcesSupport: 'disable',
    });
  });

  it('associates each handler subnet with the domain through the VPC attachment', () => {
    const associations = props(t, 'AWS::EC2::TransitGatewayMulticastDomainAssociation');
    expect(associations).toHaveLength(2);
    const attachment = props(t, 'AWS::EC2::TransitGatewayAttachment')[0]!;
    expect(associations.map((a) => JSON.stringify(a.SubnetId)).sort()).toEqual(
      (attachment.SubnetIds as unknown[]).map((s) => JSON.stringify(s)).sort(),
    );
    for (const a of associations) {
      expect(a.TransitGatewayAttachmentId).toEqual({ 'Fn::GetAtt': ['VpcAttachment', 'Id'] });
      expect(a.TransitGatewayMulticastDomainId).toEqual({
        'Fn::GetAtt': ['MulticastDomain', 'TransitGatewayMulticastDomainId'],
      });
    }
  });

  it('registers each handler ENI as a member of every feed group (A, B, snapshot of every channel)', () => {
    for (const [tt, cfg] of [
      [t, dev.feed],
      [tp, prod.feed],
    ] as const) {
      const members = props(tt, 'AWS::EC2::TransitGatewayMulticastGroupMember');
      const enis = resourcesOfType(tt, 'AWS::EC2::NetworkInterface').map(([id]) => id);
      expect(enis).toHaveLength(cfg.availabilityZones.length);
      const pairs = members.map(
        (m) => `${(m.NetworkInterfaceId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]} ${m.GroupIpAddress}`,
      );
      expect(pairs.sort()).toEqual(enis.flatMap((e) => groupsOf(cfg).map((g) => `${e} ${g}`)).sort());
    }
    // A member can only be registered once its subnet is in the domain.
    for (const [, m] of resourcesOfType(t, 'AWS::EC2::TransitGatewayMulticastGroupMember'))
      expect(m.DependsOn).toEqual([expect.stringMatching(/^DomainAssociation/)]);
  });

  it('registers the router ENIs from config as sources of every group (prod), none when not configured', () => {
    t.resourceCountIs('AWS::EC2::TransitGatewayMulticastGroupSource', 0);
    const sources = props(tp, 'AWS::EC2::TransitGatewayMulticastGroupSource');
    expect(sources.map((s) => `${s.NetworkInterfaceId} ${s.GroupIpAddress}`).sort()).toEqual(
      prod.feed.routerSourceEnis.flatMap((e) => groupsOf(prod.feed).map((g) => `${e} ${g}`)).sort(),
    );
  });

  it('routes the on-premises networks to the transit gateway (prod), after the attachment exists', () => {
    t.resourceCountIs('AWS::EC2::Route', 0);
    const routes = resourcesOfType(tp, 'AWS::EC2::Route');
    expect(routes).toHaveLength(prod.feed.onPremisesCidrs.length * prod.feed.availabilityZones.length);
    for (const [, r] of routes) {
      expect(prod.feed.onPremisesCidrs).toContain(r.Properties!.DestinationCidrBlock);
      expect(r.Properties!.TransitGatewayId).toEqual({ 'Fn::GetAtt': ['TransitGateway', 'Id'] });
      expect(r.DependsOn).toEqual(['VpcAttachment']);
    }
  });
});

describe('FeedHandlerStack: security groups', () => {
  it('multicast ENIs accept exactly the configured UDP ports from the configured sources, send nothing', () => {
    expect(rules(t, 'MulticastSecurityGroup', 'SecurityGroupIngress')).toEqual([
      'udp 10.200.0.0/24 14310-14310',
      'udp 10.200.0.0/24 15310-15310',
    ]);
    // CDK's placeholder that denies all egress.
    expect(rules(t, 'MulticastSecurityGroup', 'SecurityGroupEgress')).toEqual([
      'icmp 255.255.255.255/32 252-86',
    ]);
    const ports = [14310, 14312, 15310, 15312];
    expect(rules(tp, 'MulticastSecurityGroup', 'SecurityGroupIngress')).toEqual(
      prod.feed.multicastSourceCidrs.flatMap((c) => ports.map((p) => `udp ${c} ${p}-${p}`)).sort(),
    );
  });

  it('IGMPv2 domains add the IGMP rules AWS documents (protocol 2): query in, leave and joins out', () => {
    expect(rules(tv, 'MulticastSecurityGroup', 'SecurityGroupIngress')).toEqual([
      '2 0.0.0.0/32 -',
      'udp 10.200.0.0/24 14310-14310',
      'udp 10.200.0.0/24 15310-15310',
    ]);
    expect(rules(tv, 'MulticastSecurityGroup', 'SecurityGroupEgress')).toEqual(
      ['224.0.0.2', ...groupsOf(dev.feed)].map((g) => `2 ${g}/32 -`).sort(),
    );
  });

  it('hosts accept only the relay ports from subscriber networks and send only HTTPS (and UDP relay)', () => {
    expect(rules(t, 'HostSecurityGroup', 'SecurityGroupIngress')).toEqual(['tcp 10.10.0.0/16 9310-9310']);
    expect(rules(t, 'HostSecurityGroup', 'SecurityGroupEgress')).toEqual(['tcp 0.0.0.0/0 443-443']);
    expect(rules(tp, 'HostSecurityGroup', 'SecurityGroupIngress')).toEqual([
      'tcp 10.30.0.0/16 9310-9310',
      'tcp 10.30.0.0/16 9312-9312',
    ]);
    const withUdp: EnvironmentConfig = {
      ...dev,
      feed: {
        ...dev.feed,
        channels: [{ ...dev.feed.channels[0]!, relayUdp: ['10.10.5.7:7000'], tcpReplay: '10.200.9.9:10000' }],
        tcpReplayCredentialsSecretArn: REPLAY_SECRET,
      },
    };
    const tu = template(testApp([withUdp]).stages.dev.feed!);
    expect(rules(tu, 'HostSecurityGroup', 'SecurityGroupEgress')).toEqual([
      'tcp 0.0.0.0/0 443-443',
      'tcp 10.200.9.9/32 10000-10000',
      'udp 10.10.5.7/32 7000-7000',
    ]);
    expect(execStarts(userData(tu)[0]!)[0]).toContain(
      `--relay-udp 10.10.5.7:7000 --replay 10.200.9.9:10000 --replay-secret ${REPLAY_SECRET}`,
    );
  });

  it('no SSH anywhere: no key pair, no port 22', () => {
    for (const tt of [t, tp, tv]) {
      for (const p of props(tt, 'AWS::EC2::Instance')) expect(p.KeyName).toBeUndefined();
      for (const p of props(tt, 'AWS::EC2::LaunchTemplate'))
        expect((p.LaunchTemplateData as Props).KeyName).toBeUndefined();
      expect(JSON.stringify(props(tt, 'AWS::EC2::SecurityGroup'))).not.toMatch(/"FromPort":22\b/);
    }
  });
});

describe('FeedHandlerStack: instances', () => {
  it("one network-optimized instance per feed AZ, in that AZ's private subnet", () => {
    const instances = props(t, 'AWS::EC2::Instance');
    expect(instances).toHaveLength(dev.feed.availabilityZones.length);
    // The subnet fixes the AZ: each instance sits in the network stack's egress subnet of its AZ.
    const subnetIds = dev.feed.availabilityZones.map((az) => {
      const [subnet] = stage.network.vpc.selectSubnets({
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
        availabilityZones: [az],
      }).subnets;
      return stage.network.getLogicalId(subnet!.node.defaultChild as ec2.CfnSubnet);
    });
    expect(instances.map((i) => JSON.stringify(i.SubnetId))).toEqual(
      subnetIds.map((id) => expect.stringContaining(`PublishOutputRef${id}`)),
    );
    for (const i of instances) {
      expect(i.InstanceType).toBe(dev.feed.instanceType);
      expect(i.AvailabilityZone).toBeUndefined();
    }
    expect(props(tp, 'AWS::EC2::Instance').map((i) => i.InstanceType)).toEqual([
      'c6in.2xlarge',
      'c6in.2xlarge',
    ]);
    expect(props(tv, 'AWS::EC2::Instance')).toHaveLength(1);
  });

  it('Amazon Linux 2023 resolved at launch, arm64 for Graviton (g) types', () => {
    expect(props(t, 'AWS::EC2::Instance')[0]!.ImageId).toBe(
      'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    );
    expect(props(tv, 'AWS::EC2::Instance')[0]!.ImageId).toBe(
      'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    );
  });

  it('IMDSv2 only, through each instance launch template', () => {
    const templates = resourcesOfType(t, 'AWS::EC2::LaunchTemplate');
    expect(templates).toHaveLength(2);
    for (const [, lt] of templates)
      expect((lt.Properties!.LaunchTemplateData as Props).MetadataOptions).toEqual({
        HttpTokens: 'required',
      });
    for (const p of props(t, 'AWS::EC2::Instance'))
      expect(p.LaunchTemplate).toMatchObject({ LaunchTemplateName: expect.any(String) });
  });

  it('encrypted gp3 root volumes with the stack key, detailed monitoring, Session Manager role', () => {
    for (const p of props(tp, 'AWS::EC2::Instance')) {
      expect(p.BlockDeviceMappings).toEqual([
        {
          DeviceName: '/dev/xvda',
          Ebs: {
            Encrypted: true,
            KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^VolumeKey/), 'Arn'] },
            VolumeSize: prod.feed.rootVolumeGiB,
            VolumeType: 'gp3',
            DeleteOnTermination: true,
          },
        },
      ]);
      expect(p.Monitoring).toBe(true);
      expect(p.IamInstanceProfile).toBeDefined();
    }
  });

  it('a dedicated market-data ENI per instance, attached as the second interface', () => {
    const attachments = props(t, 'AWS::EC2::NetworkInterfaceAttachment');
    expect(attachments).toHaveLength(2);
    for (const a of attachments) {
      expect(a.DeviceIndex).toBe('1');
      expect(a.InstanceId).toEqual({ Ref: expect.stringMatching(/^Handler[AB]/) });
      expect(a.NetworkInterfaceId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^MulticastEni[AB]$/), 'Id'],
      });
    }
    for (const eni of props(t, 'AWS::EC2::NetworkInterface'))
      expect(eni.GroupSet).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^MulticastSecurityGroup/), 'GroupId'] },
      ]);
  });

  it('a cluster placement group per AZ only when configured', () => {
    t.resourceCountIs('AWS::EC2::PlacementGroup', 0);
    const groups = resourcesOfType(tp, 'AWS::EC2::PlacementGroup');
    expect(groups.map(([, g]) => g.Properties!.Strategy)).toEqual(['cluster', 'cluster']);
    const used = props(tp, 'AWS::EC2::Instance').map(
      (i) => (i.PlacementGroupName as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0],
    );
    expect(used.sort()).toEqual(groups.map(([id]) => id).sort());
  });

  it('the second instance waits for the first (updates restart one AZ at a time)', () => {
    const instances = resourcesOfType(t, 'AWS::EC2::Instance');
    const [a, b] = instances.map(([id]) => id).sort();
    expect(instances.find(([id]) => id === b)![1].DependsOn).toEqual(expect.arrayContaining([a]));
  });
});

describe('FeedHandlerStack: user data', () => {
  it('installs Node.js and the CloudWatch agent, fetches the bundle asset and the schema, every boot', () => {
    const ud = userData(t)[0]!;
    expect(ud).toContain('scripts-user, always');
    expect(ud).toContain('dnf install -y nodejs22 amazon-cloudwatch-agent unzip');
    expect(ud).toMatch(
      /^aws s3 cp 's3:\/\/cdk-[a-z0-9]+-assets-111111111111-us-east-1\/[0-9a-f]{64}\.zip' '\/tmp\/quant-feed-handler\.zip'$/m,
    );
    expect(ud).toContain('unzip -o /tmp/quant-feed-handler.zip -d /opt/quant-feed');
    expect(ud).toContain(`aws s3 cp ${dev.feed.schemaS3Uri} ${dev.feed.schemaPath}`);
    expect(ud).toContain('amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:');
    expect(ud).toContain('net.ipv4.conf.all.rp_filter = 2');
  });

  it('a systemd unit per channel that restarts on failure and runs `quant feed run` with the config', () => {
    const ud = userData(t)[0]!;
    expect(ud).toContain('/etc/systemd/system/quant-feed-310.service');
    expect(ud).toContain('Restart=on-failure');
    expect(ud).toContain('User=quant-feed');
    expect(ud).toContain(
      'systemctl enable quant-feed-310.service && systemctl restart quant-feed-310.service',
    );
    const [exec] = execStarts(ud);
    const c = dev.feed.channels[0]!;
    expect(exec).toContain(
      `/opt/quant-feed/feed-handler.mjs --aws feed run --channel 310 --schema ${dev.feed.schemaPath} --feed-a 224.0.31.1:14310 --feed-b 224.0.32.1:15310 --snapshot 224.0.31.22:14310`,
    );
    expect(exec).toContain(`--relay-tcp 0.0.0.0:${c.relayTcpPort}`);
    expect(exec).toContain(`--metrics-port ${c.metricsPort}`);
    expect(exec).toContain('--emf');
    // Multicast is joined on the market-data ENI's address; ticks go to the ingestion stream.
    expect(exec).toMatch(/--iface <GetAtt:MulticastEni[AB]\.PrimaryPrivateIpAddress>/);
    expect(exec).toMatch(/--kinesis <Output:dev-Ingestion\.PublishOutputRefTicks[0-9A-F]+>$/);
    // Each instance joins on its own ENI.
    expect(
      userData(t)
        .map((u) => /--iface <GetAtt:(\w+)\./.exec(u)![1])
        .sort(),
    ).toEqual(['MulticastEniA', 'MulticastEniB']);
    expect(userData(tv)[0]).not.toContain('--kinesis');
    // prod: one unit per channel, each with its own ports.
    const prodExecs = execStarts(userData(tp)[0]!);
    expect(prodExecs).toHaveLength(2);
    expect(prodExecs[1]).toContain('--relay-tcp 0.0.0.0:9312');
    expect(prodExecs[1]).toContain('--metrics-port 9466');
  });

  it('the CloudWatch agent ships each channel log to the encrypted log group with retention', () => {
    const ud = userData(t)[0]!;
    expect(ud).toContain('/var/log/quant-feed/channel-310.log');
    const agent = JSON.parse(/quant-feed\.json <<'EOF'\n([\s\S]*?)\nEOF/.exec(ud)![1]!) as {
      logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string }[] } } };
    };
    const files = agent.logs.logs_collected.files.collect_list;
    expect(files.map((f) => f.file_path)).toEqual([
      '/var/log/quant-feed/channel-310.log',
      '/var/log/quant-feed/channel-310.err.log',
    ]);
    for (const f of files) expect(f.log_group_name).toMatch(/^<Ref:HandlerLogs[0-9A-F]+>$/);
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: Match.anyValue(),
      RetentionInDays: dev.monitoring.logRetentionDays,
    });
  });
});

describe('FeedHandlerStack: IAM', () => {
  it('no managed policies; Resource "*" only for Session Manager and the host-metrics namespace', () => {
    for (const [, r] of resourcesOfType(t, 'AWS::IAM::Role'))
      expect(r.Properties!.ManagedPolicyArns).toBeUndefined();
    for (const s of statements(t).filter((x) => x.Resource === '*')) {
      for (const a of actions(s))
        expect(a).toMatch(/^(ssm:UpdateInstanceInformation|ssmmessages:\w+|cloudwatch:PutMetricData)$/);
      if (actions(s).includes('cloudwatch:PutMetricData'))
        expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'Quant/FeedHost' } });
    }
    expect(
      statements(t)
        .flatMap(actions)
        .filter((a) => a === '*' || a.endsWith(':*')),
    ).toEqual([]);
  });

  it('reads only the schema object and the bundle object; writes the ticks stream and its log group', () => {
    const gets = statements(t).filter((st) => actions(st).includes('s3:GetObject'));
    expect(gets.flatMap(actions)).toEqual(['s3:GetObject']);
    const objects = gets
      .flatMap((st) => [st.Resource].flat())
      .map(String)
      .sort();
    expect(objects).toEqual([
      expect.stringMatching(/^arn:aws:s3:::cdk-[a-z0-9]+-assets-111111111111-us-east-1\/[0-9a-f]{64}\.zip$/),
      'arn:aws:s3:::quant-dev-reference-data/cme/templates_FixBinary.xml',
    ]);
    expect(statements(t).flatMap(actions)).toEqual(
      expect.arrayContaining(['kinesis:PutRecords', 'logs:PutLogEvents']),
    );
    expect(statements(tv).flatMap(actions)).not.toContain('kinesis:PutRecords');
  });

  it('reads the TCP replay logon secret, exactly that ARN, only when a channel uses TCP replay', () => {
    const secretActions = (tt: Template) =>
      statements(tt).filter((st) => actions(st).some((a) => a.startsWith('secretsmanager:')));
    expect(secretActions(t)).toEqual([]);
    expect(secretActions(tp)).toEqual([]);
    const withReplay: EnvironmentConfig = {
      ...dev,
      feed: {
        ...dev.feed,
        channels: [{ ...dev.feed.channels[0]!, tcpReplay: '10.200.9.9:10000' }],
        tcpReplayCredentialsSecretArn: REPLAY_SECRET,
      },
    };
    const replayStage = testApp([withReplay]).stages.dev;
    const tr = template(replayStage.feed!);
    expect(secretActions(tr)).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: REPLAY_SECRET },
    ]);
    expect(nagViolations(replayStage.feed!)).toEqual([]);
  });

  it('passes the synth-time validation of `cdk synth` (cdk-nag plugin, CloudFormation rules): no finding on its resources', () => {
    const outdir = mkdtempSync(path.join(os.tmpdir(), 'feed-synth-'));
    try {
      const { app } = createApp([dev], { context: SKIP_BUNDLING, outdir });
      try {
        app.synth();
      } catch {
        // Errors elsewhere are other stacks' to fix; the report below still lists every finding.
      }
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: {
          pluginName: string;
          violations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
        }[];
      };
      const ours = report.pluginReports.flatMap((r) =>
        (r.violations ?? []).flatMap((v) =>
          v.violatingConstructs
            .filter((c) => c.constructPath.startsWith('dev/FeedHandler/'))
            .map((c) => `${r.pluginName} ${v.ruleName} ${c.constructPath}`),
        ),
      );
      expect(report.pluginReports.map((r) => r.pluginName)).toContain('CloudFormation Validate');
      expect(ours).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);

  it('has no unacknowledged AwsSolutions findings (dev, prod, variant) and no stale acknowledgements', () => {
    expect(nagViolations(stage.feed!)).toEqual([]);
    expect(nagViolations(prodStage.feed!)).toEqual([]);
    expect(nagViolations(variantStage.feed!)).toEqual([]);
    expect(staleAcknowledgements(stage.feed!)).toEqual([]);
  });
});

describe('FeedHandlerStack: monitoring', () => {
  const alarms = (tt: Template) => props(tt, 'AWS::CloudWatch::Alarm');

  it('no packets on a channel: breaching when data is missing (the handler is down)', () => {
    const noPackets = alarms(tp).filter((a) => String(a.AlarmDescription).includes('no packet'));
    expect(noPackets).toHaveLength(prod.feed.channels.length);
    for (const a of noPackets) {
      expect(a).toMatchObject({
        TreatMissingData: 'breaching',
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: prod.feed.noPacketsAlarmMinutes,
      });
      const metrics = JSON.stringify(a.Metrics);
      expect(metrics).toContain(`"Namespace":"${FEED_METRICS.namespace}"`);
      expect(metrics).toContain('"MetricName":"PacketsA"');
      expect(metrics).toContain('"MetricName":"PacketsB"');
    }
  });

  it('gap rate, recoveries and subscriber drops over all channels, status checks per instance', () => {
    const find = (metric: string) =>
      alarms(tp).find((a) => JSON.stringify(a.Metrics ?? a).includes(`"MetricName":"${metric}"`));
    expect(find('Gaps')).toMatchObject({
      Threshold: prod.feed.gapAlarmThreshold,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(find('Recoveries')).toMatchObject({ Threshold: prod.feed.recoveryAlarmThreshold });
    expect(find('SubscriberDrops')).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    // One channel in dev: the metric itself, with the Channel dimension.
    const devGaps = JSON.stringify(alarms(t).find((a) => JSON.stringify(a).includes('"MetricName":"Gaps"')));
    expect(devGaps).toContain('"Namespace":"Quant/Feed"');
    expect(devGaps).toContain('"Dimensions":[{"Name":"Channel","Value":"310"}]');
    expect(alarms(t).filter((a) => a.MetricName === 'StatusCheckFailed')).toHaveLength(2);
    expect(alarms(t)).toHaveLength(6);
    for (const a of [...alarms(t), ...alarms(tp)]) expect(a.AlarmActions).toHaveLength(1);
  });

  it('adds a Feed handler section to the dashboard', () => {
    const body = JSON.stringify(template(stage.dashboard).toJSON());
    for (const title of [
      '## Feed handler',
      'Packets/s per feed',
      'Gaps and recoveries',
      'subscriber drops',
      'ENA packets dropped',
      'Latency, first copy received to relayed and decoded',
    ])
      expect(body).toContain(title);
    // The handler's EMF metric names (src/feed/metrics.ts) are the ones graphed and alarmed on.
    for (const name of [
      'PacketsA',
      'PacketsB',
      'Duplicates',
      'Gaps',
      'Recoveries',
      'SubscriberDrops',
      'LatencyP99',
    ])
      expect(body).toContain(
        // Quotes inside the dashboard body are escaped once more in the stringified template.
        `\\"${FEED_METRICS.namespace}\\",\\"${name}\\",\\"${FEED_METRICS.dimension}\\",\\"310\\"`,
      );
  });
});

describe('feed config validation', () => {
  it('fails synth up front (ConfigError naming the field) before any stack is built', () => {
    const broken = { ...dev, feed: { ...dev.feed, instanceType: 'm7i.large' } };
    expect(() => createApp([broken], { nag: false })).toThrow(ConfigError);
    expect(() => createApp([broken], { nag: false })).toThrow(/^dev\.feed\.instanceType: /);
  });

  it('builds no feed stack when disabled', () => {
    const off = testApp([{ ...dev, feed: { ...dev.feed, enabled: false } }]).stages.dev;
    expect(off.feed).toBeUndefined();
    expect(off.node.tryFindChild('FeedHandler')).toBeUndefined();
  });
});
