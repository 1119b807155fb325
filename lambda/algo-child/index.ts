/**
 * Algo-child Lambda: the Step Functions task that submits one child of an algorithm parent at its
 * time, through the same risk check, reservation and broker path as a plain order (once per parent
 * id and slice index). Logic: src/trading/child-scheduler `childTask`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { createClients } from '../../src/aws/clients';
import { TRADING_ACCOUNT_ENV } from '../../src/contract/trading';
import { brokerFromEnv } from '../../src/trading/brokers-env';
import { childTask } from '../../src/trading/child-scheduler';
import { tradingServices } from '../../src/trading/context';
import { runtimeFromEnv } from '../../src/trading/lambda-support';
import { returnsSourceFromEnv } from '../../src/risk/returns-source';
import { quoteSourceFromEnv } from '../../src/trading/quotes';

const logger = new Logger({ serviceName: 'algo-child' });
const metrics = new Metrics({ namespace: 'Quant/Trading', serviceName: 'algo-child' });
const tracer = new Tracer({ serviceName: 'algo-child' });
const clients = createClients(runtimeFromEnv(process.env));
tracer.captureAWSv3Client(clients.dynamodb);

function requiredEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

const ready = (async () => {
  const svc = await tradingServices(clients, process.env);
  return {
    doc: clients.doc,
    ordersTable: svc.tables.orders,
    risk: svc.risk,
    books: svc.books,
    broker: await brokerFromEnv(process.env, clients),
    audit: svc.audit,
    returns: returnsSourceFromEnv(process.env, clients),
    // Each child is priced at the latest 1-minute bar in the lake at its release.
    quotes: quoteSourceFromEnv(process.env, clients),
    // Signals and children for any other account are rejected (the kill switch halts only this one).
    tradedAccount: requiredEnv(TRADING_ACCOUNT_ENV),
  };
})();

export async function handler(event: unknown, context: Context) {
  logger.addContext(context);
  try {
    const r = await childTask(await ready, event);
    if (r.status === 'INVALID') logger.warn('invalid child order', { reason: r.reason });
    else if (!r.duplicate) {
      metrics.addMetric('Orders', MetricUnit.Count, 1);
      if (r.status === 'REJECTED') metrics.addMetric('Rejects', MetricUnit.Count, 1);
    }
    return r;
  } finally {
    metrics.publishStoredMetrics();
  }
}
