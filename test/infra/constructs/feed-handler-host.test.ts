import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../../lib/config';
import type { FeedChannelConfig } from '../../../lib/config';
import { FeedHandlerHost, acknowledgeInlinePolicies } from '../../../lib/constructs';
import type { FeedHandlerHostProps } from '../../../lib/constructs';
import { DashboardStack, MonitoringHub, MonitoringStack } from '../../../lib/stacks/monitoring-stack';
import {
  SKIP_BUNDLING,
  cdkJsonContext,
  nagAcknowledgements,
  nagViolations,
  resourcesOfType,
} from '../helpers';
import type { PackName } from '../helpers';

const env = { account: '123456789012', region: 'eu-west-1' };
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:quant/cme-replay-Ab12Cd';
/** dev's channel 310: feeds A and B and the snapshot loop, a TCP relay, no replay. */
const channel: FeedChannelConfig = dev.feed.channels[0]!;

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** A host in a stack of its own, with the monitoring stacks an environment has, as QuantStage builds them. */
function build(extra: (stack: Stack) => Partial<FeedHandlerHostProps> = () => ({})) {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const alerts = new MonitoringStack(app, 'Monitoring', {
    env,
    environmentName: 'test',
    alarmEmail: 'alarms@example.com',
    logRetentionDays: 30,
  });
  const board = new DashboardStack(app, 'Dashboard', { env, environmentName: 'test' });
  const stack = new Stack(app, 'Feed', { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    natGateways: 1,
    restrictDefaultSecurityGroup: true,
  });
  const host = new FeedHandlerHost(stack, 'Host', {
    vpc,
    subnets: vpc.privateSubnets,
    instanceType: 'c6in.large',
    channels: [channel],
    schemaPath: '/opt/quant-feed/schema/templates_FixBinary.xml',
    schemaS3Uri: 's3://reference-data/cme/templates_FixBinary.xml',
    multicastSourceCidrs: ['10.200.0.0/24'],
    monitoring: new MonitoringHub(alerts, board),
    ...extra(stack),
  });
  acknowledgeInlinePolicies(app);
  return { stack, host, t: Template.fromStack(stack) };
}

const statements = (t: Template): Statement[] =>
  resourcesOfType(t, 'AWS::IAM::Policy')
    .filter(([id]) => id.startsWith('Host'))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
const sgRules = (t: Template, prefix: string, kind: 'SecurityGroupIngress' | 'SecurityGroupEgress') => {
  const [, sg] = resourcesOfType(t, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith(prefix))!;
  return (
    (sg.Properties![kind] as { IpProtocol: string; CidrIp: string; FromPort?: number }[] | undefined) ?? []
  )
    .map((r) => `${r.IpProtocol} ${r.CidrIp} ${r.FromPort ?? ''}`)
    .sort();
};

describe('FeedHandlerHost: secure defaults', () => {
  let b: ReturnType<typeof build>;
  beforeAll(() => {
    b = build();
  });

  it('one instance per subnet: IMDSv2, encrypted 16 GiB gp3 root with its own key, no SSH key, no AZ repeated', () => {
    const instances = resourcesOfType(b.t, 'AWS::EC2::Instance');
    expect(instances).toHaveLength(2);
    for (const [, i] of instances) {
      const p = i.Properties!;
      expect(p.KeyName).toBeUndefined();
      expect(p.AvailabilityZone).toBeUndefined();
      expect(p.Monitoring).toBe(true);
      expect(p.BlockDeviceMappings).toEqual([
        {
          DeviceName: '/dev/xvda',
          Ebs: {
            Encrypted: true,
            KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^HostVolumeKey/), 'Arn'] },
            VolumeSize: 16,
            VolumeType: 'gp3',
            DeleteOnTermination: true,
          },
        },
      ]);
      expect(p.Tags).toContainEqual({
        Key: 'Name',
        Value: expect.stringMatching(/^Feed\/Host\/Handler[AB]$/),
      });
    }
    for (const [, lt] of resourcesOfType(b.t, 'AWS::EC2::LaunchTemplate'))
      expect((lt.Properties!.LaunchTemplateData as { MetadataOptions: unknown }).MetadataOptions).toEqual({
        HttpTokens: 'required',
      });
    b.t.resourceCountIs('AWS::EC2::PlacementGroup', 0);
  });

  it('market-data ENIs take only the feed UDP ports from the sources; hosts take nothing, send only HTTPS', () => {
    expect(sgRules(b.t, 'HostMulticastSecurityGroup', 'SecurityGroupIngress')).toEqual([
      'udp 10.200.0.0/24 14310',
      'udp 10.200.0.0/24 15310',
    ]);
    expect(sgRules(b.t, 'HostHostSecurityGroup', 'SecurityGroupIngress')).toEqual([]);
    expect(sgRules(b.t, 'HostHostSecurityGroup', 'SecurityGroupEgress')).toEqual(['tcp 0.0.0.0/0 443']);
    const attachments = resourcesOfType(b.t, 'AWS::EC2::NetworkInterfaceAttachment');
    expect(attachments.map(([, a]) => a.Properties!.DeviceIndex)).toEqual(['1', '1']);
  });

  it('no managed policy, no secret, no stream; Resource "*" only where AWS has no resource-level permission', () => {
    // The host's roles (the test VPC's custom resource has one of its own).
    const roles = resourcesOfType(b.t, 'AWS::IAM::Role').filter(([id]) => id.startsWith('Host'));
    expect(roles).toHaveLength(1);
    for (const [, r] of roles) expect(r.Properties!.ManagedPolicyArns).toBeUndefined();
    const all = statements(b.t).flatMap(actions);
    expect(all.filter((a) => /^(secretsmanager|kinesis):/.test(a))).toEqual([]);
    for (const s of statements(b.t).filter((x) => x.Resource === '*'))
      for (const a of actions(s)) expect(a).toMatch(/^(ssmmessages:\w+|cloudwatch:PutMetricData)$/);
    expect(all.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });

  it('user data runs the channel as a systemd service from the bundle, joined on its market-data ENI', () => {
    const ud = JSON.stringify(resourcesOfType(b.t, 'AWS::EC2::Instance')[0]![1].Properties!.UserData);
    expect(ud).toContain(
      'ExecStart=/usr/local/bin/quant-feed-node /opt/quant-feed/feed-handler.mjs --aws feed run --channel 310',
    );
    expect(ud).toMatch(
      /--iface ",\{"Fn::GetAtt":\["HostMulticastEniA[0-9A-F]{8}","PrimaryPrivateIpAddress"\]\}/,
    );
    expect(ud).not.toContain('--kinesis');
    expect(ud).toContain('aws s3 cp s3://reference-data/cme/templates_FixBinary.xml');
  });

  it('alarms per channel, over all channels and per instance, all notifying the alarm topic', () => {
    const alarms = resourcesOfType(b.t, 'AWS::CloudWatch::Alarm');
    expect(alarms.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'HostGapAlarm',
      'HostInstanceStatusAlarmA',
      'HostInstanceStatusAlarmB',
      'HostNoPacketsAlarm310',
      'HostRecoveryAlarm',
      'HostSubscriberDropAlarm',
    ]);
    const noPackets = alarms.find(([id]) => id.startsWith('HostNoPacketsAlarm'))![1].Properties!;
    expect(noPackets).toMatchObject({ EvaluationPeriods: 3, TreatMissingData: 'breaching' });
    for (const [, a] of alarms) expect(a.Properties!.AlarmActions).toHaveLength(1);
  });

  it.each<PackName>(['AwsSolutions', 'NIST.800.53.R5'])('has no %s finding', (pack) => {
    // Only the host's resources: the test VPC is not this construct's to fix.
    expect(nagViolations(b.stack, pack).filter((f) => f.path.startsWith('Feed/Host/'))).toEqual([]);
    // The filter keeps the host's resources: its acknowledged findings carry these paths.
    expect(nagAcknowledgements(b.stack, pack).some((a) => a.path.startsWith('Feed/Host/'))).toBe(true);
  });
});

describe('FeedHandlerHost: options', () => {
  it('a stream, the replay secret, relay subscribers, IGMP and placement groups add exactly their grants and rules', () => {
    const b = build((stack) => ({
      ticksStream: new kinesis.Stream(stack, 'Ticks', { encryption: kinesis.StreamEncryption.MANAGED }),
      tcpReplayCredentialsSecretArn: SECRET,
      channels: [{ ...channel, tcpReplay: '10.200.9.9:10000', relayUdp: ['10.10.5.7:7000'] }],
      relaySubscriberCidrs: ['10.10.0.0/16'],
      igmpv2: true,
      clusterPlacementGroup: true,
      rootVolumeGiB: 32,
    }));
    expect(statements(b.t).filter((s) => actions(s).includes('secretsmanager:GetSecretValue'))).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET },
    ]);
    expect(statements(b.t).flatMap(actions)).toContain('kinesis:PutRecords');
    expect(sgRules(b.t, 'HostHostSecurityGroup', 'SecurityGroupIngress')).toEqual(['tcp 10.10.0.0/16 9310']);
    expect(sgRules(b.t, 'HostHostSecurityGroup', 'SecurityGroupEgress')).toEqual([
      'tcp 0.0.0.0/0 443',
      'tcp 10.200.9.9/32 10000',
      'udp 10.10.5.7/32 7000',
    ]);
    expect(sgRules(b.t, 'HostMulticastSecurityGroup', 'SecurityGroupEgress')).toEqual(
      ['224.0.0.2', '224.0.31.1', '224.0.31.22', '224.0.32.1'].map((g) => `2 ${g}/32 `),
    );
    b.t.resourceCountIs('AWS::EC2::PlacementGroup', 2);
    const ud = JSON.stringify(resourcesOfType(b.t, 'AWS::EC2::Instance')[0]![1].Properties!.UserData);
    expect(ud).toContain(`--replay 10.200.9.9:10000 --replay-secret ${SECRET}`);
    expect(ud).toContain('--kinesis ');
    expect(nagViolations(b.stack).filter((f) => f.path.startsWith('Feed/Host/'))).toEqual([]);
  });

  it('refuses a schema location that is not s3://bucket/key', () => {
    expect(() => build(() => ({ schemaS3Uri: 'https://example.com/schema.xml' }))).toThrow(
      /schemaS3Uri: expected s3:\/\/bucket\/key/,
    );
  });
});
