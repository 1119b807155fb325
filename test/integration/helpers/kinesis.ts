/** Reads a whole (local) Kinesis stream back, de-aggregated with the KPL format and decoded. */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { deaggregate } from '../../../src/ingest/kpl';
import { decodeEvent, type MarketEvent } from '../../../src/market-data';

export interface StreamContent {
  readonly events: MarketEvent[];
  /** Kinesis records (an aggregated record holds many events). */
  readonly records: number;
  /** Per event: the Kinesis record's partition key and the one inside the aggregated record. */
  readonly keys: Array<readonly [record: string, user: string]>;
}

export async function readStream(kinesis: KinesisClient, stream: string): Promise<StreamContent> {
  const d = await kinesis.send(new DescribeStreamCommand({ StreamName: stream }));
  const events: MarketEvent[] = [];
  const keys: Array<readonly [string, string]> = [];
  let records = 0;
  for (const shard of d.StreamDescription?.Shards ?? []) {
    let it = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    for (;;) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const rec of r.Records ?? []) {
        records++;
        for (const u of deaggregate(rec.Data as Uint8Array, rec.PartitionKey ?? '')) {
          events.push(decodeEvent(u.data));
          keys.push([rec.PartitionKey ?? '', u.partitionKey]);
        }
      }
      if (!r.Records?.length) break;
      it = r.NextShardIterator;
    }
  }
  return { events, records, keys };
}
