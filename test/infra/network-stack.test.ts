import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { nagViolations, resourcesOfType, synthStage, template } from './helpers';

let stage: QuantStage;
let prodStage: QuantStage;
beforeAll(() => {
  stage = synthStage(dev);
  prodStage = synthStage(prod);
});
const t = () => template(stage.network);

const INTERFACE_SERVICES = [
  'kinesis-streams',
  'athena',
  'glue',
  'sts',
  'logs',
  'ecr.api',
  'ecr.dkr',
  'secretsmanager',
  'sns',
  'states',
  'datasync',
];

function serviceName(ep: { Properties?: Record<string, unknown> }): string {
  const name = ep.Properties?.ServiceName;
  if (typeof name === 'string') return name;
  // Gateway endpoints render as Fn::Join ['', ['com.amazonaws.', {Ref: AWS::Region}, '.s3']].
  const parts = (name as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : '<region>')).join('');
}

describe('network stack', () => {
  it('builds the VPC from config with explicit AZs: public (NAT only), egress and isolated subnets', () => {
    t().hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: dev.network.vpcCidr,
      EnableDnsHostnames: true,
      EnableDnsSupport: true,
    });
    const subnets = resourcesOfType(t(), 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(3 * dev.network.availabilityZones.length);
    expect(new Set(subnets.map(([, s]) => s.Properties?.AvailabilityZone))).toEqual(
      new Set(dev.network.availabilityZones),
    );
    for (const [, s] of subnets) expect(s.Properties?.MapPublicIpOnLaunch).toBe(false);
    const types = subnets.map(
      ([, s]) =>
        (s.Properties?.Tags as { Key: string; Value: string }[]).find((x) => x.Key === 'aws-cdk:subnet-type')
          ?.Value,
    );
    expect(types.sort()).toEqual(['Isolated', 'Isolated', 'Private', 'Private', 'Public', 'Public']);
    expect(resourcesOfType(t(), 'AWS::EC2::NatGateway')).toHaveLength(dev.network.natGateways);
    expect(resourcesOfType(template(prodStage.network), 'AWS::EC2::NatGateway')).toHaveLength(
      prod.network.natGateways,
    );
    expect(resourcesOfType(template(prodStage.network), 'AWS::EC2::Subnet')).toHaveLength(9);
  });

  it('has S3 and DynamoDB gateway endpoints on the private route tables', () => {
    const gateways = resourcesOfType(t(), 'AWS::EC2::VPCEndpoint').filter(
      ([, e]) => e.Properties?.VpcEndpointType === 'Gateway',
    );
    expect(gateways.map(([, e]) => serviceName(e)).sort()).toEqual([
      'com.amazonaws.<region>.dynamodb',
      'com.amazonaws.<region>.s3',
    ]);
    for (const [, g] of gateways)
      expect((g.Properties?.RouteTableIds as unknown[]).length).toBe(
        2 * dev.network.availabilityZones.length,
      );
  });

  it('has private-DNS interface endpoints for every AWS API the runtime calls, in the isolated subnets', () => {
    const interfaces = resourcesOfType(t(), 'AWS::EC2::VPCEndpoint').filter(
      ([, e]) => e.Properties?.VpcEndpointType === 'Interface',
    );
    expect(
      interfaces.map(([, e]) => serviceName(e).replace(`com.amazonaws.${dev.region}.`, '')).sort(),
    ).toEqual([...INTERFACE_SERVICES].sort());
    const sgId = resourcesOfType(t(), 'AWS::EC2::SecurityGroup').find(([id]) =>
      id.startsWith('EndpointSecurityGroup'),
    )![0];
    for (const [, e] of interfaces) {
      expect(e.Properties?.PrivateDnsEnabled).toBe(true);
      expect(e.Properties?.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [sgId, 'GroupId'] }]);
      expect(
        (e.Properties?.SubnetIds as { Ref: string }[]).map((r) => r.Ref).every((r) => r.includes('isolated')),
      ).toBe(true);
    }
  });

  it('lets the endpoints accept HTTPS from the VPC CIDR only, and nothing out', () => {
    t().hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Interface VPC endpoints'),
      SecurityGroupIngress: [
        {
          CidrIp: dev.network.vpcCidr,
          FromPort: 443,
          ToPort: 443,
          IpProtocol: 'tcp',
          Description: 'HTTPS from the VPC',
        },
      ],
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
    // The default security group is stripped of its rules.
    expect(resourcesOfType(t(), 'Custom::VpcRestrictDefaultSG')).toHaveLength(1);
  });

  it('flow-logs all traffic to a KMS-encrypted log group with the configured retention', () => {
    t().hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      ResourceType: 'VPC',
    });
    const groups = resourcesOfType(t(), 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0][1].Properties?.RetentionInDays).toBe(dev.network.flowLogRetentionDays);
    // The key is the Monitoring stack's log key, referenced across stacks.
    expect(JSON.stringify(groups[0][1].Properties?.KmsKeyId)).toMatch(/LogKey/);
  });

  it('alarms on NAT port-allocation errors summed over every NAT gateway, notifying the alarm topic', () => {
    const alarms = resourcesOfType(template(prodStage.network), 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(1);
    const p = alarms[0][1].Properties as {
      Metrics: {
        Id: string;
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string; Namespace: string } };
      }[];
      AlarmActions: unknown[];
      Threshold: number;
    };
    expect(p.Threshold).toBe(0);
    expect(JSON.stringify(p.AlarmActions)).toContain('AlarmTopic');
    const stats = p.Metrics.filter((m) => m.MetricStat);
    expect(stats).toHaveLength(prod.network.natGateways);
    for (const m of stats)
      expect(m.MetricStat?.Metric).toMatchObject({
        Namespace: 'AWS/NATGateway',
        MetricName: 'ErrorPortAllocation',
      });
    expect(p.Metrics.find((m) => m.Expression)?.Expression).toBe('e0 + e1 + e2');
  });

  it('has zero unacknowledged cdk-nag AwsSolutions findings (dev and prod)', () => {
    expect(nagViolations(stage.network)).toEqual([]);
    expect(nagViolations(prodStage.network)).toEqual([]);
  });
});
