import { CfnOutput } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { STANDBY_OUTPUTS } from '../../src/contract/dr-standby';
import type { AlgoScheduler } from './algo-scheduler';
import { Area } from './area';
import type { BrokerAccess } from './broker-access';
import type { KillSwitch } from './kill-switch';
import type { OrderExecution } from './order-execution';
import type { RiskCheckApi } from './risk-check-api';
import type { SignalChannels } from './signal-channels';
import type { TradingTableSet } from './trading-core';

export interface StandbyOutputsProps {
  readonly orderExecution: OrderExecution;
  readonly algos: AlgoScheduler;
  readonly halt: KillSwitch;
  /** The rule from the kill-switch alarms to the kill switch (`KillSwitch.haltOn`). */
  readonly killSwitchRule: events.IRule;
  readonly channels: SignalChannels;
  readonly riskCheckApi: RiskCheckApi;
  readonly tables: TradingTableSet;
  readonly broker: BrokerAccess;
  /** Reserved concurrency of execution and algo child after failover. */
  readonly executionConcurrency: number;
  /**
   * Reserved concurrency of the kill switch after failover.
   * @default 2 (the kill switch's own default)
   */
  readonly killSwitchConcurrency?: number;
}

/**
 * What failover changes, by name: the stack outputs `quant dr failover` (src/dr/failover.ts) reads,
 * named in src/contract/dr-standby.ts.
 */
export class StandbyOutputs extends Area {
  constructor(scope: Construct, id: string, props: StandbyOutputsProps) {
    super(scope, id);
    const out = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    const o = STANDBY_OUTPUTS;
    const { orderExecution, algos, halt, channels, tables } = props;
    const after = 'Its reserved concurrency after failover';
    out(o.executionFunction, orderExecution.function.functionName, 'Standby execution function');
    out(o.executionConcurrency, String(props.executionConcurrency), after);
    out(o.algoChildFunction, algos.algoChild.functionName, 'Standby algo-child function');
    out(o.algoChildConcurrency, String(props.executionConcurrency), after);
    out(o.killSwitchFunction, halt.function.functionName, 'Standby kill switch');
    out(o.killSwitchConcurrency, String(props.killSwitchConcurrency ?? 2), after);
    out(
      o.signalsMapping,
      orderExecution.signalsSource.eventSourceMappingId,
      'Mapping of the standby signals stream onto execution',
    );
    out(o.orderBus, channels.bus.eventBusName, 'Standby order bus (signals in, order events out)');
    out(o.signalRule, orderExecution.signalRule.ruleName, 'Rule: bus signals to execution');
    out(o.reconcileRule, orderExecution.reconcileRule.ruleName, 'Rule: reconciliation schedule');
    out(o.killSwitchRule, props.killSwitchRule.ruleName, 'Rule: kill-switch alarms to the kill switch');
    out(
      o.signalsStream,
      channels.signals.streamName,
      'Standby signals stream (strategies send here after failover)',
    );
    out(o.riskCheckUrl, props.riskCheckApi.url.url, 'Standby risk-check URL (IAM auth)');
    out(o.riskTable, tables.risk.tableName, 'Replica risk table (the standby trades on it)');
    out(o.ordersTable, tables.orders.tableName, 'Replica orders table');
    out(o.idempotencyTable, tables.idempotency.tableName, 'Replica idempotency table');
    if (props.broker.secret)
      out(o.brokerSecret, props.broker.secret.secretArn, 'Standby broker API keys (set at setup)');
  }
}
