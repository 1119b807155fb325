/**
 * Trading-table replicator: DynamoDB Streams of the home region's trading tables → the replicas in
 * the DR region (src/dr/table-replicator.ts). Failed records are retried from the first failure.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import {
  DR_METRICS_NAMESPACE,
  DR_REGION_ENV,
  DR_REPLICATION_LAG_METRIC,
  DR_TABLE_MAP_ENV,
} from '../../src/contract/dr';
import { httpHandler } from '../../src/aws/network';
import { instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { readEnv, text } from '../../src/contract/env';
import { parseTableMap, replicateRecords } from '../../src/dr/table-replicator';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';

const tools = powertools({ serviceName: FUNCTION_SERVICE.drReplicator, namespace: DR_METRICS_NAMESPACE });
const { logger, metrics } = tools;
const { region } = readEnv({ region: text(DR_REGION_ENV) });
const targets = parseTableMap(process.env[DR_TABLE_MAP_ENV]);
// A cross-region write: a bounded wait per request, retried by the SDK, then by the event source.
const dynamodb = new DynamoDBClient({ region, requestHandler: httpHandler(15_000) });

export const handler = instrumented(
  tools,
  async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const r = await replicateRecords(dynamodb, event.Records, targets);
    metrics.addMetric('RecordsReplicated', MetricUnit.Count, r.applied);
    metrics.addMetric(DR_REPLICATION_LAG_METRIC, MetricUnit.Seconds, r.maxLagSeconds);
    if (r.failedSequenceNumber === undefined) return { batchItemFailures: [] };
    logger.error('replication failed', { error: r.error, sequenceNumber: r.failedSequenceNumber });
    return { batchItemFailures: [{ itemIdentifier: r.failedSequenceNumber }] };
  },
);
