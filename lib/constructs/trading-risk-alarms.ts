import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { TRADING_METRICS, FUNCTION_SERVICE, LOSS_RULES } from '../../src/contract/metrics';
import type { IMonitoring } from '../stacks/monitoring-stack';
import { graph, type PlatformAlarm } from './alarms';
import { Area } from './area';

/** A trading metric (1-minute period) as a service publishes it (src/contract/metrics.ts). */
function tradingMetric(
  name: string,
  stat = 'Sum',
  dims: Record<string, string> = {},
  service: string = FUNCTION_SERVICE.execution,
) {
  return new cw.Metric({
    namespace: TRADING_METRICS.namespace,
    metricName: name,
    statistic: stat,
    period: Duration.minutes(1),
    dimensionsMap: { service, ...dims },
  });
}

export interface TradingRiskAlarmsProps {
  readonly monitoring: IMonitoring;
}

/**
 * Alarms on the trading state and the risk limits the runtime reports (src/contract/metrics.ts):
 * HALTED, limit utilization at 80% and beyond 100%, rejected orders, and drawdown and daily loss at
 * their limits (`lossAlarms`, meant to trip the kill switch). `addDashboardSection` draws them.
 */
export class TradingRiskAlarms extends Area {
  /** Drawdown and daily loss at or beyond their limits. */
  readonly lossAlarms: readonly PlatformAlarm[];
  /** Trading state as a level (0 ACTIVE, 1 REDUCING, 2 HALTED), the worst the functions report. */
  readonly stateLevel: cw.MathExpression;
  private readonly monitoring: IMonitoring;

  constructor(scope: Construct, id: string, props: TradingRiskAlarmsProps) {
    super(scope, id);
    const { monitoring } = props;
    this.monitoring = monitoring;
    // The execution function reports the state after every signal, the kill switch after every
    // alarm it handles.
    this.stateLevel = new cw.MathExpression({
      expression: 'MAX([stateExecution, stateKillSwitch])',
      usingMetrics: {
        stateExecution: tradingMetric(TRADING_METRICS.tradingState, 'Maximum'),
        stateKillSwitch: tradingMetric(
          TRADING_METRICS.tradingState,
          'Maximum',
          {},
          FUNCTION_SERVICE.killSwitch,
        ),
      },
      label: 'trading state (0 ACTIVE, 1 REDUCING, 2 HALTED)',
      period: Duration.minutes(1),
    });
    monitoring.alarm(this, 'HaltedAlarm', {
      description:
        'Trading is HALTED: the kill switch halted trading or a drawdown latched it (resume: quant risk resume --actor --reason)',
      metric: this.stateLevel,
      threshold: 2,
    });
    const utilization = tradingMetric(TRADING_METRICS.limitUtilization, 'Maximum');
    monitoring.alarm(this, 'LimitUtilizationWarningAlarm', {
      description: 'Warning: a risk limit is at 80% or more of its value (limit utilization)',
      metric: utilization,
      threshold: 80,
    });
    monitoring.alarm(this, 'LimitUtilizationBreachAlarm', {
      description: 'Error: a risk limit is breached (limit utilization above 100%)',
      metric: utilization,
      threshold: 100,
      comparison: '>',
    });
    monitoring.alarm(this, 'LimitBreachAlarm', {
      description: 'Error: orders rejected by a risk limit',
      metric: tradingMetric(TRADING_METRICS.rejects),
      threshold: 1,
    });
    const loss = (alarmId: string, rule: string, description: string) =>
      monitoring.alarm(this, alarmId, {
        description,
        metric: tradingMetric(TRADING_METRICS.limitUtilizationByRule, 'Maximum', { rule }),
        threshold: 100,
      });
    this.lossAlarms = [
      loss(
        'DrawdownAlarm',
        LOSS_RULES.drawdown,
        'Drawdown from the peak NAV reached maxDrawdown: trips the kill switch',
      ),
      loss(
        'DailyLossAlarm',
        LOSS_RULES.dailyLoss,
        'Loss since the start of the day reached maxDailyLoss: trips the kill switch',
      ),
    ];
  }

  /** The dashboard's Trading section: orders, rejects, state, limits, dead letters, latency. */
  addDashboardSection(execution: lambda.IFunction, deadLetterDepth: cw.IMetric): void {
    const search = (metricName: string, stat: string) =>
      new cw.MathExpression({
        expression: `SEARCH('{${TRADING_METRICS.namespace},rule,service} MetricName="${metricName}"', '${stat}', 60)`,
        label: '',
        period: Duration.minutes(1),
      });
    this.monitoring.addSection('Trading', [
      [
        graph('Orders per minute', [tradingMetric(TRADING_METRICS.orders)]),
        graph('Rejects by rule', [search(TRADING_METRICS.rejectsByRule, 'Sum')]),
        graph('Trading state (0 ACTIVE, 1 REDUCING, 2 HALTED)', [this.stateLevel], {
          right: [tradingMetric(TRADING_METRICS.halts, 'Sum', {}, FUNCTION_SERVICE.killSwitch)],
          leftYAxis: { min: 0, max: 2 },
        }),
      ],
      [
        graph('Limit utilization %', [search(TRADING_METRICS.limitUtilizationByRule, 'Maximum')], {
          leftAnnotations: [
            { value: 80, label: 'warning', color: cw.Color.ORANGE },
            { value: 100, label: 'limit', color: cw.Color.RED },
          ],
        }),
        graph('Dead-letter queue depth', [deadLetterDepth]),
        graph('Execution p99 latency (ms)', [
          execution.metricDuration({ statistic: 'p99', period: Duration.minutes(1) }),
        ]),
      ],
      [graph('Duplicate deliveries', [tradingMetric(TRADING_METRICS.duplicateOrders)])],
    ]);
  }
}
