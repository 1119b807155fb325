/**
 * The DailyStress construct on its own (template, least privilege, cdk-nag AwsSolutions and NIST
 * 800-53 R5), and as the TradingStack composes it next to the returns job (schedule, alarm and the
 * dashboard section).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../lib/config';
import {
  acknowledgeInlinePolicies,
  DailyStress,
  EncryptedTable,
  QuantKey,
  SecureBucket,
} from '../../lib/constructs';
import { DashboardStack, MonitoringHub, MonitoringStack } from '../../lib/stacks/monitoring-stack';
import type { QuantStage } from '../../lib/quant-stage';
import { LAKE_BUCKET_ENV } from '../../src/contract/lake';
import { STRESS_METRICS } from '../../src/contract/metrics';
import { TRADING_ENV } from '../../src/contract/trading';
import { readSp500, worstDrawdown } from '../../src/risk/stress-scenarios';
import { cdkJsonContext, nagViolations, resourcesOfType, SKIP_BUNDLING, template, testApp } from './helpers';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const env = { account: '111111111111', region: 'us-east-1' };

function build(props: { delayMinutes?: number } = {}): {
  stack: Stack;
  board: DashboardStack;
  c: DailyStress;
  t: Template;
} {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const alerts = new MonitoringStack(app, 'M', {
    env,
    environmentName: 'test',
    alarmEmail: 'ops@example.com',
    logRetentionDays: 30,
  });
  const board = new DashboardStack(app, 'D', { env, environmentName: 'test' });
  const stack = new Stack(app, 'T', { env });
  const key = new QuantKey(stack, 'Key', { description: 'test' });
  const logs = new SecureBucket(stack, 'Logs', { encryption: 's3-managed' });
  const curated = new SecureBucket(stack, 'Curated', { encryptionKey: key, accessLogsBucket: logs });
  const audit = new SecureBucket(stack, 'Audit', { encryptionKey: key, accessLogsBucket: logs });
  const riskTable = new EncryptedTable(stack, 'RiskTable', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    encryptionKey: key,
  });
  const c = new DailyStress(stack, 'Stress', {
    account: 'desk',
    riskTable,
    lake: { buckets: { curated, audit }, auditKey: key },
    monitoring: new MonitoringHub(alerts, board),
    after: { hourUtc: 22, minuteUtc: 45 },
    ...props,
  });
  // As every stage does (lib/quant-stage.ts): a role's own grant policies are not findings.
  acknowledgeInlinePolicies(stack);
  return { stack, board, c, t: Template.fromStack(stack) };
}

describe('DailyStress', () => {
  const { stack, board, c, t } = build();

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(nagViolations(c, 'AwsSolutions')).toEqual([]);
    expect(nagViolations(c, 'NIST.800.53.R5')).toEqual([]);
  });

  it('runs 30 minutes after the returns job with the scenarios resolved, the replays from the S&P 500', () => {
    const [, rule] = resourcesOfType(t, 'AWS::Events::Rule')[0];
    expect(rule.Properties!.ScheduleExpression).toBe('cron(15 23 * * ? *)'); // 22:45 + 30 min
    const targets = rule.Properties!.Targets as { Input: string; RetryPolicy: unknown }[];
    expect(targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2 });
    const input = JSON.parse(targets[0].Input) as {
      account: string;
      reverse: boolean;
      scenarios: { name: string; shocks: Record<string, number>; correlationOne?: boolean }[];
    };
    expect(input.account).toBe('desk');
    expect(input.reverse).toBe(true);
    expect(input.scenarios.map((s) => s.name)).toEqual([
      'equity -20%',
      'rates +100bp',
      'fx +10%',
      'oil -30%',
      'correlation 1',
      'replay 2000-02',
      'replay 2008',
      'replay 2020',
    ]);
    expect(input.scenarios[1].shocks).toEqual({ rates: 0.01 });
    expect(input.scenarios[4]).toMatchObject({ shocks: { equity: -0.2 }, correlationOne: true });
    const d2008 = worstDrawdown(readSp500(), '2007-01-01', '2009-12-31');
    // The S&P 500's fall plus the episode's rates, dollar and commodity moves (REPLAYS).
    expect(input.scenarios[6].shocks).toEqual({
      equity: d2008.shock,
      rates: -0.0175,
      fx: 0.13,
      commodity: -0.35,
    });
    expect(d2008.shock).toBeCloseTo(676.53 / 1565.15 - 1, 6);
  });

  it('wraps past midnight', () => {
    const { t: t2 } = build({ delayMinutes: 90 });
    t2.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(15 0 * * ? *)' });
  });

  it('gives the handler the risk table and both buckets, one run at a time', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          [TRADING_ENV.riskTable]: { Ref: Match.stringLikeRegexp('^RiskTable') },
          [LAKE_BUCKET_ENV.curated]: { Ref: Match.stringLikeRegexp('^Curated') },
          [LAKE_BUCKET_ENV.audit]: { Ref: Match.stringLikeRegexp('^Audit') },
          POWERTOOLS_SERVICE_NAME: STRESS_METRICS.service,
          POWERTOOLS_METRICS_NAMESPACE: STRESS_METRICS.namespace,
        }),
      },
    });
  });

  it('reads the table and the returns window; writes only its own results in the audit zone', () => {
    const st = resourcesOfType(t, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    const all = st.flatMap(actions);
    expect(all.filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toEqual([]);
    const writes = st.filter((s) => actions(s).some((a) => /^s3:(Put|Delete)/.test(a)));
    expect(writes.map((s) => actions(s))).toEqual([['s3:PutObject']]);
    expect(JSON.stringify(writes[0].Resource)).toMatch(/Audit.*\/risk\/stress\/desk\/\*/);
    const s3Reads = st.filter((s) => actions(s).some((a) => a.startsWith('s3:Get')));
    expect(s3Reads).toHaveLength(1);
    expect(JSON.stringify(s3Reads[0].Resource)).toMatch(/Curated.*\/risk\/returns\/desk\.json/);
    for (const s of st)
      if (s.Resource === '*') expect(actions(s).every((a) => a.startsWith('xray:'))).toBe(true);
  });

  it('alarms on a breach and on a failed run, and adds a dashboard section', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: STRESS_METRICS.breaches,
      Namespace: STRESS_METRICS.namespace,
      Dimensions: [{ Name: 'service', Value: STRESS_METRICS.service }],
      Statistic: 'Maximum',
      Period: 86_400,
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    expect(c.widgets.flat()).toHaveLength(3);
    const body = JSON.stringify(Template.fromStack(board).toJSON());
    expect(body).toContain('Daily stress (desk)');
    expect(body).toContain(STRESS_METRICS.worstPnlPctNav);
    expect(stack.node.findAll().filter((x) => x instanceof DailyStress)).toHaveLength(1);
  });

  it('refuses a bad schedule or scenario list, naming the field', () => {
    expect(() => build({ delayMinutes: -1 })).toThrow(/DailyStress.delayMinutes/);
    const s = new Stack(new App({ context: SKIP_BUNDLING }), 'U');
    const key = new QuantKey(s, 'K', { description: 'k' });
    const b = new SecureBucket(s, 'B', { encryptionKey: key });
    const table = new EncryptedTable(s, 'Tb', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      encryptionKey: key,
    });
    const app = s.node.root as App;
    const hub = new MonitoringHub(
      new MonitoringStack(app, 'M2', { environmentName: 'x', alarmEmail: 'a@b.co', logRetentionDays: 30 }),
      new DashboardStack(app, 'D2', { environmentName: 'x' }),
    );
    const base = {
      account: 'desk',
      riskTable: table,
      lake: { buckets: { curated: b, audit: b }, auditKey: key },
      monitoring: hub,
    };
    expect(() => new DailyStress(s, 'A', { ...base, after: { hourUtc: 24, minuteUtc: 0 } })).toThrow(
      /DailyStress.after.hourUtc/,
    );
    expect(
      () =>
        new DailyStress(s, 'C', {
          ...base,
          after: { hourUtc: 1, minuteUtc: 0 },
          scenarios: { scenarios: [] },
        }),
    ).toThrow(/DailyStress.scenarios: must list at least one scenario/);
  });
});

describe('daily stress in the stage', () => {
  let stage: QuantStage;
  beforeAll(() => {
    stage = testApp([dev]).stages.dev;
  });

  it('runs after the returns job in the trading stack, alarmed, with nothing unacknowledged', () => {
    const t = template(stage.trading);
    const job = dev.trading.returnsJob!;
    const start = job.hourUtc * 60 + job.minuteUtc + 30;
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `cron(${start % 60} ${Math.floor(start / 60) % 24} * * ? *)`,
      Description: Match.stringLikeRegexp('Stress test'),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: STRESS_METRICS.breaches });
    const stress = stage.trading.node.findAll().find((x): x is DailyStress => x instanceof DailyStress)!;
    expect(nagViolations(stress, 'AwsSolutions')).toEqual([]);
    expect(nagViolations(stress, 'NIST.800.53.R5')).toEqual([]);
  });
});
