import { Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { natEgressVpc } from '../constructs';
import type { NetworkConfig } from '../config/types';
import type { IMonitoring } from './monitoring-stack';

export interface NetworkStackProps extends StackProps {
  readonly network: NetworkConfig;
  /** Key of the flow-log group (`MonitoringStack.logKey`). */
  readonly logKey: kms.IKey;
  /**
   * NAT gateway alarms and dashboard widgets go here.
   * @default no alarms or widgets
   */
  readonly monitoring?: IMonitoring;
}

/** Interface endpoints for every AWS API the runtime calls, so isolated subnets need no NAT. */
const INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  Kinesis: ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS,
  Athena: ec2.InterfaceVpcEndpointAwsService.ATHENA,
  Glue: ec2.InterfaceVpcEndpointAwsService.GLUE,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  StepFunctions: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
  DataSync: ec2.InterfaceVpcEndpointAwsService.DATASYNC,
};

/** Gateway endpoints serve the private subnets (public subnets hold only NAT gateways). */
const PRIVATE_SUBNETS: ec2.SubnetSelection[] = [
  { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
];

/**
 * The environment's VPC: public subnets only for NAT gateways, private subnets with egress (through NAT)
 * for tasks that call third parties (brokers, vendors), isolated subnets for everything else. AWS APIs
 * are reached through gateway (S3, DynamoDB) and interface endpoints. All traffic is flow-logged.
 */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  /** Security group of the interface endpoints (accepts HTTPS from the VPC). */
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** Subnets without any route to the internet. */
  readonly isolatedSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  /** Private subnets with outbound internet through NAT. */
  readonly egressSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  readonly interfaceEndpoints: Readonly<Record<string, ec2.InterfaceVpcEndpoint>>;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const n = props.network;

    // Every call to a broker or vendor leaves from one of the NAT gateways' Elastic IPs (retained, so
    // replacing or deleting the stack keeps the addresses on the broker's allow-list).
    this.vpc = natEgressVpc(this, {
      network: n,
      logKey: props.logKey,
      ids: { eip: 'NatEip', vpc: 'Vpc', flowLogs: 'FlowLogGroup', output: 'NatPublicIps' },
      extraSubnets: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
      gatewayEndpointSubnets: PRIVATE_SUBNETS,
      outputDescription: 'Fixed source addresses of broker and vendor calls (for their allow-lists)',
    }).vpc;

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(
      ec2.Peer.ipv4(n.vpcCidr),
      ec2.Port.tcp(443),
      'HTTPS from the VPC',
    );

    this.interfaceEndpoints = Object.fromEntries(
      Object.entries(INTERFACE_ENDPOINTS).map(([name, service]) => [
        name,
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.isolatedSubnets,
          securityGroups: [this.endpointSecurityGroup],
          privateDnsEnabled: true,
          open: false,
        }),
      ]),
    );

    if (props.monitoring) this.addMonitoring(props.monitoring);
  }

  /** NAT gateways carry every call to brokers and vendors: failed connections there are an outage. */
  private addMonitoring(monitoring: IMonitoring): void {
    const nats = this.vpc.node
      .findAll()
      .filter((c): c is ec2.CfnNatGateway => c instanceof ec2.CfnNatGateway);
    const natMetric = (metricName: string, statistic: string) => (nat: ec2.CfnNatGateway, i: number) =>
      new cw.Metric({
        namespace: 'AWS/NATGateway',
        metricName,
        dimensionsMap: { NatGatewayId: nat.attrNatGatewayId },
        statistic,
        period: Duration.minutes(5),
        label: `NAT ${i + 1}`,
      });
    const portErrors = nats.map(natMetric('ErrorPortAllocation', 'Sum'));
    monitoring.alarm(this, 'NatPortAllocationErrorsAlarm', {
      description:
        'A NAT gateway could not allocate a source port: outbound connections (brokers, vendors) fail',
      metric: new cw.MathExpression({
        expression: portErrors.map((_, i) => `e${i}`).join(' + '),
        usingMetrics: Object.fromEntries(portErrors.map((m, i) => [`e${i}`, m])),
        period: Duration.minutes(5),
        label: 'NAT port allocation errors',
      }),
      threshold: 0,
      comparison: '>',
    });
    monitoring.addSection('Network', [
      [
        new cw.GraphWidget({
          title: 'NAT bytes out (to destination)',
          left: nats.map(natMetric('BytesOutToDestination', 'Sum')),
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'NAT active connections',
          left: nats.map(natMetric('ActiveConnectionCount', 'Maximum')),
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'NAT port allocation errors and dropped packets',
          left: portErrors,
          right: nats.map(natMetric('PacketsDropCount', 'Sum')),
          width: 8,
        }),
      ],
    ]);
  }
}
