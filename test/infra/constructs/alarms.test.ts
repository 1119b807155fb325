import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { PlatformAlarm } from '../../../lib/constructs';
import { env, findings, tradingFixture } from './trading-fixture';

const metric = new cw.Metric({ namespace: 'Test', metricName: 'Errors', statistic: 'Sum' });

describe('PlatformAlarm and IMonitoring.alarm', () => {
  it('defaults: >= threshold, 1 period, missing data not breaching; notifies the alarm topic on ALARM and OK', () => {
    const f = tradingFixture();
    const alarm = f.monitoring.alarm(f.stack, 'ErrorsAlarm', { description: 'errors', metric, threshold: 3 });
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'errors',
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: Match.absent(),
      TreatMissingData: 'notBreaching',
      AlarmActions: [Match.anyValue()],
      OKActions: [Match.anyValue()],
    });
    expect(findings(f.stack, alarm)).toEqual([]);
  });

  it('maps comparisons and periods; lists every alarm on the dashboard', () => {
    const f = tradingFixture();
    const cases = [
      ['>', 'GreaterThanThreshold'],
      ['<=', 'LessThanOrEqualToThreshold'],
      ['<', 'LessThanThreshold'],
    ] as const;
    for (const [comparison] of cases) {
      f.monitoring.alarm(f.stack, `A${cases.findIndex((c) => c[0] === comparison)}`, {
        description: comparison,
        metric,
        threshold: 0,
        comparison,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cw.TreatMissingData.BREACHING,
      });
    }
    const t = Template.fromStack(f.stack);
    for (const [comparison, op] of cases) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: comparison,
        ComparisonOperator: op,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        TreatMissingData: 'breaching',
      });
    }
    const body = JSON.stringify(Template.fromStack(f.dashboard).toJSON());
    expect(body.match(/A[012][0-9A-F]{8}/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('draws itself with its threshold; without a topic it has no action (a NIST finding)', () => {
    const stack = new Stack(undefined, 'S', { env });
    const alarm = new PlatformAlarm(stack, 'Quiet', { description: 'd', metric, threshold: 1 });
    const widget = alarm.graph('Errors', 12).toJson()[0] as {
      width: number;
      properties: { title: string; annotations: unknown };
    };
    expect(widget.width).toBe(12);
    expect(widget.properties.title).toBe('Errors');
    expect(JSON.stringify(widget.properties.annotations)).toContain('alarms');
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: Match.absent(),
    });
    expect(findings(stack, alarm).join('\n')).toMatch(/NIST\.800\.53\.R5-CloudWatchAlarmAction S\/Quiet/);
  });

  it('refuses an alarm in the Dashboard stack', () => {
    const f = tradingFixture();
    expect(() => f.monitoring.alarm(f.dashboard, 'Bad', { description: 'd', metric, threshold: 1 })).toThrow(
      /stack that owns the metric/,
    );
  });
});
