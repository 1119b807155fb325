import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { LAKE_BUCKET_ENV } from '../../src/contract/lake';
import { STRATEGY_RUNNER_ENV } from '../../src/contract/models';
import { SWEEP_STATES as SWEEP_STATE_NAMES } from '../../src/contract/sweep';
import { resolveDefinitionString } from '../../src/local/stepfunctions';
import { nagViolations, resourcesOfType, template, testApp } from './helpers';

type Json = Record<string, unknown>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let stage: QuantStage;
let prodStage: QuantStage;
let t: Template;
let definition: { States: Record<string, Json> };

beforeAll(() => {
  // Lambda bundling is skipped: these tests look at the template, not at bundle contents.
  const noBundling = { 'aws:cdk:bundling-stacks': [] };
  stage = testApp([dev], noBundling).stages.dev;
  prodStage = testApp([prod], noBundling).stages.prod;
  t = template(stage.backtest);
  // Synthesize prod too before any check: the stack acknowledges wildcard findings after prepare.
  template(prodStage.backtest);
  const [, sm] = resourcesOfType(t, 'AWS::StepFunctions::StateMachine')[0];
  definition = resolveDefinitionString(sm.Properties!.DefinitionString) as never;
});

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
function statementsOf(roleLogicalPrefix: string): Statement[] {
  return resourcesOfType(t, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties!.Roles).includes(roleLogicalPrefix))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('BacktestStack: cdk-nag', () => {
  it('has no unacknowledged AwsSolutions findings (dev and prod)', () => {
    expect(nagViolations(stage.backtest)).toEqual([]);
    expect(nagViolations(prodStage.backtest)).toEqual([]);
  });

  it('uses Resource "*" only for actions without resource-level permissions', () => {
    // Actions that take no resource ARN (ECS task actions are scoped to the cluster's tasks below).
    const allowed =
      /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|ecr:GetAuthorizationToken|lakeformation:GetDataAccess|logs:(CreateLogDelivery|DeleteLogDelivery|DescribeLogGroups|DescribeResourcePolicies|GetLogDelivery|ListLogDeliveries|PutResourcePolicy|UpdateLogDelivery))$/;
    const star = resourcesOfType(t, 'AWS::IAM::Policy')
      .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => s.Resource === '*');
    expect(star.length).toBeGreaterThan(0);
    for (const s of star) for (const a of actions(s)) expect(a).toMatch(allowed);
  });

  it('the sweep state machine may stop and describe only tasks of its own cluster', () => {
    const cluster = resourcesOfType(t, 'AWS::ECS::Cluster').map(([id]) => id);
    expect(cluster).toHaveLength(1);
    const ecsTask = resourcesOfType(t, 'AWS::IAM::Policy')
      .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => actions(s).some((a) => a === 'ecs:StopTask' || a === 'ecs:DescribeTasks'));
    expect(ecsTask).toHaveLength(1);
    expect(actions(ecsTask[0]).sort()).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    const resource = JSON.stringify(ecsTask[0].Resource);
    expect(resource).toContain(`:task/`);
    expect(resource).toContain(`{"Ref":"${cluster[0]}"}`);
    expect(resource.endsWith('/*"]]}')).toBe(true);
  });
});

describe('BacktestStack: ECS', () => {
  it('runs a Fargate cluster with Container Insights and Fargate Spot capacity', () => {
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    t.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE', 'FARGATE_SPOT']),
    });
  });

  it('defines a non-root, read-only-root task on arm64 that writes only to a /tmp volume, with logs', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: String(dev.backtest.taskCpu),
      Memory: String(dev.backtest.taskMemoryMiB),
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Volumes: [{ Name: 'tmp' }],
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'backtest',
          User: 'node',
          ReadonlyRootFilesystem: true,
          MountPoints: [{ ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false }],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    const [, td] = resourcesOfType(t, 'AWS::ECS::TaskDefinition')[0];
    const env = (
      td.Properties!.ContainerDefinitions as { Environment: { Name: string }[] }[]
    )[0].Environment.map((e) => e.Name);
    expect(env).toEqual(expect.arrayContaining(['LAKE_RESULTS_BUCKET', 'LAKE_CURATED_BUCKET', 'TMPDIR']));
    expect(env).not.toContain('LAKE_RAW_BUCKET');
    const logGroups = resourcesOfType(t, 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThanOrEqual(2);
    for (const [, lg] of logGroups) {
      expect(lg.Properties!.RetentionInDays).toBe(dev.monitoring.logRetentionDays);
      expect(lg.Properties!.KmsKeyId).toBeDefined();
    }
  });

  it('lets the task role write only under backtest_results/ and delete nothing', () => {
    const statements = statementsOf('TaskDefinitionTaskRole');
    const writes = statements.filter((s) => actions(s).some((a) => /^s3:(Put|Delete|Abort)/.test(a)));
    expect(writes.length).toBeGreaterThan(0);
    for (const s of writes) {
      expect(actions(s).some((a) => a.startsWith('s3:Delete'))).toBe(false);
      const resources = JSON.stringify(s.Resource);
      expect(resources).toContain('/backtest_results/*');
      expect(resources).toContain('ResultsBucket');
    }
    // Reads: the curated zone (bars) and the models zone's registered versions, read-only. Nothing
    // on raw, vendor or audit.
    const all = JSON.stringify(statements);
    for (const zone of ['RawBucket', 'VendorBucket', 'AuditBucket']) expect(all).not.toContain(zone);
    expect(all).toContain('CuratedBucket');
    const models = statements.filter((s) => JSON.stringify(s.Resource).includes('ModelsBucket'));
    expect(models.length).toBe(1);
    expect(actions(models[0]).every((a) => /^s3:(Get|List)/.test(a))).toBe(true);
    expect(JSON.stringify(models[0].Resource)).toContain('/models/*');
  });

  it('tells the task where the registry is: the models bucket, read through its own index', () => {
    const [, td] = resourcesOfType(t, 'AWS::ECS::TaskDefinition')[0];
    const env = (
      td.Properties!.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[]
    )[0].Environment;
    const names = env.map((e) => e.Name);
    expect(names).toContain(LAKE_BUCKET_ENV.models);
    expect(env.find((e) => e.Name === STRATEGY_RUNNER_ENV.registry)?.Value).toBe('s3');
  });

  it('gives the tasks a security group without inbound rules and HTTPS-only egress', () => {
    const [, sg] = resourcesOfType(t, 'AWS::EC2::SecurityGroup').find(([id]) =>
      id.startsWith('TaskSecurityGroup'),
    )!;
    expect(sg.Properties!.SecurityGroupIngress).toBeUndefined();
    expect(sg.Properties!.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
  });
});

describe('BacktestStack: state machine', () => {
  it('is a Standard state machine with X-Ray tracing, full logging and a timeout', () => {
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
    expect((definition as unknown as { TimeoutSeconds: number }).TimeoutSeconds).toBe(
      dev.backtest.timeoutHours * 3600,
    );
  });

  it('validates, writes the manifest, maps, aggregates, publishes and notifies in that order', () => {
    const n = SWEEP_STATE_NAMES;
    expect((definition as unknown as { StartAt: string }).StartAt).toBe(n.validate);
    expect(definition.States[n.validate].Next).toBe(n.manifest);
    expect(definition.States[n.manifest].Next).toBe(n.map);
    expect(definition.States[n.map].Next).toBe(n.aggregate);
    expect(definition.States[n.aggregate].Next).toBe(n.publish);
    expect(definition.States[n.publish].Next).toBe(n.notify);
    expect(definition.States[n.notify].End).toBe(true);
    expect(definition.States[n.validate].Catch).toEqual([
      { ErrorEquals: ['InputError'], Next: 'Invalid request' },
    ]);
    expect(definition.States['Invalid request'].Type).toBe('Fail');
    expect(definition.States[n.aggregate].Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
    expect(definition.States[n.notify].Resource).toBe('arn:aws:states:::sns:publish');
  });

  it('runs a Distributed Map over the S3 manifest in batches with concurrency and tolerance from config', () => {
    const map = definition.States[SWEEP_STATE_NAMES.map] as Json & {
      ItemProcessor: { ProcessorConfig: Json; States: Record<string, Json> };
    };
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ItemReader).toMatchObject({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Key.$': '$.manifest.key' },
    });
    expect(map.ItemBatcher).toMatchObject({
      MaxItemsPerBatch: dev.backtest.batchSize,
      MaxInputBytesPerBatch: 6144,
      BatchInput: {
        'sweepId.$': '$.sweepId',
        'strategy.$': '$.strategy',
        'bars.$': '$.bars',
        'costBps.$': '$.costBps',
      },
    });
    expect(map.MaxConcurrency).toBe(dev.backtest.maxConcurrency);
    expect(map.ToleratedFailurePercentage).toBe(dev.backtest.toleratedFailurePercentage);

    const run = map.ItemProcessor.States[SWEEP_STATE_NAMES.runTask] as Json & {
      Retry: Json[];
      Parameters: Json;
    };
    expect(run.Resource).toBe('arn:aws:states:::ecs:runTask.sync');
    expect(run.Retry[0]).toMatchObject({
      ErrorEquals: expect.arrayContaining(['ECS.AmazonECSException', 'ECS.ThrottlingException']),
      BackoffRate: 2,
      JitterStrategy: 'FULL',
    });
    expect(JSON.stringify(run.Parameters)).toContain(
      '"Name":"BATCH_ITEMS","Value.$":"States.JsonToString($.Items)"',
    );
    expect(run.Parameters.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE_SPOT', Weight: 4 },
      { CapacityProvider: 'FARGATE', Weight: 1 },
    ]);
  });

  it('uses plain Fargate when the config turns Spot off (prod)', () => {
    const [, sm] = resourcesOfType(template(prodStage.backtest), 'AWS::StepFunctions::StateMachine')[0];
    const def = JSON.stringify(resolveDefinitionString(sm.Properties!.DefinitionString));
    expect(def).not.toContain('FARGATE_SPOT');
    expect(def).toContain('"LaunchType":"FARGATE"');
    expect(def).toContain(`"MaxConcurrency":${prod.backtest.maxConcurrency}`);
  });

  it('alarms on failed executions and adds a dashboard section', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('backtest sweep execution failed'),
      Threshold: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedout + aborted' })]),
      AlarmActions: Match.anyValue(),
    });
    const dash = JSON.stringify(template(stage.dashboard).findResources('AWS::CloudWatch::Dashboard'));
    expect(dash).toContain('Backtest sweeps');
    expect(dash).toContain('ExecutionsFailed');
    expect(dash).toContain('ParamSetsFailed');
    expect(dash).toContain('BatchDuration');
  });
});
