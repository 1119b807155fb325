import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { TRADING_ENV } from '../../src/contract/trading';
import type { QuantFunctionProps } from './quant-function';
import { Area } from './area';

export interface BrokerAccessProps {
  /** `paper` fills locally at the quote plus a cost; `rest` calls the broker's API. */
  readonly broker: 'paper' | 'rest';
  /** The broker's https:// API (`rest` only). */
  readonly brokerUrl?: string;
  /** Cost of a paper fill, in basis points. */
  readonly paperCostBps: number;
  /**
   * Oldest 1-minute bar accepted as a child's quote, in ms.
   * @default the runtime's default (src/trading)
   */
  readonly quoteMaxAgeMs?: number;
  /** Key of the broker's API-key secret (the trading key). */
  readonly encryptionKey: kms.IKey;
  /**
   * Private subnets whose only way out is the NAT gateways' fixed Elastic IPs (the broker's
   * allow-list); the functions get a security group that allows HTTPS out only.
   * @default outside a VPC (Lambda's shared egress)
   */
  readonly egress?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
  };
}

/**
 * How the broker-facing functions (execution, algo-child) reach the broker: its settings as
 * environment, the REST broker's API keys in Secrets Manager (set after deploy, KMS), and the
 * HTTPS-only network placement.
 */
export class BrokerAccess extends Area {
  /** Environment variables of the broker settings. */
  readonly environment: Readonly<Record<string, string>>;
  /** VPC, subnets and security group for a `QuantFunction` (empty outside a VPC). */
  readonly network: Partial<QuantFunctionProps>;
  /** The REST broker's API keys (`rest` only). */
  readonly secret?: Secret;
  /** HTTPS out only (with `egress`). */
  readonly securityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: BrokerAccessProps) {
    super(scope, id);
    const environment: Record<string, string> = {
      [TRADING_ENV.broker]: props.broker,
      [TRADING_ENV.paperCostBps]: String(props.paperCostBps),
      ...(props.quoteMaxAgeMs !== undefined
        ? { [TRADING_ENV.quoteMaxAgeMs]: String(props.quoteMaxAgeMs) }
        : {}),
    };
    if (props.broker === 'rest') {
      if (!props.brokerUrl?.startsWith('https://'))
        throw new Error('BrokerAccess: rest needs an https:// brokerUrl');
      this.secret = new Secret(this, 'BrokerKeys', {
        description: 'REST broker API keys: {"keyId": "...", "secretKey": "..."} (set after deploy)',
        encryptionKey: props.encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const rule of ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled']) {
        Validations.of(this.secret).acknowledge({
          id: rule,
          reason:
            'Broker API keys are issued by the broker and rotated in its console; there is no rotation Lambda for a third-party key.',
        });
      }
      environment[TRADING_ENV.brokerUrl] = props.brokerUrl;
      environment[TRADING_ENV.brokerSecretArn] = this.secret.secretArn;
    }
    this.environment = environment;

    // Broker calls leave through NAT (fixed addresses for the broker's allow-list), HTTPS only; AWS
    // APIs are reached through the VPC's endpoints or the same NAT, also on 443.
    if (props.egress) {
      this.securityGroup = new ec2.SecurityGroup(this, 'BrokerEgressSecurityGroup', {
        vpc: props.egress.vpc,
        description: 'Execution and algo-child: HTTPS out only (broker through NAT, AWS APIs)',
        allowAllOutbound: false,
      });
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS only');
      this.network = {
        vpc: props.egress.vpc,
        vpcSubnets: props.egress.subnets,
        securityGroups: [this.securityGroup],
      };
    } else {
      this.network = {};
    }
  }

  /** Lets a broker-facing function read the API keys (nothing to grant for the paper broker). */
  grantRead(grantee: iam.IGrantable): void {
    this.secret?.grantRead(grantee);
  }
}
