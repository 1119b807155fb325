import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { BrokerAccess, QuantKey } from '../../../lib/constructs';
import { cdkJsonContext } from '../helpers';
import { env, findings } from './trading-fixture';

const newStack = () => new Stack(new App({ context: cdkJsonContext() }), 'T', { env });

describe('BrokerAccess', () => {
  it('paper broker: settings only, no secret, no network', () => {
    const stack = newStack();
    const b = new BrokerAccess(stack, 'Broker', {
      broker: 'paper',
      paperCostBps: 2,
      encryptionKey: new QuantKey(stack, 'K', { description: 'k' }),
    });
    expect(b.environment).toEqual({ BROKER: 'paper', PAPER_COST_BPS: '2' });
    expect(b.network).toEqual({});
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('REST broker: KMS-encrypted, retained secret of its keys; HTTPS-only egress group', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
    const b = new BrokerAccess(stack, 'Broker', {
      broker: 'rest',
      brokerUrl: 'https://broker.example.com',
      paperCostBps: 0,
      quoteMaxAgeMs: 60_000,
      encryptionKey: new QuantKey(stack, 'K', { description: 'k' }),
      egress: { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } },
    });
    expect(b.environment).toMatchObject({
      BROKER: 'rest',
      BROKER_URL: 'https://broker.example.com',
      QUOTE_MAX_AGE_MS: '60000',
      BROKER_SECRET_ARN: expect.any(String),
    });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ KmsKeyId: Match.anyValue() }),
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [
        { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: 'HTTPS only' },
      ],
    });
    expect(b.network.securityGroups).toEqual([b.securityGroup]);
    expect(findings(stack, b)).toEqual([]);
  });

  it('refuses a REST broker without an https:// URL', () => {
    const stack = newStack();
    expect(
      () =>
        new BrokerAccess(stack, 'Broker', {
          broker: 'rest',
          brokerUrl: 'http://broker.example.com',
          paperCostBps: 0,
          encryptionKey: new QuantKey(stack, 'K', { description: 'k' }),
        }),
    ).toThrow(/https:\/\/ brokerUrl/);
  });
});
