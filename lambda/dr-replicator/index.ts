/**
 * Trading-table replicator: DynamoDB Streams of the home region's trading tables → the replicas in
 * the DR region (src/dr/table-replicator.ts). Failed records are retried from the first failure.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import {
  DR_METRICS_NAMESPACE,
  DR_REGION_ENV,
  DR_REPLICATION_LAG_METRIC,
  DR_TABLE_MAP_ENV,
} from '../../src/contract/dr';
import { httpHandler } from '../../src/aws/network';
import { parseTableMap, replicateRecords } from '../../src/dr/table-replicator';

const logger = new Logger({ serviceName: 'dr-replicator' });
const metrics = new Metrics({ namespace: DR_METRICS_NAMESPACE, serviceName: 'dr-replicator' });
const region = process.env[DR_REGION_ENV];
if (!region) throw new Error(`environment variable ${DR_REGION_ENV} is required`);
const targets = parseTableMap(process.env[DR_TABLE_MAP_ENV]);
// A cross-region write: a bounded wait per request, retried by the SDK, then by the event source.
const dynamodb = new DynamoDBClient({ region, requestHandler: httpHandler(15_000) });

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  logger.addContext(context);
  try {
    const r = await replicateRecords(dynamodb, event.Records, targets);
    metrics.addMetric('RecordsReplicated', MetricUnit.Count, r.applied);
    metrics.addMetric(DR_REPLICATION_LAG_METRIC, MetricUnit.Seconds, r.maxLagSeconds);
    if (r.failedSequenceNumber === undefined) return { batchItemFailures: [] };
    logger.error('replication failed', { error: r.error, sequenceNumber: r.failedSequenceNumber });
    return { batchItemFailures: [{ itemIdentifier: r.failedSequenceNumber }] };
  } finally {
    metrics.publishStoredMetrics();
  }
}
