/**
 * The local consumer (`quant ingest run`): polls every shard of a stream, hands batches to
 * processShardBatch and checkpoints in a file under the data dir. Before a batch is processed its
 * sequence range is recorded as `pending`; a consumer killed mid-batch re-reads exactly that range
 * on restart, so it rewrites the same objects (same names) and neither loses nor duplicates rows.
 */
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  ResourceNotFoundException,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  processShardBatch,
  type ConsumerDeps,
  type KinesisRecordIn,
  type QuarantineReason,
  type ShardState,
} from './consumer';

interface ShardCheckpoint {
  /** Last sequence number stored. */
  last?: string;
  /** Range being processed: re-read exactly this on restart. */
  pending?: { first: string; last: string };
  /** Per (symbol, venue) high-water marks: [key, seq, exchangeTs]. */
  state: Array<[string, number, string]>;
}

interface CheckpointFile {
  stream: string;
  shards: Record<string, ShardCheckpoint>;
}

export class FileCheckpointStore {
  constructor(readonly file: string) {}

  load(stream: string): CheckpointFile {
    if (!existsSync(this.file)) return { stream, shards: {} };
    return JSON.parse(readFileSync(this.file, 'utf8')) as CheckpointFile;
  }

  /** Atomic replace: a crash leaves the old or the new checkpoint, never a torn one. */
  save(cp: CheckpointFile): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(cp));
    renameSync(tmp, this.file);
  }
}

export function checkpointFile(dataDir: string, stream: string): string {
  return path.join(dataDir, 'ingest', 'checkpoints', `${stream}.json`);
}

/** Creates the stream if it is missing (local use) and waits until it is ACTIVE. */
export async function ensureStream(kinesis: KinesisClient, stream: string, shards = 2): Promise<void> {
  try {
    await kinesis.send(new DescribeStreamCommand({ StreamName: stream }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  }
  for (let i = 0; ; i++) {
    const d = await kinesis.send(new DescribeStreamCommand({ StreamName: stream }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') return;
    if (i > 600) throw new Error(`stream ${stream} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunOptions {
  readonly kinesis: KinesisClient;
  readonly consumer: ConsumerDeps;
  readonly stream: string;
  readonly checkpoints: FileCheckpointStore;
  /** Records per GetRecords call (Kinesis allows up to 10,000). @default 10000 */
  readonly batchSize?: number;
  /** Keep polling after the shards are drained. @default false */
  readonly follow?: boolean;
  /** Poll interval when following. @default 500 */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  readonly onBatch?: (shardId: string, report: { records: number; written: number }) => void;
}

export interface RunReport {
  batches: number;
  records: number;
  events: number;
  written: number;
  quarantined: Record<QuarantineReason, number>;
}

function toIn(r: _Record): KinesisRecordIn {
  return {
    sequenceNumber: r.SequenceNumber as string,
    partitionKey: r.PartitionKey as string,
    data: r.Data as Uint8Array,
    arrivalMs: r.ApproximateArrivalTimestamp?.getTime(),
  };
}

const seqGt = (a: string, b: string): boolean => BigInt(a) > BigInt(b);

/** Drains (or follows) every shard of the stream into the lake. */
export async function runConsumer(o: RunOptions): Promise<RunReport> {
  const cp = o.checkpoints.load(o.stream);
  const report: RunReport = {
    batches: 0,
    records: 0,
    events: 0,
    written: 0,
    quarantined: { undecodable: 0, invalid: 0, duplicate_seq: 0, out_of_order_ts: 0 },
  };
  const shards = (await o.kinesis.send(new ListShardsCommand({ StreamName: o.stream }))).Shards ?? [];
  const limit = o.batchSize ?? 10_000;

  const iteratorFor = async (shardId: string, after?: string): Promise<string | undefined> =>
    (
      await o.kinesis.send(
        new GetShardIteratorCommand({
          StreamName: o.stream,
          ShardId: shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      )
    ).ShardIterator;

  const process1 = async (
    shardId: string,
    records: KinesisRecordIn[],
    sc: ShardCheckpoint,
  ): Promise<void> => {
    sc.pending = { first: records[0].sequenceNumber, last: records[records.length - 1].sequenceNumber };
    o.checkpoints.save(cp);
    const state: ShardState = new Map(sc.state.map(([k, seq, ts]) => [k, { seq, exchangeTs: BigInt(ts) }]));
    const r = await processShardBatch(o.consumer, { shardId, records }, state);
    sc.last = sc.pending.last;
    sc.pending = undefined;
    sc.state = [...state].map(([k, v]) => [k, v.seq, v.exchangeTs.toString()]);
    o.checkpoints.save(cp);
    report.batches++;
    report.records += r.records;
    report.events += r.events;
    report.written += r.written;
    for (const [k, v] of Object.entries(r.quarantined)) report.quarantined[k as QuarantineReason] += v;
    o.onBatch?.(shardId, r);
  };

  const iterators = new Map<string, string | undefined>();
  for (const s of shards) {
    const shardId = s.ShardId as string;
    const sc = (cp.shards[shardId] ??= { state: [] });
    if (sc.pending) {
      // Recover the interrupted batch: exactly the same records, so the same object names.
      const pending = sc.pending;
      const recs: KinesisRecordIn[] = [];
      let it = await iteratorFor(shardId, sc.last);
      while (it && (recs.length === 0 || seqGt(pending.last, recs[recs.length - 1].sequenceNumber))) {
        const res = await o.kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: limit }));
        for (const r of res.Records ?? []) {
          if (seqGt(r.SequenceNumber as string, pending.last)) break;
          recs.push(toIn(r));
        }
        if (!res.Records?.length) break;
        it = res.NextShardIterator;
      }
      if (recs.length === 0 || recs[recs.length - 1].sequenceNumber !== pending.last) {
        throw new Error(`shard ${shardId}: cannot re-read pending range ${pending.first}..${pending.last}`);
      }
      await process1(shardId, recs, sc);
    }
    iterators.set(shardId, await iteratorFor(shardId, sc.last));
  }

  for (;;) {
    let got = 0;
    for (const [shardId, it] of iterators) {
      if (!it || o.signal?.aborted) continue;
      const res = await o.kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: limit }));
      iterators.set(shardId, res.NextShardIterator);
      const recs = (res.Records ?? []).map(toIn);
      if (recs.length === 0) continue;
      got += recs.length;
      await process1(shardId, recs, cp.shards[shardId]);
    }
    if (o.signal?.aborted) break;
    if (got === 0) {
      if (!o.follow) break;
      await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
    }
  }
  return report;
}
