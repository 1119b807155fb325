/**
 * The Lambda side of the consumer: parses a Kinesis event source batch and answers with a partial
 * batch response (ReportBatchItemFailures). The handler in lambda/ingest-consumer is a thin adapter.
 */
import * as z from 'zod';
import { InputError, describeZodIssues } from '../errors';
import {
  processShardBatch,
  type BatchReport,
  type ConsumerDeps,
  type KinesisRecordIn,
  type ShardState,
} from './consumer';

const recordSchema = z.object({
  eventID: z.string().regex(/^shardId-\d+:\d+$/, 'expected shardId-NNN:sequenceNumber'),
  kinesis: z.object({
    partitionKey: z.string(),
    sequenceNumber: z.string().regex(/^\d+$/, 'must be a decimal sequence number'),
    data: z.base64('must be base64'),
    approximateArrivalTimestamp: z.number(),
  }),
});

export const kinesisEventSchema = z.object({ Records: z.array(recordSchema) });

export interface BatchItemFailure {
  itemIdentifier: string;
}

export interface KinesisHandlerResult {
  batchItemFailures: BatchItemFailure[];
  reports: Array<{ shardId: string; report?: BatchReport; error?: string }>;
}

/**
 * Processes every shard's records of the event. A shard whose batch could not be stored reports its
 * first record as failed: Lambda retries from there (records before it in other shards are done).
 */
export async function handleKinesisEvent(
  event: unknown,
  deps: ConsumerDeps,
  states: Map<string, ShardState> = new Map(),
): Promise<KinesisHandlerResult> {
  const parsed = kinesisEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InputError(`not a Kinesis event: ${describeZodIssues(parsed.error.issues, 'event')}`);
  }
  const byShard = new Map<string, KinesisRecordIn[]>();
  for (const r of parsed.data.Records) {
    const shardId = r.eventID.split(':')[0];
    let list = byShard.get(shardId);
    if (!list) byShard.set(shardId, (list = []));
    list.push({
      sequenceNumber: r.kinesis.sequenceNumber,
      partitionKey: r.kinesis.partitionKey,
      data: Buffer.from(r.kinesis.data, 'base64'),
      arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
    });
  }
  const result: KinesisHandlerResult = { batchItemFailures: [], reports: [] };
  for (const [shardId, records] of byShard) {
    let state = states.get(shardId);
    if (!state) states.set(shardId, (state = new Map()));
    try {
      const report = await processShardBatch(deps, { shardId, records }, state);
      result.reports.push({ shardId, report });
    } catch (err) {
      result.batchItemFailures.push({ itemIdentifier: records[0].sequenceNumber });
      result.reports.push({ shardId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return result;
}
