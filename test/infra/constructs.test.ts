import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EncryptedLogGroup,
  EncryptedQueue,
  EncryptedTable,
  QuantFunction,
  QuantKey,
  SecureBucket,
  retentionDays,
  validateLifecycle,
} from '../../lib/constructs';
import {
  cdkJsonContext,
  nagAcknowledgements,
  nagViolations,
  repoRoot,
  resourcesOfType,
  staleAcknowledgements,
} from './helpers';

const env = { account: '111111111111', region: 'us-east-1' };
const newStack = (id = 'T') => new Stack(new App({ context: cdkJsonContext() }), id, { env });

describe('cdk-nag helper', () => {
  it('reports findings on an insecure bucket (the checks really run)', () => {
    const stack = newStack();
    new s3.Bucket(stack, 'Plain', { enforceSSL: false });
    const rules = nagViolations(stack).map((v) => v.rule);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  it('honours an acknowledgement on the construct, and only for that rule', () => {
    const stack = newStack();
    const b = new s3.Bucket(stack, 'Plain', { enforceSSL: false });
    Validations.of(b).acknowledge({ id: 'AwsSolutions-S1', reason: 'test: logging is irrelevant here' });
    const rules = nagViolations(stack).map((v) => v.rule);
    expect(rules).not.toContain('AwsSolutions-S1');
    expect(rules).toContain('AwsSolutions-S10');
  });
});

describe('stale acknowledgements helper', () => {
  it('reports an acknowledgement that matches no finding, and not one that does', () => {
    const stack = newStack();
    const plain = new s3.Bucket(stack, 'Plain', { enforceSSL: false });
    Validations.of(plain).acknowledge({ id: 'AwsSolutions-S1', reason: 'test: a real finding' });
    const key = new QuantKey(stack, 'Key', { description: 'k' });
    Validations.of(key).acknowledge({
      id: 'AwsSolutions-KMS5',
      reason: 'test: rotation is on, nothing to acknowledge',
    });
    Template.fromStack(stack);
    expect(
      nagAcknowledgements(stack)
        .map((a) => a.rule)
        .sort(),
    ).toEqual(['AwsSolutions-KMS5', 'AwsSolutions-S1']);
    expect(staleAcknowledgements(stack)).toEqual([
      { rule: 'AwsSolutions-KMS5', path: 'T/Key', reason: 'test: rotation is on, nothing to acknowledge' },
    ]);
  });
});

describe('SecureBucket', () => {
  let t: Template;
  let stack: Stack;
  beforeAll(() => {
    stack = newStack();
    const key = new QuantKey(stack, 'Key', { description: 'test' });
    const logs = new SecureBucket(stack, 'Logs', { encryption: 's3-managed' });
    new SecureBucket(stack, 'Data', {
      encryptionKey: key,
      accessLogsBucket: logs,
      lifecycle: {
        infrequentAccessAfterDays: 30,
        glacierAfterDays: 90,
        expireAfterDays: 400,
        noncurrentVersionExpireDays: 5,
      },
    });
    new SecureBucket(stack, 'Vault', {
      encryptionKey: key,
      accessLogsBucket: logs,
      objectLock: { mode: 'governance', retentionDays: 10 },
    });
    t = Template.fromStack(stack);
  });

  it('encrypts with the given key, versions, blocks public access, enforces TLS, disables ACLs, retains', () => {
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: Match.stringLikeRegexp('^Logs') },
          LogFilePrefix: 'Data/',
        },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'abort-incomplete-uploads',
              Status: 'Enabled',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            },
            {
              Id: 'tiering-and-expiry',
              Status: 'Enabled',
              ExpirationInDays: 400,
              NoncurrentVersionExpiration: { NoncurrentDays: 5 },
              Transitions: [
                { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
                { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
              ],
            },
          ],
        },
      }),
    });
    t.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 10 } },
      },
    });
    expect(resourcesOfType(t, 'AWS::S3::BucketPolicy')).toHaveLength(3);
  });

  it('passes cdk-nag (the access-logs target is exempt from S1: it cannot log to itself)', () => {
    expect(nagViolations(stack)).toEqual([]);
  });

  it('refuses SSE-KMS without a key and invalid lifecycles or retention, naming the field', () => {
    const s = newStack();
    expect(() => new SecureBucket(s, 'NoKey', {})).toThrow(/encryptionKey is required/);
    const base = {
      infrequentAccessAfterDays: 0,
      glacierAfterDays: 0,
      expireAfterDays: 0,
      noncurrentVersionExpireDays: 1,
    };
    expect(() => validateLifecycle('x', { ...base, infrequentAccessAfterDays: 29 })).toThrow(
      /x\.infrequentAccessAfterDays: .*30/,
    );
    expect(() =>
      validateLifecycle('x', { ...base, infrequentAccessAfterDays: 30, glacierAfterDays: 45 }),
    ).toThrow(/x\.glacierAfterDays/);
    expect(() => validateLifecycle('x', { ...base, glacierAfterDays: 90, expireAfterDays: 90 })).toThrow(
      /x\.expireAfterDays/,
    );
    expect(() => validateLifecycle('x', { ...base, noncurrentVersionExpireDays: 0 })).toThrow(
      /x\.noncurrentVersionExpireDays/,
    );
    expect(() => validateLifecycle('x', { ...base, expireAfterDays: 1.5 })).toThrow(
      /x\.expireAfterDays: must be a whole number/,
    );
    expect(() => validateLifecycle('x', { ...base, expireAfterDays: Number.NaN })).toThrow(
      /x\.expireAfterDays/,
    );
    const key = new QuantKey(s, 'K', { description: 'k' });
    expect(
      () =>
        new SecureBucket(s, 'Lock', {
          encryptionKey: key,
          objectLock: { mode: 'compliance', retentionDays: 0 },
        }),
    ).toThrow(/objectLock\.retentionDays/);
  });
});

describe('QuantKey and EncryptedLogGroup', () => {
  it('rotates, retains, and lets CloudWatch Logs of this account and region use the key', () => {
    const stack = newStack();
    const key = new QuantKey(stack, 'Key', {
      description: 'logs',
      allowCloudWatchLogs: true,
      allowCloudWatchAlarms: true,
    });
    new EncryptedLogGroup(stack, 'Logs', { encryptionKey: key, retentionDays: 30 });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchLogs',
            Principal: { Service: 'logs.us-east-1.amazonaws.com' },
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:111111111111:log-group:*',
              },
            },
          }),
          Match.objectLike({
            Sid: 'AllowServicePublishers',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    t.hasResource('AWS::Logs::LogGroup', {
      DeletionPolicy: 'Retain',
      Properties: {
        RetentionInDays: 30,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      },
    });
    expect(nagViolations(stack)).toEqual([]);
  });

  it('accepts only retention periods CloudWatch Logs supports', () => {
    expect(retentionDays(365)).toBe(365);
    expect(() => retentionDays(10, 'monitoring.logRetentionDays')).toThrow(
      /monitoring\.logRetentionDays: .*10 days.*1, 3, 5, 7, 14/,
    );
    expect(() => retentionDays(-1)).toThrow(/logRetentionDays/);
  });
});

describe('EncryptedQueue', () => {
  it('keeps 14 days of messages under the customer key, TLS only, retained unless told otherwise', () => {
    const stack = newStack();
    const key = new QuantKey(stack, 'Key', { description: 'queues' });
    new EncryptedQueue(stack, 'Dlq', { encryptionKey: key });
    new EncryptedQueue(stack, 'Events', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
    const t = Template.fromStack(stack);
    const queues = resourcesOfType(t, 'AWS::SQS::Queue');
    expect(queues.map(([id, q]) => [id.replace(/[0-9A-F]{8}$/, ''), q.DeletionPolicy])).toEqual([
      ['Dlq', 'Retain'],
      ['Events', 'Delete'],
    ]);
    for (const [, q] of queues) {
      expect(q.Properties).toEqual({
        KmsMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
    }
    const policies = resourcesOfType(t, 'AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(2);
    for (const [, p] of policies) {
      expect(p.Properties!.PolicyDocument).toMatchObject({
        Statement: [
          { Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        ],
      });
    }
    // SQS3 (no dead-letter queue of its own) is the only finding: these are the dead-letter and
    // failure queues, and each use acknowledges it with its reason.
    expect([...new Set(nagViolations(stack).map((v) => v.rule))]).toEqual(['AwsSolutions-SQS3']);
  });
});

describe('QuantFunction', () => {
  let t: Template;
  let stack: Stack;
  let fn: QuantFunction;
  beforeAll(() => {
    stack = newStack();
    const key = new QuantKey(stack, 'Key', { description: 'logs', allowCloudWatchLogs: true });
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test VPC, never deployed' });
    fn = new QuantFunction(stack, 'Hello', {
      entry: path.join(repoRoot, 'test/infra/fixtures/hello/index.ts'),
      logKey: key,
      logRetentionDays: 14,
      environment: { TABLE: 'orders' },
      reservedConcurrentExecutions: 3,
      timeout: Duration.seconds(10),
      vpc,
    });
    t = Template.fromStack(stack);
  });

  it('runs Node.js 22 on arm64 with X-Ray, source maps, Powertools settings and reserved concurrency', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      MemorySize: 512,
      Timeout: 10,
      ReservedConcurrentExecutions: 3,
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'Hello',
          POWERTOOLS_METRICS_NAMESPACE: 'QuantPlatform',
          TABLE: 'orders',
        },
      },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^HelloLogs') } },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14, KmsKeyId: Match.anyValue() });
  });

  it('bundles (locally, no Docker) into an ESM module with a source map that runs, CommonJS dependencies included', async () => {
    const asset = fn.node.findChild('Code') as s3assets.Asset;
    const dir = path.join((stack.node.root as App).outdir, asset.assetPath);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const bundle = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    expect(bundle.length).toBeLessThan(10_000); // minified; nothing but the handler and its dependency
    // Run it in a plain Node process, as Lambda's runtime would load it (not through vitest's loader).
    const script = `const m = await import(${JSON.stringify(pathToFileURL(path.join(dir, 'index.mjs')).href)});
      console.log(JSON.stringify(await m.handler({ name: 'quant' })));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual({
      greeting: 'hello quant',
      digest: createHash('sha256').update('quant').digest('hex').slice(0, 8),
    });
  });

  it('has a role without managed policies that may write only to its own log group', () => {
    const roles = resourcesOfType(t, 'AWS::IAM::Role').filter(([id]) => id.startsWith('HelloRole'));
    expect(roles).toHaveLength(1);
    expect(roles[0][1].Properties?.ManagedPolicyArns).toBeUndefined();
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HelloLogs'), 'Arn'] },
          },
        ]),
      },
    });
  });

  it('has zero unacknowledged cdk-nag findings, and its acknowledgements (IAM5 for X-Ray/ENIs, L1) are all in use', () => {
    expect(nagViolations(stack)).toEqual([]);
    const acks = nagAcknowledgements(stack).filter((a) => a.path.startsWith('T/Hello'));
    expect(acks.map((a) => a.rule).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      // ENI writes: this account and region only, not `*`.
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:[^:]+:ec2:[^:]+:[^:]+:\*\/\*\]$/),
      'AwsSolutions-L1',
    ]);
    expect(staleAcknowledgements(stack).filter((a) => a.path.startsWith('T/Hello'))).toEqual([]);
  });
});

describe('EncryptedTable', () => {
  it('is on-demand, with PITR, customer-managed KMS, deletion protection, retained', () => {
    const stack = newStack();
    const key = new QuantKey(stack, 'Key', { description: 'tables' });
    new EncryptedTable(stack, 'Orders', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      encryptionKey: key,
      timeToLiveAttribute: 'expiresAt',
    });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
        },
        DeletionProtectionEnabled: true,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        TableName: Match.absent(),
      }),
    });
    expect(nagViolations(stack)).toEqual([]);
  });
});
