import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import {
  accountStateKey,
  acknowledgeInlinePolicies,
  orderPathKeys,
  QuantKey,
  TradingTables,
} from '../../../lib/constructs';
import { cdkJsonContext } from '../helpers';
import { env, findings } from './trading-fixture';

function build(changeStreams?: boolean) {
  const stack = new Stack(new App({ context: cdkJsonContext() }), 'T', { env });
  acknowledgeInlinePolicies(stack);
  const tables = new TradingTables(stack, 'Tables', {
    encryptionKey: new QuantKey(stack, 'Key', { description: 'k' }),
    changeStreams,
  });
  return { stack, tables };
}

describe('TradingTables', () => {
  it('three KMS tables with point-in-time recovery, retained, TTL on risk and idempotency; no streams by default', () => {
    const { stack, tables } = build();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::DynamoDB::Table', 3);
    t.allResources('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        StreamSpecification: Match.absent(),
      }),
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
      TimeToLiveSpecification: Match.absent(),
    });
    // Beside the construct, as tables created directly in the stack (stable stream-mapping names).
    expect(tables.risk.node.path).toBe('T/RiskTable');
    // Without DR the backup-plan finding is acknowledged with its reason; nothing else is open.
    for (const table of [tables.risk, tables.orders, tables.idempotency]) {
      expect(findings(stack, table)).toEqual([]);
    }
  });

  it('with change streams: new and old images, and the tables are left to the backup plan (finding open)', () => {
    const { stack, tables } = build(true);
    const t = Template.fromStack(stack);
    t.allResourcesProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    expect(findings(stack, tables.orders)).toEqual([
      'NIST.800.53.R5-DynamoDBInBackupPlan T/OrdersTable/Resource',
    ]);
  });

  it('grantRiskWrites: reads, and put/update only on the given leading keys', () => {
    const { stack, tables } = build();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grantee = Object.assign(role, { addToRolePolicy: (s: iam.PolicyStatement) => role.addToPolicy(s) });
    tables.grantRiskWrites(grantee, orderPathKeys('main'));
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Condition: {
              'ForAllValues:StringLike': {
                'dynamodb:LeadingKeys': ['BOOK#main', 'RATE#main#*', 'STATE#main#${*}'],
              },
            },
          }),
        ]),
      },
    });
    expect(accountStateKey('main')).toBe('STATE#main#${*}');
  });
});
