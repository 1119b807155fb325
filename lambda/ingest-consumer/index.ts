/**
 * Kinesis `ticks` -> raw zone Parquet. Thin: env read once, event parsed and processed by
 * src/ingest (de-aggregation, validation, quarantine, deterministic file names), metrics emitted.
 * Returns a partial batch response so Lambda retries only from the first unstored record.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { instrumented, MetricUnit, powertools } from '../../src/aws/powertools';
import { readEnv } from '../../src/contract/env';
import { INGEST_CONSUMER_ENV } from '../../src/contract/functions';
import { INGEST_METRICS as M } from '../../src/contract/metrics';
import type { ShardState } from '../../src/ingest/consumer';
import { handleKinesisEvent } from '../../src/ingest/kinesis-event';

const env = readEnv(INGEST_CONSUMER_ENV);
const tools = powertools();
const { logger, metrics } = tools;
const s3 = tools.tracer.captureAWSv3Client(new S3Client({}));
// High-water marks per shard survive between invocations of a warm container (duplicate detection);
// a cold start forgets them, and compaction removes what slips through.
const states = new Map<string, ShardState>();

export const handler = instrumented(
  tools,
  async (event: unknown): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => {
    const r = await handleKinesisEvent(event, { s3, rawBucket: env.rawBucket }, states);
    for (const s of r.reports) {
      if (s.report) {
        metrics.addMetric(M.ticksWritten, MetricUnit.Count, s.report.written);
        metrics.addMetric(M.recordsProcessed, MetricUnit.Count, s.report.records);
        const q = Object.values(s.report.quarantined).reduce((a, b) => a + b, 0);
        metrics.addMetric(M.ticksQuarantined, MetricUnit.Count, q);
        if (q > 0) logger.warn('quarantined records', { shardId: s.shardId, ...s.report.quarantined });
      } else {
        metrics.addMetric(M.batchWriteFailures, MetricUnit.Count, 1);
        logger.error('batch not stored; Lambda retries it', { shardId: s.shardId, error: s.error });
      }
    }
    return { batchItemFailures: r.batchItemFailures };
  },
);
