/**
 * The schedules of machine learning in AWS: the retrain, the drift check, and the strategy runner on
 * its schedule and on each BarsUpdated event. An `Area`: inside the training stack the rules keep the
 * logical ids the stack gave them when it held them itself.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { TrainingConfig } from '../config/types';
import { BARS_UPDATED_EVENT } from '../../src/contract/bars';
import { DEFAULT_RUNNER_BAR_INTERVAL } from '../../src/contract/models';
import { Area } from './area';

export interface TrainingSchedulesProps {
  /**
   * The environment's training config: model name, trading environment and schedule expressions.
   * Without a `retrainSchedule` there is no scheduled retrain (`quant train --remote` starts one).
   */
  readonly config: Pick<
    TrainingConfig,
    'modelName' | 'tradingEnvironment' | 'retrainSchedule' | 'driftSchedule' | 'runnerSchedule'
  >;
  /** The training workflow the retrain starts. */
  readonly stateMachine: sfn.IStateMachine;
  readonly driftCheck: lambda.IFunction;
  readonly strategyRunner: lambda.IFunction;
  /**
   * Retries of a function target whose invocation failed (each run is idempotent).
   * @default 2
   */
  readonly retryAttempts?: number;
}

/** EventBridge rules on the default bus that start the retrain, the drift check and the strategy runner. */
export class TrainingSchedules extends Area {
  constructor(scope: Construct, id: string, props: TrainingSchedulesProps) {
    super(scope, id);
    const { config: c, strategyRunner } = props;
    const invoke = (fn: lambda.IFunction) => [
      new targets.LambdaFunction(fn, { retryAttempts: props.retryAttempts ?? 2 }),
    ];
    if (c.retrainSchedule) {
      new events.Rule(this, 'RetrainSchedule', {
        description: `Scheduled retrain of ${c.modelName}`,
        schedule: events.Schedule.expression(c.retrainSchedule),
        targets: [
          new targets.SfnStateMachine(props.stateMachine, {
            input: events.RuleTargetInput.fromObject({ trigger: 'schedule' }),
          }),
        ],
      });
    }
    new events.Rule(this, 'DriftSchedule', {
      description: `Drift check of ${c.modelName} (PSI of live features against the training statistics)`,
      schedule: events.Schedule.expression(c.driftSchedule),
      targets: invoke(props.driftCheck),
    });
    new events.Rule(this, 'RunnerSchedule', {
      description: `Strategy runner of the ${c.tradingEnvironment} promotion (after each bar is in the lake)`,
      schedule: events.Schedule.expression(c.runnerSchedule),
      targets: invoke(strategyRunner),
    });
    // And on each BarsUpdated the bars pipeline publishes to the default bus (src/ingest/bars-events.ts).
    new events.Rule(this, 'RunnerOnBars', {
      description: `Strategy runner of the ${c.tradingEnvironment} promotion when new bars are in the lake`,
      // Only bars of the runner's interval (the 1m Glue job publishes too).
      eventPattern: {
        source: [BARS_UPDATED_EVENT.source],
        detailType: [BARS_UPDATED_EVENT.detailType],
        detail: { interval: [DEFAULT_RUNNER_BAR_INTERVAL] },
      },
      targets: invoke(strategyRunner),
    });
  }
}
