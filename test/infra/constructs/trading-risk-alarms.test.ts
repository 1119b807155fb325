import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RiskCheckApi, TradingRiskAlarms } from '../../../lib/constructs';
import { findings, tradingFixture } from './trading-fixture';

describe('TradingRiskAlarms', () => {
  const f = tradingFixture();
  const risk = new TradingRiskAlarms(f.stack, 'RiskAlarms', { monitoring: f.monitoring });
  const fn = new RiskCheckApi(f.stack, 'Api', { core: f.core }).function;
  risk.addDashboardSection(fn, f.core.deadLetterQueue.metricApproximateNumberOfMessagesVisible());
  const t = Template.fromStack(f.stack);
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const byDescription = (re: RegExp) => alarms.find((a) => re.test(a.AlarmDescription as string))!;

  it('HALTED at state level 2; limit warnings at 80%, breaches above 100%', () => {
    expect(byDescription(/HALTED/)).toMatchObject({
      Threshold: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(byDescription(/80%/)).toMatchObject({ Threshold: 80, MetricName: 'LimitUtilization' });
    expect(byDescription(/above 100%/)).toMatchObject({
      Threshold: 100,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('drawdown and daily loss by rule at 100%: the loss alarms', () => {
    expect(risk.lossAlarms).toHaveLength(2);
    for (const rule of ['maxDrawdown', 'maxDailyLoss']) {
      const a = alarms.find((x) => JSON.stringify(x).includes(rule))!;
      expect(a).toMatchObject({ Threshold: 100, MetricName: 'LimitUtilizationByRule' });
    }
  });

  it('the Trading section on the dashboard', () => {
    const body = JSON.stringify(Template.fromStack(f.dashboard).toJSON());
    for (const title of [
      'Orders per minute',
      'Rejects by rule',
      'Limit utilization %',
      'Duplicate deliveries',
    ]) {
      expect(body).toContain(title);
    }
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, risk)).toEqual([]);
  });
});
