/**
 * Platform-wide rules checked on every stack of a stage, whichever area wrote it (docs/architecture.md and the
 * team's non-negotiables): stateful resources are retained, nothing has a hard-coded bucket or table
 * name, no bucket is emptied on delete, no IAM statement allows every action (of a service), everything
 * at rest is encrypted, and our Lambdas run Node.js 22 on arm64.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../lib/config';
import { cdkJsonContext, resourcesOfType, synthStage, template } from './helpers';

type Rule = 'retained' | 'unnamed' | 'noAutoDelete' | 'noWildcardActions' | 'encrypted' | 'lambdaRuntime';

/** Violations of each rule in `stacks`, as `Stack/LogicalId` strings. */
function guardrailViolations(stacks: readonly Stack[]): Record<Rule, string[]> {
  const each = (type: string) =>
    stacks.flatMap((s) =>
      resourcesOfType(template(s), type).map(([id, r]) => ({ where: `${s.node.id}/${id}`, r })),
    );
  const where = (xs: { where: string }[]) => xs.map((x) => x.where);
  const statements = (r: { Properties?: Record<string, unknown> }) =>
    (
      r.Properties?.PolicyDocument as
        { Statement?: { Effect: string; Action?: string | string[] }[] } | undefined
    )?.Statement ?? [];
  return {
    retained: where(
      ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable']
        .flatMap(each)
        .filter(({ r }) => r.DeletionPolicy !== 'Retain' || r.UpdateReplacePolicy !== 'Retain'),
    ),
    unnamed: where([
      ...each('AWS::S3::Bucket').filter(({ r }) => r.Properties?.BucketName !== undefined),
      ...each('AWS::DynamoDB::Table').filter(({ r }) => r.Properties?.TableName !== undefined),
    ]),
    noAutoDelete: where(each('Custom::S3AutoDeleteObjects')),
    noWildcardActions: where(
      [...each('AWS::IAM::Policy'), ...each('AWS::IAM::ManagedPolicy')].filter(({ r }) =>
        statements(r).some(
          (st) =>
            st.Effect === 'Allow' &&
            [st.Action ?? []].flat().some((a) => a === '*' || /^[a-zA-Z0-9-]+:\*$/.test(a)),
        ),
      ),
    ),
    encrypted: where([
      ...each('AWS::S3::Bucket').filter(({ r }) => !r.Properties?.BucketEncryption),
      ...each('AWS::DynamoDB::Table').filter(
        ({ r }) => (r.Properties?.SSESpecification as { SSEType?: string } | undefined)?.SSEType !== 'KMS',
      ),
      ...each('AWS::SNS::Topic').filter(({ r }) => !r.Properties?.KmsMasterKeyId),
      ...each('AWS::SQS::Queue').filter(
        ({ r }) => !r.Properties?.KmsMasterKeyId && r.Properties?.SqsManagedSseEnabled !== true,
      ),
      ...each('AWS::Kinesis::Stream').filter(({ r }) => !r.Properties?.StreamEncryption),
      ...each('AWS::Logs::LogGroup').filter(({ r }) => !r.Properties?.KmsKeyId),
    ]),
    lambdaRuntime: where(
      each('AWS::Lambda::Function')
        // CDK's own singleton handlers (custom-resource providers) are not ours to configure.
        .filter(
          ({ where: w }) =>
            !/CustomResourceProvider|AWS679f53fac002430cb0da5b7982bd2287|LogRetention/.test(w),
        )
        .filter(
          ({ r }) =>
            r.Properties?.Runtime !== 'nodejs22.x' ||
            JSON.stringify(r.Properties?.Architectures) !== '["arm64"]',
        ),
    ),
  };
}

describe('guardrails on every stack of the dev stage', () => {
  let stacks: Stack[];
  beforeAll(() => {
    const stage = synthStage(dev);
    stacks = stage.node.children.filter((c): c is Stack => c instanceof Stack);
  });

  it('finds the stage stateful resources it checks', () => {
    const buckets = stacks.flatMap((s) => resourcesOfType(template(s), 'AWS::S3::Bucket'));
    expect(buckets.length).toBeGreaterThanOrEqual(8);
  });

  it('has no violation of any rule', () => {
    expect(guardrailViolations(stacks)).toEqual({
      retained: [],
      unnamed: [],
      noAutoDelete: [],
      noWildcardActions: [],
      encrypted: [],
      lambdaRuntime: [],
    });
  });
});

describe('guardrail checks catch violations', () => {
  it('reports each kind of violation in a throwaway stack', () => {
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Bad');
    new s3.Bucket(stack, 'Named', {
      bucketName: 'fixed-name',
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    new logs.LogGroup(stack, 'Logs');
    const fn = new lambda.Function(stack, 'Old', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['arn:aws:s3:::x'] }));
    const v = guardrailViolations([stack]);
    expect(v.retained).toEqual([expect.stringMatching(/^Bad\/Named/)]);
    expect(v.unnamed).toEqual([expect.stringMatching(/^Bad\/Named/)]);
    expect(v.noAutoDelete).toHaveLength(1);
    expect(v.noWildcardActions).toEqual([expect.stringMatching(/^Bad\/OldServiceRoleDefaultPolicy/)]);
    expect(v.encrypted).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Bad\/Plain/), expect.stringMatching(/^Bad\/Logs/)]),
    );
    expect(v.lambdaRuntime).toEqual([expect.stringMatching(/^Bad\/Old/)]);
  });
});
