import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  BucketReplication,
  DataBackupPlan,
  EncryptedTable,
  LockedBackupVault,
  QuantKey,
  SecureBucket,
  TableReplicator,
  backupVaultName,
  drKeyAlias,
  replicaBucketName,
  replicaTableName,
} from '../../lib/constructs';
import { cdkJsonContext, repoRoot, SKIP_BUNDLING } from './helpers';

const env = { account: '123456789012', region: 'eu-west-1' };
const newStack = () =>
  new Stack(new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } }), 'Test', { env });

/** Findings of AwsSolutions and NIST 800-53 R5 in `scope` (after synthesis, as at `cdk synth`). */
function findings(scope: Stack): string[] {
  Template.fromStack(scope);
  return [new AwsSolutionsChecks(scope), new NIST80053R5Checks(scope)].flatMap((p) =>
    p
      .validateScope(scope as IConstruct)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ''}`)),
  );
}

describe('DR names', () => {
  it('are derived from environment, account and region', () => {
    const n = { environmentName: 'Prod', account: '123456789012', drRegion: 'eu-central-1' };
    expect(replicaBucketName(n, 'raw')).toBe('quant-prod-raw-dr-123456789012-eu-central-1');
    expect(replicaTableName(n, 'risk')).toBe('quant-prod-dr-risk');
    expect(drKeyAlias(n, 'lake')).toBe('alias/quant-prod-dr-lake');
    expect(backupVaultName('prod')).toBe('quant-prod-backup');
    expect(() => replicaBucketName({ ...n, environmentName: 'x'.repeat(30) }, 'curated')).toThrow(
      /longer than 63 characters/,
    );
  });
});

describe('LockedBackupVault', () => {
  it('compliance by default (3-day grace), KMS, retained', () => {
    const stack = newStack();
    new LockedBackupVault(stack, 'V', {
      backupVaultName: 'test-vault',
      encryptionKey: new QuantKey(stack, 'K', { description: 'k' }),
      minRetentionDays: 7,
      maxRetentionDays: 100,
    });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::Backup::BackupVault', {
      DeletionPolicy: 'Retain',
      Properties: {
        BackupVaultName: 'test-vault',
        EncryptionKeyArn: Match.anyValue(),
        LockConfiguration: { MinRetentionDays: 7, MaxRetentionDays: 100, ChangeableForDays: 3 },
      },
    });
    expect(findings(stack)).toEqual([]);
  });

  it('governance mode has no grace period; bad retention is refused', () => {
    const stack = newStack();
    const key = new QuantKey(stack, 'K', { description: 'k' });
    new LockedBackupVault(stack, 'V', {
      backupVaultName: 'test-vault',
      encryptionKey: key,
      minRetentionDays: 1,
      mode: 'governance',
    });
    expect(
      Object.values(Template.fromStack(stack).findResources('AWS::Backup::BackupVault'))[0].Properties
        .LockConfiguration,
    ).toEqual({
      MinRetentionDays: 1,
    });
    expect(
      () =>
        new LockedBackupVault(stack, 'A', {
          backupVaultName: 'test-a',
          encryptionKey: key,
          minRetentionDays: 0,
        }),
    ).toThrow(/minRetentionDays: must be a whole number >= 1/);
    expect(
      () =>
        new LockedBackupVault(stack, 'B', {
          backupVaultName: 'test-b',
          encryptionKey: key,
          minRetentionDays: 5,
          changeableForDays: 2,
        }),
    ).toThrow(/changeableForDays: AWS Backup needs at least 3, got 2/);
  });
});

describe('DataBackupPlan', () => {
  const build = (monthly: number) => {
    const stack = newStack();
    const key = new QuantKey(stack, 'K', { description: 'k' });
    const vault = new LockedBackupVault(stack, 'V', {
      backupVaultName: 'test-vault',
      encryptionKey: key,
      minRetentionDays: 30,
    });
    const copy = backup.BackupVault.fromBackupVaultArn(
      stack,
      'C',
      'arn:aws:backup:eu-central-1:123456789012:backup-vault:v',
    );
    const table = new EncryptedTable(stack, 'T', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      encryptionKey: key,
    });
    const bucket = new SecureBucket(stack, 'B', {
      encryptionKey: key,
      accessLogsBucket: new SecureBucket(stack, 'Logs', { encryption: 's3-managed' }),
    });
    new DataBackupPlan(stack, 'P', {
      vault,
      copyTo: copy,
      dailyRetentionDays: 30,
      monthlyRetentionDays: monthly,
      hourUtc: 3,
      tables: [table],
      buckets: [bucket],
    });
    return stack;
  };

  it('daily and monthly rules, each copied with the same retention; a role only AWS Backup assumes', () => {
    const stack = build(400);
    const t = Template.fromStack(stack);
    const plan = Object.values(t.findResources('AWS::Backup::BackupPlan'))[0].Properties.BackupPlan;
    expect(
      plan.BackupPlanRule.map((r: Record<string, unknown>) => [
        r.RuleName,
        r.ScheduleExpression,
        r.Lifecycle,
        r.CopyActions,
      ]),
    ).toEqual([
      [
        'Daily',
        'cron(0 3 * * ? *)',
        { DeleteAfterDays: 30 },
        [
          {
            DestinationBackupVaultArn: 'arn:aws:backup:eu-central-1:123456789012:backup-vault:v',
            Lifecycle: { DeleteAfterDays: 30 },
          },
        ],
      ],
      [
        'Monthly',
        'cron(0 3 1 * ? *)',
        { DeleteAfterDays: 400 },
        [
          {
            DestinationBackupVaultArn: 'arn:aws:backup:eu-central-1:123456789012:backup-vault:v',
            Lifecycle: { DeleteAfterDays: 400 },
          },
        ],
      ],
    ]);
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'backup.amazonaws.com' } })],
      },
      ManagedPolicyArns: Match.arrayWith([
        Match.objectLike({
          'Fn::Join': [
            '',
            Match.arrayWith([':iam::aws:policy/service-role/AWSBackupServiceRolePolicyForS3Backup']),
          ],
        }),
      ]),
    });
    // The only findings left are the buckets' own NIST rules (no replication in this test stack).
    expect(findings(stack).filter((f) => !/ (Test\/B|Test\/Logs)\//.test(f))).toEqual([]);
  });

  it('no monthly rule at 0; refuses an empty selection', () => {
    const t = Template.fromStack(build(0));
    const plan = Object.values(t.findResources('AWS::Backup::BackupPlan'))[0].Properties.BackupPlan;
    expect(plan.BackupPlanRule.map((r: { RuleName: string }) => r.RuleName)).toEqual(['Daily']);
    const stack = newStack();
    const vault = new LockedBackupVault(stack, 'V', {
      backupVaultName: 'test-vault',
      encryptionKey: new QuantKey(stack, 'K', { description: 'k' }),
      minRetentionDays: 30,
    });
    expect(
      () => new DataBackupPlan(stack, 'P', { vault, dailyRetentionDays: 30, tables: [], buckets: [] }),
    ).toThrow(/nothing to back up/);
  });
});

describe('BucketReplication', () => {
  it('replicates with KMS to the named replica; RTC optional; refuses the same region', () => {
    const stack = newStack();
    const key = new QuantKey(stack, 'K', { description: 'k' });
    const logs = new SecureBucket(stack, 'Logs', { encryption: 's3-managed' });
    const bucket = new SecureBucket(stack, 'B', { encryptionKey: key, accessLogsBucket: logs });
    const r = new BucketReplication(stack, 'R', {
      destinationRegion: 'eu-central-1',
      replicationTimeControl: false,
      buckets: [
        {
          name: 'raw',
          bucket,
          sourceKey: key,
          destinationBucketName: 'replica-raw',
          destinationKeyAlias: 'alias/dr-lake',
        },
      ],
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Role: Match.anyValue(),
        Rules: [
          Match.objectLike({
            Id: 'dr-eu-central-1',
            Destination: {
              Bucket: 'arn:aws:s3:::replica-raw',
              EncryptionConfiguration: {
                ReplicaKmsKeyID: 'arn:aws:kms:eu-central-1:123456789012:alias/dr-lake',
              },
              Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
            },
          }),
        ],
      },
    });
    expect(
      r.metricLatency({
        name: 'raw',
        bucket,
        sourceKey: key,
        destinationBucketName: 'replica-raw',
        destinationKeyAlias: 'a',
      }).metricName,
    ).toBe('ReplicationLatency');
    expect(findings(stack).filter((f) => f.includes('/R/'))).toEqual([]);
    expect(
      () =>
        new BucketReplication(stack, 'Same', {
          destinationRegion: 'eu-west-1',
          buckets: [
            { name: 'x', bucket, sourceKey: key, destinationBucketName: 'x', destinationKeyAlias: 'alias/x' },
          ],
        }),
    ).toThrow(/destinationRegion must differ/);
  });
});

describe('TableReplicator', () => {
  it('one ordered, retried event source per table; writes only the replicas; no finding of either pack', () => {
    const stack = newStack();
    const key = new QuantKey(stack, 'K', { description: 'k', allowCloudWatchLogs: true });
    const table = new EncryptedTable(stack, 'T', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      encryptionKey: key,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    new TableReplicator(stack, 'R', {
      tables: [{ table, replicaTableName: 'replica-t' }],
      replicaRegion: 'eu-central-1',
      replicaKeyAlias: 'alias/dr-trading',
      logKey: key,
      queueKey: key,
      logRetentionDays: 30,
      repoRoot,
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      MaximumRetryAttempts: -1,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const writes = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb:PutItem'))!;
    expect(writes.Resource).toBe('arn:aws:dynamodb:eu-central-1:123456789012:table/replica-t');
    expect(findings(stack).filter((f) => f.includes('/R/'))).toEqual([]);
  });
});
