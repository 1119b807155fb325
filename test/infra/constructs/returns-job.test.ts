import type { CfnElement } from 'aws-cdk-lib';
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

  it("may hand a failed run to its dead-letter queue: the queue key's GenerateDataKey and Decrypt", () => {
    const key = f.core.deadLetterQueue.encryptionMasterKey!;
    const keyArn = f.stack.resolve(key.keyArn);
    const fnId = f.stack.getLogicalId(job.function.node.defaultChild as CfnElement);
    const fnProps = t.findResources('AWS::Lambda::Function')[fnId].Properties;
    expect(fnProps.DeadLetterConfig.TargetArn).toEqual(f.stack.resolve(f.core.deadLetterQueue.queueArn));
    const roleId = f.stack.getLogicalId(job.function.role!.node.defaultChild as CfnElement);
    const sts = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
    const onKey = sts.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(keyArn));
    expect(onKey.map((s) => [s.Action].flat().sort())).toEqual([['kms:Decrypt', 'kms:GenerateDataKey']]);
  });

  it('alarms when a run fails', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Period: 3600, Threshold: 1 });
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, job)).toEqual([]);
  });
});
