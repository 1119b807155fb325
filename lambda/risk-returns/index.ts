/**
 * Risk-returns Lambda: on its daily schedule, publishes the returns window of the VaR and
 * correlation rules (`risk/returns/<account>.json` in the curated zone) from the lake's daily
 * bars, as `quant risk returns` does; pure JS (no DuckDB in the bundle). The schedule's input is
 * `{account, symbols, days}`. Logic: src/risk/returns-job `publishReturnsFromLake`.
 */
import { createClients } from '../../src/aws/clients';
import { instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { TRADING_METRICS as M, FUNCTION_SERVICE } from '../../src/contract/metrics';
import { lakeBuckets } from '../../src/lake/buckets';
import { publishReturnsFromLake } from '../../src/risk/returns-job';
import { runtimeFromEnv } from '../../src/trading/lambda-support';

const tools = powertools({ serviceName: FUNCTION_SERVICE.riskReturns, namespace: M.namespace });
const clients = createClients(runtimeFromEnv(process.env));
const bucket = lakeBuckets(clients.runtime, process.env).curated;

export const handler = instrumented(tools, async (event: unknown) => {
  const r = await publishReturnsFromLake(clients.s3, bucket, event);
  tools.logger.info('returns window published', { ...r });
  tools.metrics.addMetric(M.returnsWindowPublished, MetricUnit.Count, 1);
  return r;
});
