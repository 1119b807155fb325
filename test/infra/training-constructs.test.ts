import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { SageMakerTrainingJobProps } from '../../lib/constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acknowledgeWildcards,
  QuantKey,
  SageMakerTrainingJob,
  SourceTarballAsset,
} from '../../lib/constructs';
import { readTarball } from '../../src/ml/aws/model-artifacts';
import { nagViolations, SKIP_BUNDLING } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'training-constructs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sourceDir(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(dir, 'src-'));
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), body);
  }
  return root;
}

describe('SourceTarballAsset', () => {
  it('packs the directory at synth (no Docker), leaving out tests and caches, deterministically', () => {
    const src = sourceDir({
      'train.py': 'print(1)\n',
      'pkg/mod.py': 'x = 1\n',
      'tests/test_x.py': 'assert True\n',
      'pkg/__pycache__/mod.cpython-311.pyc': 'junk',
    });
    const a = new SourceTarballAsset(new Stack(new App()), 'Code', { sourceDir: src });
    const b = new SourceTarballAsset(new Stack(new App()), 'Code', { sourceDir: src });
    expect(a.files).toEqual(['pkg/mod.py', 'train.py']);
    expect(a.asset.assetHash).toBe(b.asset.assetHash);
    expect(a.asset.s3ObjectKey).toMatch(/^[0-9a-f]{64}\.gz$/);
  });

  it('fails on a missing or empty directory', () => {
    expect(
      () => new SourceTarballAsset(new Stack(new App()), 'C', { sourceDir: path.join(dir, 'nope') }),
    ).toThrow(/is not a directory/);
    expect(() => new SourceTarballAsset(new Stack(new App()), 'C', { sourceDir: sourceDir({}) })).toThrow(
      /no files/,
    );
  });

  it('holds the files byte for byte', () => {
    const src = sourceDir({ 'train.py': 'print("hi")\n' });
    const a = new SourceTarballAsset(new Stack(new App()), 'Code', { sourceDir: src });
    const files = readTarball(readFileSync(a.tarballPath));
    expect(Buffer.from(files.get('train.py')!).toString()).toBe('print("hi")\n');
  });
});

describe('SageMakerTrainingJob with its defaults', () => {
  let stack: Stack;
  let t: Template;
  let job: SageMakerTrainingJob;
  beforeAll(() => {
    const app = new App({ context: { ...SKIP_BUNDLING } });
    stack = new Stack(app, 'Jobs', { env: { account: '123456789012', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    vpc.addFlowLog('Flow');
    const key = new QuantKey(stack, 'Key', { description: 'k' });
    const bucket = new s3.Bucket(stack, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsPrefix: 'logs/',
    });
    job = new SageMakerTrainingJob(stack, 'Job', {
      stateName: 'Train',
      jobNamePrefix: 'm',
      jobNamePath: '$.name',
      trainDataUriPath: '$.data',
      image: {
        uri: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-cpu',
        repositoryArn: 'arn:aws:ecr:us-east-1:763104351884:repository/pytorch-training',
      },
      instanceType: 'ml.m5.xlarge',
      code: new SourceTarballAsset(stack, 'Code', { sourceDir: sourceDir({ 'train.py': 'x' }) }),
      bucket,
      bucketKey: key,
      trainDataPrefix: 'f',
      outputPrefix: 'o',
      checkpointPrefix: 'c',
      metricNames: ['val_loss'],
      maxRuntime: Duration.hours(1),
      vpc,
      resultPath: '$.training',
    });
    const sm = new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(job.startState),
    });
    job.grantStart(sm);
    Validations.of(sm).acknowledge({
      id: 'AwsSolutions-SF1',
      reason: 'test machine: logging is not what is tested here',
    });
    Validations.of(sm).acknowledge({
      id: 'AwsSolutions-SF2',
      reason: 'test machine: tracing is not what is tested here',
    });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'test bucket' });
    acknowledgeWildcards(stack, [
      [/./, 'test stack: the stack tests check each wildcard (test/infra/training-stack.test.ts)'],
    ]);
    t = Template.fromStack(stack);
  });

  it('defaults to spot with MaxWait = MaxRuntime, two retries, isolated subnets, no volume key', () => {
    const p = job.jobDefinition as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(p.EnableManagedSpotTraining).toBe(true);
    expect(stack.resolve(p.StoppingCondition)).toEqual({
      MaxRuntimeInSeconds: 3600,
      MaxWaitTimeInSeconds: 3600,
    });
    expect(p.RetryStrategy).toEqual({ MaximumRetryAttempts: 2 });
    expect(p.EnableNetworkIsolation).toBe(true);
    expect(p.EnableInterContainerTrafficEncryption).toBe(true);
    expect(p.ResourceConfig.VolumeKmsKeyId).toBeUndefined();
    expect(stack.resolve(p.VpcConfig.Subnets)).toHaveLength(2);
  });

  it('trusts SageMaker of this account only and leaves no unacknowledged finding', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'sagemaker.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ],
      },
    });
    expect(nagViolations(stack)).toEqual([]);
  });

  it('refuses a MaxWait below the runtime and a long job-name prefix', () => {
    const base = { ...(job as unknown as { props: Record<string, unknown> }).props };
    expect(
      () =>
        new SageMakerTrainingJob(stack, 'Bad1', {
          ...(base as unknown as SageMakerTrainingJobProps),
          maxWait: Duration.minutes(30),
        }),
    ).toThrow(/maxWait must be at least maxRuntime/);
    expect(
      () =>
        new SageMakerTrainingJob(stack, 'Bad2', {
          ...(base as unknown as SageMakerTrainingJobProps),
          jobNamePrefix: 'x'.repeat(24),
        }),
    ).toThrow(/jobNamePrefix longer than 23/);
  });
});
