import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { TrainingMonitoring } from '../../../lib/constructs';
import { DRIFT_METRIC } from '../../../src/contract/models';
import { TRAINING_METRICS } from '../../../src/contract/training';
import { constructFixture } from './fixture';
import { findings } from './trading-fixture';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('TrainingMonitoring', () => {
  const f = constructFixture();
  const stateMachine = new sfn.StateMachine(f.stack, 'Workflow', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(f.stack, 'Train')),
  });
  const strategyRunner = new lambda.Function(f.stack, 'StrategyRunner', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  const m = new TrainingMonitoring(f.stack, 'Monitoring', {
    config: { modelName: 'alpha', durationAlarmMinutes: 45, driftPsiAlarm: 0.3 },
    stateMachine,
    strategyRunner,
    monitoring: f.monitoring,
  });
  const t = Template.fromStack(f.stack);
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Json);
  const byDescription = (re: RegExp) => alarms.filter((a) => re.test(a.AlarmDescription as string));
  // A labelled metric renders as a one-metric `Metrics` list.
  const metricOf = (a: Json) => {
    const stat = a.Metrics?.[0]?.MetricStat;
    return { namespace: stat?.Metric?.Namespace, name: stat?.Metric?.MetricName, stat: stat?.Stat };
  };

  it('four alarms, each notifying the alarm topic on ALARM and OK', () => {
    expect(alarms).toHaveLength(4);
    for (const a of alarms) {
      expect(a.AlarmActions).toHaveLength(1);
      expect(a.OKActions).toEqual(a.AlarmActions);
    }
  });

  it('failed, timed-out or aborted runs of the workflow: one is enough', () => {
    const [failed] = byDescription(/^A training run of alpha failed, timed out or was aborted$/);
    expect(failed.Threshold).toBe(1);
    expect(JSON.stringify(failed.Metrics)).toContain('failed + timedout + aborted');
    expect(JSON.stringify(failed.Metrics)).toContain(
      JSON.stringify(f.stack.resolve(stateMachine.stateMachineArn)).slice(1, -1),
    );
  });

  it('a job longer than the configured minutes: its longest training seconds, above the threshold', () => {
    const [duration] = byDescription(/ran longer than 45 minutes/);
    expect(metricOf(duration)).toEqual({
      namespace: TRAINING_METRICS.namespace,
      name: TRAINING_METRICS.trainingSeconds,
      stat: 'Maximum',
    });
    expect(duration.Metrics[0].MetricStat.Metric.Dimensions).toEqual([
      { Name: TRAINING_METRICS.modelNameDimension, Value: 'alpha' },
    ]);
    expect(duration).toMatchObject({ Threshold: 45 * 60, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('feature drift at the configured PSI, and errors of the strategy runner', () => {
    const [drift] = byDescription(/drifted: PSI >= 0.3/);
    expect(metricOf(drift)).toEqual({
      namespace: DRIFT_METRIC.namespace,
      name: DRIFT_METRIC.name,
      stat: 'Maximum',
    });
    expect(drift).toMatchObject({ Threshold: 0.3, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const [runner] = byDescription(/strategy runner failed/);
    expect(runner).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1 });
  });

  it("the model's section on the dashboard: runs, duration, spot savings, drift", () => {
    const dashboard = f.stage.node.findChild('Dashboard') as Stack;
    const body = JSON.stringify(Template.fromStack(dashboard).toJSON());
    for (const title of [
      'Machine learning: alpha',
      'Training runs',
      'Training duration (s)',
      'Spot savings (%)',
      'Feature drift (PSI)',
    ])
      expect(body).toContain(title);
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, m)).toEqual([]);
  });
});
