/**
 * Algo-child Lambda: the Step Functions task that submits one child of an algorithm parent at its
 * time, through the same risk check, reservation and broker path as a plain order (once per parent
 * id and slice index). Logic: src/trading/child-scheduler `childTask`.
 */
import { createClients } from '../../src/aws/clients';
import { instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { TRADED_ACCOUNT_ENV } from '../../src/contract/functions';
import { TRADING_METRICS as M, FUNCTION_SERVICE } from '../../src/contract/metrics';
import { returnsSourceFromEnv } from '../../src/risk/returns-source';
import { brokerFromEnv } from '../../src/trading/brokers-env';
import { childTask } from '../../src/trading/child-scheduler';
import { tradingServices } from '../../src/trading/context';
import { runtimeFromEnv } from '../../src/trading/lambda-support';
import { quoteSourceFromEnv } from '../../src/trading/quotes';

const env = readEnv(TRADED_ACCOUNT_ENV);
const tools = powertools({ serviceName: FUNCTION_SERVICE.algoChild, namespace: M.namespace });
const clients = createClients(runtimeFromEnv(process.env));
tools.tracer.captureAWSv3Client(clients.dynamodb);

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
    tradedAccount: env.account,
  };
})();

export const handler = instrumented(tools, async (event: unknown) => {
  const r = await childTask(await ready, event);
  if (r.status === 'INVALID') tools.logger.warn('invalid child order', { reason: r.reason });
  else if (!r.duplicate) {
    tools.metrics.addMetric(M.orders, MetricUnit.Count, 1);
    if (r.status === 'REJECTED') tools.metrics.addMetric(M.rejects, MetricUnit.Count, 1);
  }
  return r;
});
