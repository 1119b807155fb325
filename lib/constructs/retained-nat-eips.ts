import { CfnOutput, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { NetworkConfig } from '../config/types';
import { EncryptedLogGroup } from './encrypted-log-group';

/**
 * One Elastic IP per NAT gateway (`<idPrefix>1`, `<idPrefix>2`, ...), tagged `<stack>-nat-<n>` and
 * retained: every broker or vendor call leaves from one of them, so replacing or deleting the stack
 * must keep the addresses on the broker's allow-list.
 */
export function retainedNatEips(scope: Construct, idPrefix: string, count: number): ec2.CfnEIP[] {
  const stackName = Stack.of(scope).stackName;
  return Array.from({ length: count }, (_, i) => {
    const eip = new ec2.CfnEIP(scope, `${idPrefix}${i + 1}`, {
      domain: 'vpc',
      tags: [{ key: 'Name', value: `${stackName}-nat-${i + 1}` }],
    });
    eip.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return eip;
  });
}

export interface NatEgressVpcProps {
  /** CIDR, zones, NAT gateways and flow-log retention. */
  readonly network: NetworkConfig;
  /** Key of the flow-log group. */
  readonly logKey: kms.IKey;
  /** Ids of the parts, as each stack first named them (the Elastic IPs are retained). */
  readonly ids: {
    readonly eip: string;
    readonly vpc: string;
    readonly flowLogs: string;
    readonly output: string;
  };
  /** Subnets besides the public (NAT only) and egress ones. @default none */
  readonly extraSubnets?: readonly ec2.SubnetConfiguration[];
  /** Subnets of the S3 and DynamoDB gateway endpoints. */
  readonly gatewayEndpointSubnets: ec2.SubnetSelection[];
  /** Description of the output listing the NAT addresses. */
  readonly outputDescription: string;
}

/**
 * A VPC whose public subnets hold only NAT gateways on retained Elastic IPs (the broker's and
 * vendors' allow-lists hold them), with private egress subnets, S3 and DynamoDB gateway endpoints,
 * every flow logged, and an output listing the NAT addresses.
 */
export function natEgressVpc(
  scope: Construct,
  props: NatEgressVpcProps,
): { vpc: ec2.Vpc; natEips: ec2.CfnEIP[] } {
  const { network: n, ids } = props;
  const natEips = retainedNatEips(scope, ids.eip, n.natGateways);
  const vpc = new ec2.Vpc(scope, ids.vpc, {
    ipAddresses: ec2.IpAddresses.cidr(n.vpcCidr),
    natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: natEips.map((e) => e.attrAllocationId) }),
    // Explicit AZs: no context lookup, so synth works offline without credentials.
    availabilityZones: [...n.availabilityZones],
    natGateways: n.natGateways,
    restrictDefaultSecurityGroup: true,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26, mapPublicIpOnLaunch: false },
      { name: 'egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ...(props.extraSubnets ?? []),
    ],
    gatewayEndpoints: {
      S3: { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: props.gatewayEndpointSubnets },
      DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: props.gatewayEndpointSubnets },
    },
  });
  new CfnOutput(scope, ids.output, {
    description: props.outputDescription,
    value: Fn.join(
      ',',
      natEips.map((e) => e.ref),
    ),
  });
  // The public subnets hold only the NAT gateways (no instance gets a public address), and NAT needs
  // their route to the internet gateway.
  for (const subnet of vpc.publicSubnets) {
    const route = subnet.node.tryFindChild('DefaultRoute');
    if (route) {
      Validations.of(route).acknowledge({
        id: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
        reason:
          'Route of a public subnet that holds only a NAT gateway (mapPublicIpOnLaunch off): NAT egress for the private subnets needs it.',
      });
    }
  }
  const flowLogs = new EncryptedLogGroup(scope, ids.flowLogs, {
    encryptionKey: props.logKey,
    retentionDays: n.flowLogRetentionDays,
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  return { vpc, natEips };
}
