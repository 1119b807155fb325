import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ReturnsJob } from '../../../lib/constructs';
import { findings, tradingFixture } from './trading-fixture';

describe('ReturnsJob', () => {
  const f = tradingFixture();
  const job = new ReturnsJob(f.stack, 'Returns', {
    account: 'main',
    symbols: ['SPY', 'QQQ'],
    days: 250,
    hourUtc: 22,
    minuteUtc: 15,
    curatedBucket: f.curated,
    deadLetterQueue: f.core.deadLetterQueue,
    logKey: f.core.logKey,
    logRetentionDays: 30,
    monitoring: f.monitoring,
  });
  const t = Template.fromStack(f.stack);

  it('daily at the configured time, with the account, symbols and days as its event', () => {
    const [rule] = Object.values(t.findResources('AWS::Events::Rule'));
    expect(rule.Properties.ScheduleExpression).toBe('cron(15 22 * * ? *)');
    expect(JSON.parse(rule.Properties.Targets[0].Input as string)).toEqual({
      account: 'main',
      symbols: ['SPY', 'QQQ'],
      days: 250,
    });
  });

  it('reads daily bars, writes only its own window', () => {
    const policy = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policy).toContain('/bars/interval=1d/*');
    expect(policy).toContain('/risk/returns/main.json');
    expect(policy).not.toContain('/risk/returns/*');
    t.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1 });
  });

  it('alarms when a run fails', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Period: 3600, Threshold: 1 });
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, job)).toEqual([]);
  });
});
