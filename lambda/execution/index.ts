/**
 * Execution Lambda: trading signals (Kinesis with ReportBatchItemFailures, or EventBridge) →
 * risk check → broker → orders and positions in DynamoDB; on its schedule, reconciliation of
 * orders left UNKNOWN or working at the broker. Logic: src/trading/execution-handler.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { createClients } from '../../src/aws/clients';
import { TRADING_ACCOUNT_ENV } from '../../src/contract/trading';
import { returnsSourceFromEnv } from '../../src/risk/returns-source';
import { brokerFromEnv } from '../../src/trading/brokers-env';
import { SfnChildScheduler } from '../../src/trading/child-scheduler';
import { tradingServices } from '../../src/trading/context';
import {
  createExecutionHandler,
  isKinesisEvent,
  isScheduledEvent,
  type EventBridgeSignalEvent,
} from '../../src/trading/execution-handler';
import { runtimeFromEnv } from '../../src/trading/lambda-support';
import { minuteBarsFromEnv } from '../../src/trading/quotes';
import { STATE_LEVEL } from '../../src/trading/post-trade';

const logger = new Logger({ serviceName: 'execution' });
const metrics = new Metrics({ namespace: 'Quant/Trading', serviceName: 'execution' });
const tracer = new Tracer({ serviceName: 'execution' });
const clients = createClients(runtimeFromEnv(process.env));
tracer.captureAWSv3Client(clients.dynamodb);

// Read configuration once per container; a missing variable fails the cold start, not an order.
function requiredEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

const ready = (async () => {
  const svc = await tradingServices(clients, process.env);
  const broker = await brokerFromEnv(process.env, clients);
  return createExecutionHandler({
    doc: clients.doc,
    ordersTable: svc.tables.orders,
    risk: svc.risk,
    books: svc.books,
    broker,
    audit: svc.audit,
    // VaR and correlation limits read the curated zone's returns window (cached like the limits).
    returns: returnsSourceFromEnv(process.env, clients),
    // Algorithm parents: one Step Functions execution per parent releases the children.
    scheduler: process.env.ALGO_STATE_MACHINE_ARN
      ? new SfnChildScheduler(clients.sfn, process.env.ALGO_STATE_MACHINE_ARN)
      : undefined,
    // VWAP parents without a volume curve: built from the symbol's 1-minute lake bars.
    minuteBars: minuteBarsFromEnv(process.env, clients),
    deadLetters: svc.deadLetters,
    // Signals and children for any other account are rejected (the kill switch halts only this one).
    tradedAccount: requiredEnv(TRADING_ACCOUNT_ENV),
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: svc.tables.idempotency,
      awsSdkV3Client: clients.dynamodb,
    }),
    onOutcome: (o) => {
      if (o.status === 'dead_letter') {
        metrics.addMetric('DeadLetters', MetricUnit.Count, 1);
        logger.warn('signal sent to the DLQ', { signalId: o.signalId, reason: o.reason });
        return;
      }
      metrics.addMetric('Orders', MetricUnit.Count, o.orders);
      metrics.addMetric('Rejects', MetricUnit.Count, o.rejected);
      metrics.addMetric('DuplicateOrders', MetricUnit.Count, o.duplicates);
      for (const [rule, n] of Object.entries(o.rejectsByRule)) {
        const m = metrics.singleMetric();
        m.addDimension('rule', rule);
        m.addMetric('RejectsByRule', MetricUnit.Count, n);
      }
      // Trading state (0 ACTIVE, 1 REDUCING, 2 HALTED) and limit utilization after the signal:
      // the dashboard widgets, the utilization alarms and the drawdown / loss kill switch.
      if (o.state !== undefined) metrics.addMetric('TradingState', MetricUnit.Count, STATE_LEVEL[o.state]);
      const util = Object.entries(o.utilization ?? {});
      if (util.length > 0) {
        metrics.addMetric('LimitUtilization', MetricUnit.Percent, Math.max(...util.map(([, v]) => v)));
      }
      for (const [rule, pct] of util) {
        const m = metrics.singleMetric();
        m.addDimension('rule', rule);
        m.addMetric('LimitUtilizationByRule', MetricUnit.Percent, pct);
      }
    },
  });
})();

export async function handler(event: KinesisStreamEvent | EventBridgeSignalEvent, context: Context) {
  logger.addContext(context);
  try {
    const h = await ready;
    if (isKinesisEvent(event)) return await h.kinesis(event, context);
    if (isScheduledEvent(event)) {
      const byStatus = await h.reconcile();
      for (const [status, n] of Object.entries(byStatus)) {
        const m = metrics.singleMetric();
        m.addDimension('status', status);
        m.addMetric('ReconciledOrders', MetricUnit.Count, n);
      }
      logger.info('reconciled open orders', { byStatus });
      return byStatus;
    }
    await h.eventBridge(event, context);
    return undefined;
  } finally {
    metrics.publishStoredMetrics();
  }
}
