import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { dev } from '../../../lib/config';
import { TrainingSchedules } from '../../../lib/constructs';
import type { TrainingSchedulesProps } from '../../../lib/constructs';
import { BARS_UPDATED_EVENT } from '../../../src/contract/bars';
import { DEFAULT_RUNNER_BAR_INTERVAL } from '../../../src/contract/models';
import { constructFixture } from './fixture';
import { findings } from './trading-fixture';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The schedules over a stand-in workflow and functions, in a construct fixture of their own. */
function schedules(config: TrainingSchedulesProps['config'], retryAttempts?: number) {
  const f = constructFixture();
  const fn = (id: string) =>
    new lambda.Function(f.stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
  const stateMachine = new sfn.StateMachine(f.stack, 'Workflow', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(f.stack, 'Train')),
  });
  const s = new TrainingSchedules(f.stack, 'Schedules', {
    config,
    stateMachine,
    driftCheck: fn('DriftCheck'),
    strategyRunner: fn('StrategyRunner'),
    retryAttempts,
  });
  const t = Template.fromStack(f.stack);
  const rules = Object.values(t.findResources('AWS::Events::Rule')).map((r) => r.Properties as Json);
  const ref = (id: string) =>
    JSON.stringify(f.stack.resolve((f.stack.node.findChild(id) as lambda.Function).functionArn));
  const targetsOf = (r: Json) => JSON.stringify(r.Targets);
  return {
    f,
    s,
    rules,
    ref,
    targetsOf,
    machine: JSON.stringify(f.stack.resolve(stateMachine.stateMachineArn)),
  };
}

describe('TrainingSchedules', () => {
  const { f, s, rules, ref, targetsOf, machine } = schedules(dev.training);
  const bySchedule = (expr: string | undefined) => rules.filter((r) => r.ScheduleExpression === expr);

  it('retrains on the retrain schedule: the workflow, started with trigger "schedule"', () => {
    const [retrain] = bySchedule(dev.training.retrainSchedule);
    expect(retrain.State).toBe('ENABLED');
    expect(targetsOf(retrain)).toContain(machine.slice(1, -1));
    expect(JSON.parse(retrain.Targets[0].Input as string)).toEqual({ trigger: 'schedule' });
  });

  it('checks drift and runs the strategy on their schedules, retrying a failed invocation twice', () => {
    const [drift] = bySchedule(dev.training.driftSchedule);
    const [runner] = bySchedule(dev.training.runnerSchedule);
    expect(targetsOf(drift)).toContain(ref('DriftCheck').slice(1, -1));
    expect(targetsOf(runner)).toContain(ref('StrategyRunner').slice(1, -1));
    for (const r of [drift, runner]) expect(r.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2 });
  });

  it("runs the strategy on each BarsUpdated of the runner's interval, on the default bus", () => {
    const onBars = rules.filter((r) => r.EventPattern);
    expect(onBars).toHaveLength(1);
    expect(onBars[0].EventPattern).toEqual({
      source: [BARS_UPDATED_EVENT.source],
      'detail-type': [BARS_UPDATED_EVENT.detailType],
      detail: { interval: [DEFAULT_RUNNER_BAR_INTERVAL] },
    });
    expect(onBars[0].EventBusName).toBeUndefined();
    expect(targetsOf(onBars[0])).toContain(ref('StrategyRunner').slice(1, -1));
  });

  it('has no unacknowledged AwsSolutions or NIST 800-53 R5 findings', () => {
    expect(findings(f.stack, s)).toEqual([]);
  });
});

describe('TrainingSchedules without a retrain schedule, with other retries', () => {
  const { rules, machine } = schedules({ ...dev.training, retrainSchedule: undefined }, 0);

  it('has no scheduled retrain: nothing starts the workflow', () => {
    expect(rules).toHaveLength(3);
    expect(JSON.stringify(rules)).not.toContain(machine.slice(1, -1));
  });

  it('retries function targets as many times as asked', () => {
    for (const r of rules) expect(r.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 0 });
  });
});
