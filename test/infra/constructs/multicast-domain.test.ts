import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { MulticastDomain, azLetter } from '../../../lib/constructs';
import { cdkJsonContext, nagViolations, resourcesOfType } from '../helpers';

const env = { account: '123456789012', region: 'eu-west-1' };
const GROUPS = ['224.0.31.1', '224.0.32.1'];
const ROUTERS = ['eni-0123456789abcdef0'];

/** A stack with a two-AZ VPC and a domain over its private subnets (with `props` on top). */
function build(props: Partial<ConstructorParameters<typeof MulticastDomain>[2]> = {}) {
  const stack = new Stack(new App({ context: cdkJsonContext() }), 'Test', { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    natGateways: 1,
    restrictDefaultSecurityGroup: true,
  });
  const domain = new MulticastDomain(stack, 'Multicast', {
    vpc,
    subnets: vpc.privateSubnets,
    groups: GROUPS,
    ...props,
  });
  return { stack, vpc, domain };
}

describe('MulticastDomain', () => {
  let t: Template;
  let stack: Stack;
  beforeAll(() => {
    const b = build({ staticSourceEnis: ROUTERS, onPremisesCidrs: ['192.168.10.0/24'] });
    stack = b.stack;
    const eni = new ec2.CfnNetworkInterface(stack, 'Eni', { subnetId: b.vpc.privateSubnets[1]!.subnetId });
    b.domain.addMember(eni, b.vpc.privateSubnets[1]!);
    t = Template.fromStack(stack);
  });

  it('a transit gateway with multicast support that accepts no shared attachment, attached to the subnets', () => {
    t.resourceCountIs('AWS::EC2::TransitGateway', 1);
    t.hasResourceProperties('AWS::EC2::TransitGateway', {
      MulticastSupport: 'enable',
      AutoAcceptSharedAttachments: 'disable',
    });
    const [[, attachment]] = resourcesOfType(t, 'AWS::EC2::TransitGatewayAttachment');
    expect(attachment!.Properties!.SubnetIds).toHaveLength(2);
  });

  it('secure defaults: no IGMP; static sources only when ENIs are given', () => {
    t.hasResourceProperties('AWS::EC2::TransitGatewayMulticastDomain', {
      Options: {
        Igmpv2Support: 'disable',
        StaticSourcesSupport: 'enable',
        AutoAcceptSharedAssociations: 'disable',
      },
    });
    const plain = Template.fromStack(build().stack);
    plain.hasResourceProperties('AWS::EC2::TransitGatewayMulticastDomain', {
      Options: {
        Igmpv2Support: 'disable',
        StaticSourcesSupport: 'disable',
        AutoAcceptSharedAssociations: 'disable',
      },
    });
    plain.resourceCountIs('AWS::EC2::TransitGatewayMulticastGroupSource', 0);
    // The VPC's own routes (NAT, internet gateway) are there; none leads to the gateway.
    expect(
      resourcesOfType(plain, 'AWS::EC2::Route').filter(([, r]) => r.Properties!.TransitGatewayId),
    ).toEqual([]);
  });

  it('associates every subnet; each router ENI sources every group once the subnets are associated', () => {
    const associations = resourcesOfType(t, 'AWS::EC2::TransitGatewayMulticastDomainAssociation');
    expect(associations.map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'MulticastDomainAssociationA',
      'MulticastDomainAssociationB',
    ]);
    const sources = resourcesOfType(t, 'AWS::EC2::TransitGatewayMulticastGroupSource');
    expect(
      sources.map(([, s]) => `${s.Properties!.NetworkInterfaceId} ${s.Properties!.GroupIpAddress}`),
    ).toEqual(GROUPS.map((g) => `${ROUTERS[0]} ${g}`));
    for (const [, s] of sources) expect(s.DependsOn).toEqual(associations.map(([id]) => id));
  });

  it('a member joins every group after its own subnet is associated; a foreign subnet is refused', () => {
    const members = resourcesOfType(t, 'AWS::EC2::TransitGatewayMulticastGroupMember');
    expect(members.map(([, m]) => m.Properties!.GroupIpAddress)).toEqual(GROUPS);
    const [, b] = resourcesOfType(t, 'AWS::EC2::TransitGatewayMulticastDomainAssociation').map(([id]) => id);
    for (const [, m] of members) expect(m.DependsOn).toEqual([b]);
    const other = build();
    const foreign = new ec2.Vpc(other.stack, 'Other', { availabilityZones: ['eu-west-1a'], natGateways: 0 });
    const eni = new ec2.CfnNetworkInterface(other.stack, 'Eni', {
      subnetId: foreign.isolatedSubnets[0]!.subnetId,
    });
    expect(() => other.domain.addMember(eni, foreign.isolatedSubnets[0]!)).toThrow(
      /not an associated subnet/,
    );
  });

  it('routes the on-premises networks of every subnet to the gateway, after the attachment', () => {
    const routes = resourcesOfType(t, 'AWS::EC2::Route').filter(([, r]) => r.Properties!.TransitGatewayId);
    expect(routes).toHaveLength(2);
    for (const [, r] of routes) {
      expect(r.Properties!.DestinationCidrBlock).toBe('192.168.10.0/24');
      expect(r.DependsOn).toEqual([expect.stringMatching(/^MulticastVpcAttachment/)]);
    }
  });

  it('has no AwsSolutions or NIST 800-53 R5 finding', () => {
    // Only the domain's own resources: the test VPC is not this construct's to fix.
    const ours = (pack: 'AwsSolutions' | 'NIST.800.53.R5') =>
      nagViolations(stack, pack).filter((f) => f.path.startsWith('Test/Multicast/'));
    expect(ours('AwsSolutions')).toEqual([]);
    expect(ours('NIST.800.53.R5')).toEqual([]);
  });

  it('names per-AZ resources by the letter of the AZ', () => {
    expect(azLetter('ap-southeast-1c')).toBe('C');
  });
});
