import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { EncryptedTable, QuantKey, ReplicaBuckets, ReplicaTables } from '../../../lib/constructs';
import { cdkJsonContext } from '../helpers';
import { findings } from './trading-fixture';

const env = { account: '123456789012', region: 'eu-central-1' };
const newStack = (id: string) => new Stack(new App({ context: cdkJsonContext() }), id, { env });
const lifecycle = {
  infrequentAccessAfterDays: 30,
  glacierAfterDays: 90,
  expireAfterDays: 0,
  noncurrentVersionExpireDays: 30,
};

describe('ReplicaTables', () => {
  it("copies each source's key schema and TTL into a named, KMS, retained replica", () => {
    const home = newStack('Home');
    const key = new QuantKey(home, 'K', { description: 'k' });
    const risk = new EncryptedTable(home, 'Risk', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      encryptionKey: key,
      timeToLiveAttribute: 'expiresAt',
    });
    const orders = new EncryptedTable(home, 'Orders', {
      partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'at', type: dynamodb.AttributeType.NUMBER },
      encryptionKey: key,
    });
    const dr = newStack('Dr');
    const replicas = new ReplicaTables(dr, 'Replicas', {
      sources: { risk, orders },
      ids: { risk: 'RiskReplica', orders: 'OrdersReplica' },
      tableName: (kind) => `quant-test-dr-${kind}`,
      encryptionKey: new QuantKey(dr, 'DrKey', { description: 'dr' }),
    });
    const t = Template.fromStack(dr);
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'quant-test-dr-risk',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'quant-test-dr-orders',
      KeySchema: [
        { AttributeName: 'orderId', KeyType: 'HASH' },
        { AttributeName: 'at', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: Match.absent(),
    });
    expect(Object.keys(replicas.tables)).toEqual(['risk', 'orders']);
    expect(findings(dr, replicas)).toEqual([]);
  });
});

describe('ReplicaBuckets', () => {
  it('audit replica under compliance-mode Object Lock, the others with their lifecycle; no finding', () => {
    const dr = newStack('Dr');
    const replicas = new ReplicaBuckets(dr, 'Replicas', {
      ids: { raw: 'RawReplica', audit: 'AuditReplica' },
      bucketName: (zone) => `quant-test-${zone}-dr`,
      auditZone: 'audit',
      auditRetentionDays: 2555,
      auditKey: new QuantKey(dr, 'AuditKey', { description: 'a' }),
      lakeKey: new QuantKey(dr, 'LakeKey', { description: 'l' }),
      lifecycle: () => lifecycle,
      accessLogsExpireDays: 90,
    });
    const t = Template.fromStack(dr);
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'quant-test-audit-dr',
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } },
      },
    });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'quant-test-raw-dr',
      ObjectLockConfiguration: Match.absent(),
      LoggingConfiguration: Match.anyValue(),
    });
    expect(Object.keys(replicas.buckets)).toEqual(['raw', 'audit']);
    expect(findings(dr, replicas)).toEqual([]);
  });
});
