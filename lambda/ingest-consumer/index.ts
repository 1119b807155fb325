/**
 * Kinesis `ticks` -> raw zone Parquet. Thin: env read once, event parsed and processed by
 * src/ingest (de-aggregation, validation, quarantine, deterministic file names), metrics emitted.
 * Returns a partial batch response so Lambda retries only from the first unstored record.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3Client } from '@aws-sdk/client-s3';
import type { ShardState } from '../../src/ingest/consumer';
import { handleKinesisEvent } from '../../src/ingest/kinesis-event';

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const RAW_BUCKET = requireEnv('LAKE_RAW_BUCKET');
const logger = new Logger();
const metrics = new Metrics();
const tracer = new Tracer();
const s3 = tracer.captureAWSv3Client(new S3Client({}));
// High-water marks per shard survive between invocations of a warm container (duplicate detection);
// a cold start forgets them, and compaction removes what slips through.
const states = new Map<string, ShardState>();

export const handler = async (
  event: unknown,
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => {
  try {
    const r = await handleKinesisEvent(event, { s3, rawBucket: RAW_BUCKET }, states);
    for (const s of r.reports) {
      if (s.report) {
        metrics.addMetric('TicksWritten', MetricUnit.Count, s.report.written);
        metrics.addMetric('RecordsProcessed', MetricUnit.Count, s.report.records);
        const q = Object.values(s.report.quarantined).reduce((a, b) => a + b, 0);
        metrics.addMetric('TicksQuarantined', MetricUnit.Count, q);
        if (q > 0) logger.warn('quarantined records', { shardId: s.shardId, ...s.report.quarantined });
      } else {
        metrics.addMetric('BatchWriteFailures', MetricUnit.Count, 1);
        logger.error('batch not stored; Lambda retries it', { shardId: s.shardId, error: s.error });
      }
    }
    return { batchItemFailures: r.batchItemFailures };
  } finally {
    metrics.publishStoredMetrics();
  }
};
