import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SweepBatchTask, SweepStateMachine } from '../../../lib/constructs';
import { SWEEP_STATES } from '../../../src/contract/sweep';
import { nagViolations, resourcesOfType } from '../helpers';
import { constructFixture, type ConstructFixture } from './fixture';

let f: ConstructFixture;
let t: Template;
beforeAll(() => {
  f = constructFixture();
  const { buckets } = f.zones;
  const batch = new SweepBatchTask(f.stack, 'Batch', {
    vpc: f.vpc,
    curatedBucket: buckets.curated,
    resultsBucket: buckets.results,
    lakeEnvironment: { LAKE_RESULTS_BUCKET: buckets.results.bucketName },
    logKey: f.monitoring.logKey,
    logRetentionDays: 30,
  });
  new SweepStateMachine(f.stack, 'Sweep', {
    batch,
    resultsBucket: buckets.results,
    athenaResultsBucket: buckets.athenaResults,
    databaseName: 'quant_test',
    workgroupName: 'quant-test',
    grantQuery: (g) => buckets.results.grantRead(g),
    lakeEnvironment: { LAKE_RESULTS_BUCKET: buckets.results.bucketName },
    logKey: f.monitoring.logKey,
    logRetentionDays: 30,
    monitoring: f.monitoring,
  });
  t = Template.fromStack(f.stack);
});

describe('SweepBatchTask', () => {
  it('an arm64 Fargate task, read-only root, non-root, 1 vCPU / 2 GiB by default, family as without the area', () => {
    const [[, td]] = resourcesOfType(t, 'AWS::ECS::TaskDefinition');
    expect(td.Properties).toMatchObject({
      Cpu: '1024',
      Memory: '2048',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [expect.objectContaining({ ReadonlyRootFilesystem: true, User: 'node' })],
    });
    // `Names.uniqueId` of the task definition with the area (Batch) left out of the path.
    expect(td.Properties!.Family).toMatch(/^testUnderTestTaskDefinition[0-9A-F]{8}$/);
  });

  it('its security group has no inbound rule and only HTTPS out', () => {
    const [, sg] = resourcesOfType(t, 'AWS::EC2::SecurityGroup')[0];
    expect(sg.Properties!.SecurityGroupIngress).toBeUndefined();
    expect(sg.Properties!.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
  });
});

describe('SweepStateMachine', () => {
  it('binds every state of the sweep contract, standard type, traced, 24 h by default', () => {
    const [, sm] = resourcesOfType(t, 'AWS::StepFunctions::StateMachine')[0];
    const definition = JSON.stringify(sm.Properties!.DefinitionString);
    for (const name of Object.values(SWEEP_STATES))
      expect(definition).toContain(JSON.stringify(name).slice(1, -1));
    expect(sm.Properties!.StateMachineType).toBe('STANDARD');
    expect(sm.Properties!.TracingConfiguration).toEqual({ Enabled: true });
    expect(definition).toMatch(/TimeoutSeconds\W+86400/);
  });

  it('the state machine may stop and describe only tasks of the sweep cluster', () => {
    const policies = resourcesOfType(t, 'AWS::IAM::Policy').filter(([id]) =>
      id.startsWith('SweepStateMachineRole'),
    );
    const statements = policies.flatMap(
      ([, p]) =>
        (p.Properties!.PolicyDocument as { Statement: Array<{ Action: unknown; Resource: unknown }> })
          .Statement,
    );
    const ecs = statements.find((s) => JSON.stringify(s.Action).includes('ecs:StopTask'))!;
    expect(ecs.Resource).not.toBe('*');
    expect(JSON.stringify(ecs.Resource)).toContain(':task/');
  });

  it("the state machine may publish to its SSE-KMS topic: the topic key's GenerateDataKey and Decrypt", () => {
    const [[topicId, topic]] = resourcesOfType(t, 'AWS::SNS::Topic');
    const keyArn = topic.Properties!.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] };
    expect(keyArn['Fn::GetAtt'][0]).toMatch(/^NotificationKey/);
    const statements = resourcesOfType(t, 'AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('SweepStateMachineRole'))
      .flatMap(
        ([, p]) =>
          (p.Properties!.PolicyDocument as { Statement: Array<{ Action: unknown; Resource: unknown }> })
            .Statement,
      );
    const publish = statements.filter((s) => s.Action === 'sns:Publish');
    expect(publish.map((s) => s.Resource)).toEqual([{ Ref: topicId }]);
    const onKey = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(keyArn));
    expect(onKey.map((s) => [s.Action].flat().sort())).toEqual([['kms:Decrypt', 'kms:GenerateDataKey']]);
  });

  it('three step functions from lambda/backtest-*, reserved concurrency 5, and a failed-sweep alarm', () => {
    const fns = resourcesOfType(t, 'AWS::Lambda::Function');
    expect(fns).toHaveLength(3);
    for (const [, fn] of fns) expect(fn.Properties!.ReservedConcurrentExecutions).toBe(5);
    expect(resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([id]) => id)).toEqual([
      expect.stringMatching(/^SweepFailedAlarm/),
    ]);
  });

  it('has no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 R5)', () => {
    expect(nagViolations(f.stack)).toEqual([]);
    expect(nagViolations(f.stack, 'NIST.800.53.R5')).toEqual([]);
  });
});
