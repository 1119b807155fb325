/**
 * Execution Lambda: trading signals (Kinesis with ReportBatchItemFailures, or EventBridge) →
 * risk check → broker → orders and positions in DynamoDB; on its schedule, reconciliation of
 * orders left UNKNOWN or working at the broker. Logic: src/trading/execution-handler.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { createClients } from '../../src/aws/clients';
import { dimensionMetric, instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { EXECUTION_ENV } from '../../src/contract/functions';
import { TRADING_METRICS as M, FUNCTION_SERVICE } from '../../src/contract/metrics';
import { returnsSourceFromEnv } from '../../src/risk/returns-source';
import { brokerFromEnv } from '../../src/trading/brokers-env';
import { SfnChildScheduler } from '../../src/trading/child-scheduler';
import { tradingServices } from '../../src/trading/context';
import {
  createExecutionHandler,
  executionStores,
  isKinesisEvent,
  isScheduledEvent,
  type EventBridgeSignalEvent,
} from '../../src/trading/execution-handler';
import { runtimeFromEnv } from '../../src/trading/lambda-support';
import { minuteBarsFromEnv } from '../../src/trading/quotes';
import { STATE_LEVEL } from '../../src/trading/post-trade';

// Read configuration once per container; a missing variable fails the cold start, not an order.
const env = readEnv(EXECUTION_ENV);
const tools = powertools({ serviceName: FUNCTION_SERVICE.execution, namespace: M.namespace });
const { logger, metrics } = tools;
const clients = createClients(runtimeFromEnv(process.env));
tools.tracer.captureAWSv3Client(clients.dynamodb);

const ready = (async () => {
  const svc = await tradingServices(clients, process.env);
  const broker = await brokerFromEnv(process.env, clients);
  return createExecutionHandler({
    ...executionStores(clients, svc),
    broker,
    // VaR and correlation limits read the curated zone's returns window (cached like the limits).
    returns: returnsSourceFromEnv(process.env, clients),
    // Algorithm parents: one Step Functions execution per parent releases the children.
    scheduler: env.algoStateMachineArn
      ? new SfnChildScheduler(clients.sfn, env.algoStateMachineArn)
      : undefined,
    // VWAP parents without a volume curve: built from the symbol's 1-minute lake bars.
    minuteBars: minuteBarsFromEnv(process.env, clients),
    // Signals and children for any other account are rejected (the kill switch halts only this one).
    tradedAccount: env.account,
    onOutcome: (o) => {
      if (o.status === 'dead_letter') {
        metrics.addMetric(M.deadLetters, MetricUnit.Count, 1);
        logger.warn('signal sent to the DLQ', { signalId: o.signalId, reason: o.reason });
        return;
      }
      metrics.addMetric(M.orders, MetricUnit.Count, o.orders);
      metrics.addMetric(M.rejects, MetricUnit.Count, o.rejected);
      metrics.addMetric(M.duplicateOrders, MetricUnit.Count, o.duplicates);
      for (const [rule, n] of Object.entries(o.rejectsByRule)) {
        dimensionMetric(metrics, ['rule', rule], M.rejectsByRule, MetricUnit.Count, n);
      }
      // Trading state (0 ACTIVE, 1 REDUCING, 2 HALTED) and limit utilization after the signal:
      // the dashboard widgets, the utilization alarms and the drawdown / loss kill switch.
      if (o.state !== undefined) metrics.addMetric(M.tradingState, MetricUnit.Count, STATE_LEVEL[o.state]);
      const util = Object.entries(o.utilization ?? {});
      if (util.length > 0) {
        metrics.addMetric(M.limitUtilization, MetricUnit.Percent, Math.max(...util.map(([, v]) => v)));
      }
      for (const [rule, pct] of util) {
        dimensionMetric(metrics, ['rule', rule], M.limitUtilizationByRule, MetricUnit.Percent, pct);
      }
    },
  });
})();

export const handler = instrumented(
  tools,
  async (event: KinesisStreamEvent | EventBridgeSignalEvent, context) => {
    const h = await ready;
    if (isKinesisEvent(event)) return await h.kinesis(event, context);
    if (isScheduledEvent(event)) {
      const byStatus = await h.reconcile();
      for (const [status, n] of Object.entries(byStatus)) {
        dimensionMetric(metrics, ['status', status], M.reconciledOrders, MetricUnit.Count, n);
      }
      logger.info('reconciled open orders', { byStatus });
      return byStatus;
    }
    await h.eventBridge(event, context);
    return undefined;
  },
);
