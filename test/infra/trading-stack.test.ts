import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import { nagViolations, resourcesOfType, template, testApp } from './helpers';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

let stage: QuantStage;
let prodStage: QuantStage;
let t: Template;
let tp: Template;

beforeAll(() => {
  // Lambda bundling is skipped: these tests read the template; bundles are measured in bench/trading.
  const noBundling = { 'aws:cdk:bundling-stacks': [] };
  stage = testApp([dev], noBundling).stages.dev;
  prodStage = testApp([prod], noBundling).stages.prod;
  t = template(stage.trading);
  tp = template(prodStage.trading);
});

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const statements = (tt: Template): Statement[] =>
  resourcesOfType(tt, 'AWS::IAM::Policy').flatMap(
    ([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
  );

describe('TradingStack: security', () => {
  it('has no unacknowledged AwsSolutions findings (dev and prod)', () => {
    expect(nagViolations(stage.trading)).toEqual([]);
    expect(nagViolations(prodStage.trading)).toEqual([]);
  });

  it('never grants * actions; Resource "*" only for X-Ray, the state machine\'s vended log delivery and ENI lookups', () => {
    const unscoped =
      /^(xray:\w+|logs:(CreateLogDelivery|DeleteLogDelivery|DescribeLogGroups|DescribeResourcePolicies|GetLogDelivery|ListLogDeliveries|PutResourcePolicy|UpdateLogDelivery)|ec2:(DescribeNetworkInterfaces|DescribeSubnets))$/;
    for (const tt of [t, tp]) {
      expect(statements(tt).flatMap(actions)).not.toContain('*');
      for (const s of statements(tt).filter((x) => x.Resource === '*')) {
        for (const a of actions(s)) expect(a).toMatch(unscoped);
      }
    }
  });

  it('tables: point-in-time recovery, customer-managed KMS, retained', () => {
    const tables = resourcesOfType(t, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(3);
    for (const [, r] of tables) {
      expect(r.Properties!.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      const sse = r.Properties!.SSESpecification as Record<string, unknown>;
      expect(sse.SSEEnabled).toBe(true);
      expect(sse.SSEType).toBe('KMS');
      expect(sse.KMSMasterKeyId).toBeDefined();
      expect(r.DeletionPolicy).toBe('Retain');
    }
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('dead-letter queue: KMS, TLS only', () => {
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('risk-check is IAM-authorized; the REST broker keys are in Secrets Manager (prod)', () => {
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    expect(resourcesOfType(t, 'AWS::SecretsManager::Secret')).toHaveLength(0);
    tp.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: Match.anyValue() });
  });
});

describe('TradingStack: execution path', () => {
  it('Lambdas: Node 22 on arm64 with active tracing', () => {
    const fns = resourcesOfType(t, 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThanOrEqual(3);
    for (const [, f] of fns.filter(([, f]) => (f.Properties!.Handler as string) === 'index.handler')) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('Kinesis signals → execution with ReportBatchItemFailures and an on-failure DLQ', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    t.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: Match.anyValue() },
    });
    tp.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: prod.trading.signalShards });
  });

  it('EventBridge: signals on the bus and the kill-switch alarm rule', () => {
    t.hasResourceProperties('AWS::Events::Rule', { EventPattern: { 'detail-type': ['TradingSignal'] } });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { state: { value: ['ALARM'] } },
      },
    });
  });

  it('order events: execution, algo-child and kill switch may put events on the trading bus only', () => {
    const fns = resourcesOfType(t, 'AWS::Lambda::Function').filter(
      ([, f]) => (f.Properties!.Environment as { Variables?: Record<string, unknown> })?.Variables?.ORDER_BUS,
    );
    expect(fns.length).toBeGreaterThanOrEqual(2);
    const puts = statements(t).filter((s) => actions(s).includes('events:PutEvents'));
    expect(puts).toHaveLength(3);
    for (const s of puts) expect(JSON.stringify(s.Resource)).toMatch(/OrderEvents[0-9A-F]{8}/);
  });

  it('audit: Firehose → audit bucket under audit_events/, encrypted; Glue table audit_events', () => {
    t.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: 'audit_events/dt=!{timestamp:yyyy-MM-dd}/',
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: Match.anyValue() } },
      }),
    });
    t.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'audit_events',
        Parameters: Match.objectLike({ 'projection.enabled': 'true' }),
      }),
    });
  });

  it('alarms: errors, drawdown and daily loss (kill switch), DLQ not empty, halted, utilization warning and breach', () => {
    const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([id, a]) => ({
      id,
      description: a.Properties!.AlarmDescription as string,
      threshold: a.Properties!.Threshold,
      op: a.Properties!.ComparisonOperator,
    }));
    const find = (re: RegExp) => alarms.find((a) => re.test(a.description));
    expect(find(/^Execution function errors: trips the kill switch/)).toBeDefined();
    expect(find(/dead-letter queue/)).toMatchObject({ threshold: 1 });
    expect(find(/^Trading is HALTED/)).toMatchObject({
      threshold: 2,
      op: 'GreaterThanOrEqualToThreshold',
    });
    expect(find(/^Warning: a risk limit is at 80%/)).toMatchObject({
      threshold: 80,
      op: 'GreaterThanOrEqualToThreshold',
    });
    expect(find(/^Error: a risk limit is breached/)).toMatchObject({
      threshold: 100,
      op: 'GreaterThanThreshold',
    });
    expect(find(/^Error: orders rejected by a risk limit/)).toBeDefined();
    expect(find(/^Drawdown .* trips the kill switch/)).toMatchObject({ threshold: 100 });
    expect(find(/^Loss since the start of the day .* trips the kill switch/)).toMatchObject({
      threshold: 100,
    });
    // The halted alarm sees the state level of both the execution function and the kill switch.
    const halted = resourcesOfType(t, 'AWS::CloudWatch::Alarm').find(([, a]) =>
      /^Trading is HALTED/.test(a.Properties!.AlarmDescription as string),
    )![1];
    expect(JSON.stringify(halted.Properties!.Metrics)).toMatch(/MAX\(\[stateExecution, stateKillSwitch\]\)/);
    // Three alarms trip the kill switch: errors, drawdown, daily loss.
    const killRule = resourcesOfType(t, 'AWS::Events::Rule').find(([, r]) =>
      JSON.stringify(r.Properties!.EventPattern ?? {}).includes('CloudWatch Alarm State Change'),
    )![1];
    const pattern = killRule.Properties!.EventPattern as { resources: unknown[] };
    expect(pattern.resources).toHaveLength(3);
  });

  it('algo state machine: Standard, Map of Wait-until-time → algo-child task with retries; logged, traced', () => {
    const machines = resourcesOfType(t, 'AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(1);
    const [, m] = machines[0];
    expect(m.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    const parts = (m.Properties!.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const def = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'ARN')).join('')) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    const map = def.States[def.StartAt];
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.children', MaxConcurrency: 1 });
    const inner = (map.ItemProcessor ?? map.Iterator) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    const wait = inner.States[inner.StartAt];
    expect(wait).toMatchObject({ Type: 'Wait', TimestampPath: '$.at' });
    const task = inner.States[wait.Next as string];
    expect(task).toMatchObject({ Type: 'Task', Resource: 'ARN', End: true });
    expect(task.Retry).toContainEqual(
      expect.objectContaining({
        ErrorEquals: ['States.TaskFailed', 'States.Timeout'],
        BackoffRate: 2,
        MaxAttempts: 5,
      }),
    );
    // its log group is encrypted with the monitoring key
    const logGroup = JSON.stringify(
      (m.Properties!.LoggingConfiguration as { Destinations: unknown[] }).Destinations,
    ).match(/AlgoStateMachineLogs[0-9A-F]{8}/)![0];
    t.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue() });
    expect(
      resourcesOfType(t, 'AWS::Logs::LogGroup').find(([id]) => id === logGroup)![1].Properties!.KmsKeyId,
    ).toBeDefined();
  });

  it('algo state machine: only the execution function may start it; it may invoke only algo-child', () => {
    const starts = statements(t).filter((s) => actions(s).includes('states:StartExecution'));
    expect(starts).toHaveLength(1);
    expect(starts[0].Resource).toEqual({ Ref: expect.stringMatching(/^AlgoStateMachine[0-9A-F]{8}$/) });
    const policies = resourcesOfType(t, 'AWS::IAM::Policy');
    const owner = policies.find(([, p]) =>
      JSON.stringify(p.Properties!.PolicyDocument).includes('states:StartExecution'),
    )![1];
    expect(JSON.stringify(owner.Properties!.Roles)).toMatch(/"ExecutionRole[0-9A-F]{8}"/);
    const invokes = statements(t).filter((s) => actions(s).includes('lambda:InvokeFunction'));
    expect(invokes.length).toBeGreaterThan(0);
    for (const s of invokes) expect(JSON.stringify(s.Resource)).toMatch(/AlgoChild[0-9A-F]{8}/);
    // the execution function learns the machine's ARN; both functions read the returns windows
    const env = (id: RegExp) =>
      (
        resourcesOfType(t, 'AWS::Lambda::Function').find(([k]) => id.test(k))![1].Properties!.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
    expect(env(/^Execution[0-9A-F]{8}$/).ALGO_STATE_MACHINE_ARN).toEqual({
      Ref: expect.stringMatching(/^AlgoStateMachine/),
    });
    expect(env(/^AlgoChild[0-9A-F]{8}$/).LAKE_CURATED_BUCKET).toBeDefined();
    const reads = statements(t).filter(
      (s) => actions(s).includes('s3:GetObject*') && JSON.stringify(s.Resource).includes('risk/returns/*'),
    );
    expect(reads).toHaveLength(2);
    // ... and the 1-minute bars (child quotes, VWAP curves), read-only, that prefix only; the third
    // reader is the daily TCA job (arrival prices, interval VWAP), read-only too
    const bars = statements(t).filter((s) => JSON.stringify(s.Resource).includes('bars/interval=1m/*'));
    expect(bars).toHaveLength(3);
    for (const s of bars)
      for (const a of actions(s)) expect(a).toMatch(/^s3:(GetObject\*|GetBucket\*|List\*)$/);
    // ... and the bars table's pending markers, which the bar reader reads before any bar: the
    // execution and algo-child functions, the returns job and the daily TCA job, read-only
    const markers = statements(t).filter((s) => JSON.stringify(s.Resource).includes('_lake/pending/bars/*'));
    expect(markers).toHaveLength(4);
    for (const s of markers)
      for (const a of actions(s)) expect(a).toMatch(/^s3:(GetObject\*|GetBucket\*|List\*)$/);
  });

  it('orders: the order path gets and conditionally puts records (execution also scans to reconcile); none updates, deletes or batch-writes', () => {
    const onOrders = (tt: Template, role: RegExp) =>
      resourcesOfType(tt, 'AWS::IAM::Policy')
        .filter(([k]) => role.test(k))
        .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((s) => /OrdersTable[0-9A-F]{8}/.test(JSON.stringify(s.Resource)))
        .map((s) => actions(s).sort());
    for (const tt of [t, tp]) {
      expect(onOrders(tt, /^ExecutionRoleDefaultPolicy/)).toEqual([
        ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'],
      ]);
      expect(onOrders(tt, /^AlgoChildRoleDefaultPolicy/)).toEqual([['dynamodb:GetItem', 'dynamodb:PutItem']]);
    }
    const writes = statements(t).filter(
      (s) =>
        /OrdersTable[0-9A-F]{8}/.test(JSON.stringify(s.Resource)) &&
        actions(s).some((a) => /^dynamodb:(UpdateItem|DeleteItem|BatchWriteItem)$/.test(a)),
    );
    expect(writes).toEqual([]);
  });

  it('reconciliation: a schedule invokes the execution function every 5 minutes', () => {
    const rules = resourcesOfType(t, 'AWS::Events::Rule').filter(
      ([, r]) => r.Properties!.ScheduleExpression === 'rate(5 minutes)',
    );
    expect(rules).toHaveLength(1);
    expect(JSON.stringify(rules[0][1].Properties!.Targets)).toMatch(/Execution[0-9A-F]{8}/);
  });

  it('returns window: a daily schedule (from config) runs the risk-returns function with the account, symbols and days', () => {
    const rules = resourcesOfType(t, 'AWS::Events::Rule').filter(([k]) => /^RiskReturnsSchedule/.test(k));
    expect(rules).toHaveLength(1);
    const rule = rules[0][1].Properties!;
    const job = dev.trading.returnsJob!;
    expect(rule.ScheduleExpression).toBe(`cron(${job.minuteUtc} ${job.hourUtc} * * ? *)`);
    const [target] = rule.Targets as Array<{ Arn: unknown; Input: string; DeadLetterConfig?: unknown }>;
    expect(JSON.stringify(target.Arn)).toMatch(/RiskReturns[0-9A-F]{8}/);
    expect(JSON.parse(target.Input)).toEqual({ account: 'main', symbols: job.symbols, days: job.days });
    expect(target.DeadLetterConfig).toBeDefined();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('returns-window job failed'),
    });
  });

  it('quote age: config.quoteMaxAgeMs reaches the execution and algo-child functions (absent: their default)', () => {
    const tuned = template(
      testApp([{ ...dev, trading: { ...dev.trading, quoteMaxAgeMs: 120_000 } }], {
        'aws:cdk:bundling-stacks': [],
      }).stages.dev.trading,
    );
    const quoteAges = (tt: Template) =>
      resourcesOfType(tt, 'AWS::Lambda::Function')
        .filter(([k]) => /^(Execution|AlgoChild)/.test(k))
        .map(
          ([, f]) =>
            (f.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.QUOTE_MAX_AGE_MS,
        );
    expect(quoteAges(tuned)).toEqual(['120000', '120000']);
    expect(quoteAges(t)).toEqual([undefined, undefined]);
  });

  it("returns window: the job reads only daily bars and writes only its account's window object", () => {
    const policy = resourcesOfType(t, 'AWS::IAM::Policy').find(([k]) =>
      /^RiskReturnsRoleDefaultPolicy/.test(k),
    )!;
    const sts = (policy[1].Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
    const s3 = sts.filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    const resources = JSON.stringify(s3.map((s) => s.Resource));
    expect(resources).toContain('/bars/interval=1d/*');
    expect(resources).toContain('/_lake/pending/bars/*');
    expect(resources).toContain('/risk/returns/main.json');
    expect(resources).not.toMatch(/risk\/returns\/\*|interval=1m/);
    const puts = s3.filter((s) => actions(s).includes('s3:PutObject'));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0].Resource)).toMatch(/\/risk\/returns\/main\.json"\]\]\}$/);
    for (const s of s3)
      for (const a of actions(s)) expect(a).toMatch(/^s3:(GetObject\*|GetBucket\*|List\*|PutObject)$/);
    // no DynamoDB, no Step Functions: nothing but the lake and its logs/metrics
    expect(JSON.stringify(sts)).not.toMatch(/dynamodb:|states:/);
  });

  it('dashboard: orders per minute, rejects by rule, trading state, limit utilization %, DLQ depth, p99 latency', () => {
    const body = JSON.stringify(template(stage.dashboard).toJSON());
    for (const title of [
      'Orders per minute',
      'Rejects by rule',
      'Trading state (0 ACTIVE, 1 REDUCING, 2 HALTED)',
      'Limit utilization %',
      'Dead-letter queue depth',
      'Execution p99 latency (ms)',
    ]) {
      expect(body).toContain(title);
    }
    expect(body).toContain('LimitUtilizationByRule');
  });
});
