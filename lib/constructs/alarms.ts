import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** `>=` (the usual "at least this many"), `>`, `<=` or `<` the threshold. */
export type AlarmComparison = '>=' | '>' | '<=' | '<';

const COMPARISONS: Readonly<Record<AlarmComparison, cw.ComparisonOperator>> = {
  '>=': cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  '>': cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
  '<=': cw.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
  '<': cw.ComparisonOperator.LESS_THAN_THRESHOLD,
};

/** One platform alarm: a metric against a threshold. */
export interface PlatformAlarmProps {
  /** What is wrong and what to do: the alarm's description, in the notification and the dashboard. */
  readonly description: string;
  readonly metric: cw.IMetric;
  readonly threshold: number;
  /** @default '>=' */
  readonly comparison?: AlarmComparison;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default evaluationPeriods (every period must breach) */
  readonly datapointsToAlarm?: number;
  /**
   * No data is not an incident: most of these metrics are counts that are absent when nothing fails.
   * @default cw.TreatMissingData.NOT_BREACHING
   */
  readonly treatMissingData?: cw.TreatMissingData;
  /**
   * Topic notified when the alarm fires and when it recovers.
   * @default no action (`IMonitoring.alarm` passes the environment's alarm topic)
   */
  readonly topic?: sns.ITopic;
}

/**
 * A CloudWatch alarm with the platform's defaults (see `PlatformAlarmProps`) that notifies its topic
 * on ALARM and on OK, and draws itself as a dashboard widget (`graph`). Create it through
 * `IMonitoring.alarm` (lib/stacks/monitoring-stack.ts), which also lists it on the dashboard.
 */
export class PlatformAlarm extends cw.Alarm {
  constructor(scope: Construct, id: string, props: PlatformAlarmProps) {
    super(scope, id, {
      alarmDescription: props.description,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: COMPARISONS[props.comparison ?? '>='],
      evaluationPeriods: props.evaluationPeriods ?? 1,
      datapointsToAlarm: props.datapointsToAlarm,
      treatMissingData: props.treatMissingData ?? cw.TreatMissingData.NOT_BREACHING,
    });
    if (props.topic) {
      const action = new cwActions.SnsAction(props.topic);
      this.addAlarmAction(action);
      this.addOkAction(action);
    }
  }

  /** The alarm's metric with its threshold line, for a dashboard section. */
  graph(title: string, width = 8, height = 6): cw.AlarmWidget {
    return new cw.AlarmWidget({ alarm: this, title, width, height });
  }
}

/** A dashboard graph of `left`, a third of a row wide unless `more` says otherwise. */
export function graph(
  title: string,
  left: cw.IMetric[],
  more: Partial<cw.GraphWidgetProps> = {},
): cw.GraphWidget {
  return new cw.GraphWidget({ title, left, width: 8, ...more });
}
