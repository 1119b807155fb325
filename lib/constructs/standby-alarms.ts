import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DR_METRICS_NAMESPACE } from '../../src/contract/dr';
import { STANDBY_RISK_CHECK_ERRORS_METRIC } from '../../src/contract/dr-standby';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { Area } from './area';
import type { QuantFunction } from './quant-function';

export interface StandbyAlarmsProps {
  /** The standby's monitoring (lib/constructs/dr-standby.ts, `StandbyMonitoring`). */
  readonly monitoring: IMonitoring;
  /** Whether the order path is dormant: only then is an invocation of it alarmed. */
  readonly dormant: boolean;
  /** The functions held at reserved concurrency 0 while dormant (execution, algo child, kill switch). */
  readonly dormantFunctions: readonly lambda.IFunction[];
  /** The standby's risk check, live even while dormant. */
  readonly riskCheck: QuantFunction;
}

/** The alarms that say the warm standby in the DR region is misused or would fail at failover. */
export class StandbyAlarms extends Area {
  constructor(scope: Construct, id: string, props: StandbyAlarmsProps) {
    super(scope, id);
    const { monitoring } = props;
    const fiveMinutes = { period: Duration.minutes(5), statistic: 'Sum' };
    // While dormant, any attempt to run the order path or the kill switch is throttled (reserved
    // concurrency 0): a signal, a schedule or a caller reached the standby. That is either a
    // misdirected producer or a half-done failover; both need a person.
    if (props.dormant) {
      const throttles = props.dormantFunctions.map((f) => f.metricThrottles(fiveMinutes));
      monitoring.alarm(this, 'StandbyInvokedWhileDormantAlarm', {
        description:
          'Something invoked the dormant DR standby (signal, schedule or caller) and was refused: make sure only the home region trades, or finish the failover (docs/disaster-recovery.md)',
        metric: new cw.MathExpression({
          expression: throttles.map((_, i) => `t${i}`).join(' + '),
          usingMetrics: Object.fromEntries(throttles.map((m, i) => [`t${i}`, m])),
          period: Duration.minutes(5),
          label: 'invocations refused by the dormant standby',
        }),
        threshold: 1,
      });
    }
    // The read path of the replica, live even while dormant. The function answers a failed read
    // with a 500 (not a Lambda error) and logs it at ERROR: count both. It fires only when the
    // check is called (a probe at setup, a drill, or strategies after failover).
    const fn = props.riskCheck;
    const logged = new logs.MetricFilter(this, 'StandbyRiskCheckErrorFilter', {
      logGroup: fn.logGroupResource,
      filterPattern: logs.FilterPattern.stringValue('$.level', '=', 'ERROR'),
      metricNamespace: DR_METRICS_NAMESPACE,
      metricName: STANDBY_RISK_CHECK_ERRORS_METRIC,
      metricValue: '1',
    });
    monitoring.alarm(this, 'StandbyRiskCheckErrorsAlarm', {
      description:
        'The DR standby risk check failed (it could not read the replica risk table, or crashed): the standby would fail at failover',
      metric: new cw.MathExpression({
        expression: 'FILL(crashes, 0) + FILL(logged, 0)',
        usingMetrics: { crashes: fn.metricErrors(fiveMinutes), logged: logged.metric(fiveMinutes) },
        period: Duration.minutes(5),
        label: 'risk-check errors',
      }),
      threshold: 1,
    });
  }
}
