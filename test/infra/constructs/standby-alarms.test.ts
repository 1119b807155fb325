import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { StandbyAlarms } from '../../../lib/constructs';
import { DR_METRICS_NAMESPACE } from '../../../src/contract/dr';
import { STANDBY_RISK_CHECK_ERRORS_METRIC } from '../../../src/contract/dr-standby';
import { dormantStandby } from './standby-parts';
import { findings } from './trading-fixture';

function build(dormant: boolean) {
  const s = dormantStandby();
  const alarms = new StandbyAlarms(s.f.stack, 'Alarms', {
    monitoring: s.f.monitoring,
    dormant,
    dormantFunctions: [s.orderExecution.function, s.algos.algoChild, s.halt.function],
    riskCheck: s.riskCheckApi.function,
  });
  return { stack: s.f.stack, alarms, t: Template.fromStack(s.f.stack) };
}

const standbyAlarms = (t: Template) =>
  Object.values(t.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties as { AlarmDescription: string; Metrics?: { Expression?: string }[] })
    .filter((p) => p.AlarmDescription.includes('DR standby'));

describe('StandbyAlarms', () => {
  it('dormant: an invocation of any of the three dormant functions alarms (their throttles summed)', () => {
    const { t } = build(true);
    const invoked = standbyAlarms(t).find((p) => p.AlarmDescription.startsWith('Something invoked'));
    expect(invoked?.Metrics?.find((m) => m.Expression)?.Expression).toBe('t0 + t1 + t2');
  });

  it('the risk check: its crashes and its logged ERRORs (a metric filter) both count', () => {
    const { t } = build(true);
    t.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.level = "ERROR" }',
      MetricTransformations: [
        {
          MetricNamespace: DR_METRICS_NAMESPACE,
          MetricName: STANDBY_RISK_CHECK_ERRORS_METRIC,
          MetricValue: '1',
        },
      ],
    });
    const check = standbyAlarms(t).find((p) => p.AlarmDescription.startsWith('The DR standby risk check'));
    expect(check?.Metrics?.find((m) => m.Expression)?.Expression).toBe('FILL(crashes, 0) + FILL(logged, 0)');
  });

  it('not dormant: only the risk-check alarm', () => {
    const { t } = build(false);
    expect(standbyAlarms(t).map((p) => p.AlarmDescription.slice(0, 26))).toEqual([
      'The DR standby risk check ',
    ]);
  });

  it('has no unacknowledged finding of either pack', () => {
    const { stack, alarms } = build(true);
    expect(findings(stack, alarms)).toEqual([]);
  });
});
