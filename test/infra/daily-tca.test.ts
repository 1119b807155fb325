/**
 * The DailyTca construct on its own (template, least privilege, cdk-nag AwsSolutions and NIST
 * 800-53 R5), and as the TradingStack composes it (schedule, alarm, dashboard section).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../lib/config';
import {
  acknowledgeInlinePolicies,
  DailyTca,
  EncryptedTable,
  QuantKey,
  SecureBucket,
} from '../../lib/constructs';
import { DashboardStack, MonitoringHub, MonitoringStack } from '../../lib/stacks/monitoring-stack';
import type { QuantStage } from '../../lib/quant-stage';
import { LAKE_BUCKET_ENV } from '../../src/contract/lake';
import { TCA_METRICS } from '../../src/contract/metrics';
import { TRADING_ENV } from '../../src/contract/trading';
import { cdkJsonContext, nagViolations, resourcesOfType, SKIP_BUNDLING, template, testApp } from './helpers';

type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
};
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const env = { account: '111111111111', region: 'us-east-1' };

function build(props: { at?: { hourUtc: number; minuteUtc: number } } = {}): {
  board: DashboardStack;
  c: DailyTca;
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
  const results = new SecureBucket(stack, 'Results', { encryptionKey: key, accessLogsBucket: logs });
  const ordersTable = new EncryptedTable(stack, 'OrdersTable', {
    partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
    encryptionKey: key,
  });
  const c = new DailyTca(stack, 'Tca', {
    account: 'desk',
    ordersTable,
    lake: { buckets: { curated, results } },
    monitoring: new MonitoringHub(alerts, board),
    ...props,
  });
  acknowledgeInlinePolicies(stack);
  return { board, c, t: Template.fromStack(stack) };
}

describe('DailyTca', () => {
  const { board, c, t } = build();

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(nagViolations(c, 'AwsSolutions')).toEqual([]);
    expect(nagViolations(c, 'NIST.800.53.R5')).toEqual([]);
  });

  it('runs after the close on weekdays with the account and the firing time (the day)', () => {
    const [, rule] = resourcesOfType(t, 'AWS::Events::Rule')[0];
    expect(rule.Properties!.ScheduleExpression).toBe('cron(30 22 ? * MON-FRI *)');
    const [target] = rule.Properties!.Targets as {
      InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
      RetryPolicy: unknown;
    }[];
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 2 });
    expect(target.InputTransformer.InputPathsMap).toEqual({ time: '$.time' });
    expect(target.InputTransformer.InputTemplate).toBe('{"account":"desk","time":<time>}');
    const { t: t2 } = build({ at: { hourUtc: 21, minuteUtc: 5 } });
    t2.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(5 21 ? * MON-FRI *)' });
  });

  it('gives the handler the orders table and both buckets, one run at a time', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          [TRADING_ENV.ordersTable]: { Ref: Match.stringLikeRegexp('^OrdersTable') },
          [LAKE_BUCKET_ENV.curated]: { Ref: Match.stringLikeRegexp('^Curated') },
          [LAKE_BUCKET_ENV.results]: { Ref: Match.stringLikeRegexp('^Results') },
          POWERTOOLS_SERVICE_NAME: TCA_METRICS.service,
          POWERTOOLS_METRICS_NAMESPACE: TCA_METRICS.namespace,
        }),
      },
    });
  });

  it('reads the orders and the bars; writes only its account tca partitions', () => {
    const st = resourcesOfType(t, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    const all = st.flatMap(actions);
    expect(all.filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toEqual([]);
    expect(all).toContain('dynamodb:Scan');
    const writes = st.filter((s) => actions(s).some((a) => /^s3:(Put|Delete|Abort)/.test(a)));
    expect(writes.map((s) => actions(s))).toEqual([['s3:PutObject']]);
    expect(JSON.stringify(writes[0].Resource)).toMatch(/Results.*\/tca\/account=desk\/\*"/);
    const objectReads = st
      .filter((s) => actions(s).some((a) => a.startsWith('s3:GetObject')))
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
      .map((r) => JSON.stringify(r))
      .filter((r) => r.includes('/'));
    expect(objectReads.map((r) => /(\/[^"]*\*)"/.exec(r)?.[1]).sort()).toEqual([
      '/_lake/pending/bars/*',
      '/bars/interval=1d/*',
      '/bars/interval=1m/*',
      '/tca/account=desk/*',
    ]);
    for (const s of st)
      if (s.Resource === '*') expect(actions(s).every((a) => a.startsWith('xray:'))).toBe(true);
    expect(all.filter((a) => a.startsWith('glue:') || a.startsWith('athena:'))).toEqual([]);
  });

  it('alarms on a failed run and adds a dashboard section', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
    expect(c.widgets.flat()).toHaveLength(3);
    const body = JSON.stringify(Template.fromStack(board).toJSON());
    expect(body).toContain('Daily TCA (desk)');
    expect(body).toContain(TCA_METRICS.shortfallBps);
  });

  it('refuses a bad schedule, naming the field', () => {
    expect(() => build({ at: { hourUtc: 24, minuteUtc: 0 } })).toThrow(/DailyTca.at.hourUtc/);
    expect(() => build({ at: { hourUtc: 1, minuteUtc: 60 } })).toThrow(/DailyTca.at.minuteUtc/);
  });
});

describe('daily TCA in the stage', () => {
  let stage: QuantStage;
  beforeAll(() => {
    stage = testApp([dev]).stages.dev;
  });

  it('runs in the trading stack for the traded account, alarmed, with nothing unacknowledged', () => {
    const t = template(stage.trading);
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(30 22 ? * MON-FRI *)',
      Description: Match.stringLikeRegexp('Transaction cost analysis'),
    });
    const tca = stage.trading.node.findAll().find((x): x is DailyTca => x instanceof DailyTca)!;
    expect(nagViolations(tca, 'AwsSolutions')).toEqual([]);
    expect(nagViolations(tca, 'NIST.800.53.R5')).toEqual([]);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:PutObject',
            Resource: {
              'Fn::Join': ['', Match.arrayWith([`/tca/account=${dev.trading.account}/*`])],
            },
          }),
        ]),
      },
    });
  });
});
