/**
 * Monitoring of machine learning in AWS: alarms on failed training runs, long jobs, feature drift and
 * strategy-runner errors, and the model's section of the dashboard. An `Area`: inside the training
 * stack the alarms keep the logical ids the stack gave them when it held them itself.
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { TrainingConfig } from '../config/types';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { DRIFT_METRIC } from '../../src/contract/models';
import { TRAINING_METRICS } from '../../src/contract/training';
import { Area } from './area';

export interface TrainingMonitoringProps {
  /** The environment's training config: the model name and the duration and drift thresholds. */
  readonly config: Pick<TrainingConfig, 'modelName' | 'durationAlarmMinutes' | 'driftPsiAlarm'>;
  /** The training workflow: its failed, timed-out and aborted runs alarm. */
  readonly stateMachine: sfn.IStateMachine;
  /** The strategy runner: its errors alarm (no signals for that bar). */
  readonly strategyRunner: lambda.IFunction;
  readonly monitoring: IMonitoring;
}

export class TrainingMonitoring extends Area {
  constructor(scope: Construct, id: string, props: TrainingMonitoringProps) {
    super(scope, id);
    const { config: c, monitoring, stateMachine: sm } = props;
    const hour = Duration.hours(1);
    const day = Duration.days(1);
    const dims = { [TRAINING_METRICS.modelNameDimension]: c.modelName };
    const usage = (metricName: string, label: string) =>
      new cw.Metric({
        namespace: TRAINING_METRICS.namespace,
        metricName,
        dimensionsMap: dims,
        statistic: 'Sum',
        period: day,
        label,
      });
    const failures = new cw.MathExpression({
      expression: 'failed + timedout + aborted',
      usingMetrics: {
        failed: sm.metricFailed({ period: hour, statistic: 'Sum' }),
        timedout: sm.metricTimedOut({ period: hour, statistic: 'Sum' }),
        aborted: sm.metricAborted({ period: hour, statistic: 'Sum' }),
      },
      period: hour,
      label: 'failed training runs',
    });
    const trainingSeconds = usage(TRAINING_METRICS.trainingSeconds, 'training s');
    const billableSeconds = usage(TRAINING_METRICS.billableSeconds, 'billable s');
    const savings = new cw.MathExpression({
      expression: 'IF(t > 0, 100 * (1 - b / t), 0)',
      usingMetrics: { t: trainingSeconds, b: billableSeconds },
      period: day,
      label: 'spot savings %',
    });
    const drift = new cw.Metric({
      namespace: DRIFT_METRIC.namespace,
      metricName: DRIFT_METRIC.name,
      dimensionsMap: dims,
      statistic: 'Maximum',
      period: day,
      label: 'largest feature PSI',
    });
    monitoring.alarm(this, 'TrainingFailedAlarm', {
      description: `A training run of ${c.modelName} failed, timed out or was aborted`,
      metric: failures,
      threshold: 1,
    });
    monitoring.alarm(this, 'TrainingDurationAlarm', {
      description: `A training job of ${c.modelName} ran longer than ${c.durationAlarmMinutes} minutes`,
      metric: trainingSeconds.with({ statistic: 'Maximum' }),
      threshold: c.durationAlarmMinutes * 60,
      comparison: '>',
    });
    monitoring.alarm(this, 'DriftAlarm', {
      description: `A feature of ${c.modelName} drifted: PSI >= ${c.driftPsiAlarm} against its training statistics`,
      metric: drift,
      threshold: c.driftPsiAlarm,
    });
    monitoring.alarm(this, 'StrategyRunnerErrorsAlarm', {
      description: 'The strategy runner failed (no signals for this bar)',
      metric: props.strategyRunner.metricErrors({ period: hour, statistic: 'Sum' }),
      threshold: 1,
    });
    monitoring.addSection(`Machine learning: ${c.modelName}`, [
      [
        new cw.GraphWidget({
          title: 'Training runs',
          left: [
            sm.metricStarted({ period: hour, statistic: 'Sum', label: 'started' }),
            sm.metricSucceeded({ period: hour, statistic: 'Sum', label: 'succeeded' }),
            failures,
          ],
          width: 6,
        }),
        new cw.GraphWidget({
          title: 'Training duration (s)',
          left: [trainingSeconds, billableSeconds],
          width: 6,
        }),
        new cw.GraphWidget({ title: 'Spot savings (%)', left: [savings], width: 6 }),
        new cw.GraphWidget({
          title: 'Feature drift (PSI)',
          left: [drift],
          leftAnnotations: [{ value: c.driftPsiAlarm, label: 'alarm' }],
          width: 6,
        }),
      ],
    ]);
  }
}
