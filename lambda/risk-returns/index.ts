/**
 * Risk-returns Lambda: on its daily schedule, publishes the returns window of the VaR and
 * correlation rules (`risk/returns/<account>.json` in the curated zone) from the lake's daily
 * bars, as `quant risk returns` does; pure JS (no DuckDB in the bundle). The schedule's input is
 * `{account, symbols, days}`. Logic: src/risk/returns-job `publishReturnsFromLake`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createClients } from '../../src/aws/clients';
import { lakeBuckets } from '../../src/lake/buckets';
import { publishReturnsFromLake } from '../../src/risk/returns-job';
import { runtimeFromEnv } from '../../src/trading/lambda-support';

const logger = new Logger({ serviceName: 'risk-returns' });
const metrics = new Metrics({ namespace: 'Quant/Trading', serviceName: 'risk-returns' });
const clients = createClients(runtimeFromEnv(process.env));
const bucket = lakeBuckets(clients.runtime, process.env).curated;

export async function handler(event: unknown, context: Context) {
  logger.addContext(context);
  try {
    const r = await publishReturnsFromLake(clients.s3, bucket, event);
    logger.info('returns window published', { ...r });
    metrics.addMetric('ReturnsWindowPublished', MetricUnit.Count, 1);
    return r;
  } finally {
    metrics.publishStoredMetrics();
  }
}
