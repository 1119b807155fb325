import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { processShardBatch, type KinesisRecordIn, type ShardState } from '../../../src/ingest/consumer';
import { handleKinesisEvent } from '../../../src/ingest/kinesis-event';
import { aggregate } from '../../../src/ingest/kpl';
import { PARQUET_DECOMPRESSORS } from '../../../src/lake/parquet-read';
import { TickProducer } from '../../../src/ingest/producer';
import { FileCheckpointStore, ensureStream, runConsumer } from '../../../src/ingest/runner';
import { syntheticTicks } from '../../../src/ingest/synthetic';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { encodeEvent, type TradeEvent } from '../../../src/market-data';

let cloud: LocalCloud;
let clients: AwsClients;
let dataDir: string;
const bucket = LOCAL_BUCKETS.raw;

async function listKeys(s3: S3Client, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(r.Contents ?? []).map((c) => c.Key as string));
    token = r.NextContinuationToken;
  } while (token);
  return keys.sort();
}

async function getBytes(key: string): Promise<Uint8Array> {
  const o = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return o.Body!.transformToByteArray();
}

async function readTicks(prefix: string): Promise<Array<Record<string, unknown>>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const key of await listKeys(clients.s3, prefix)) {
    if (!key.endsWith('.parquet')) continue;
    const bytes = await getBytes(key);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const symbol = /symbol=([^/]+)/.exec(key)![1];
    const dt = /dt=([^/]+)/.exec(key)![1];
    for (const r of await parquetReadObjects({ file, compressors: PARQUET_DECOMPRESSORS }))
      rows.push({ ...r, symbol, dt, key });
  }
  return rows;
}

const T0 = 1_767_225_600_000_000_000n; // 2026-01-01
const trade = (symbol: string, seq: number, ts: bigint, price = 100): TradeEvent => ({
  type: 'trade',
  symbol,
  venue: 'XTST',
  seq,
  exchangeTs: ts,
  receiveTs: ts + 5n,
  price,
  size: 1,
});
let seqNo = 1000n;
const rec = (pk: string, data: Uint8Array): KinesisRecordIn => ({
  sequenceNumber: String((seqNo += 10n)),
  partitionKey: pk,
  data,
  arrivalMs: Date.parse('2026-01-01T12:00:00Z'),
});

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
  cloud = await LocalCloud.start({ dataDir });
  clients = createClients(cloud.runtime);
});

afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('processShardBatch', () => {
  it('lands valid ticks as partitioned Parquet and quarantines every bad record with its reason', async () => {
    const good = [
      trade('AAA', 1, T0 + 1n),
      trade('AAA', 2, T0 + 2n),
      trade('BBB', 1, T0 + 3n),
      trade('AAA', 3, T0 + 86_400_000_000_000n), // next day: another dt partition
    ];
    const truncated = encodeEvent(trade('AAA', 9, T0)).subarray(0, 20);
    const corruptAgg = aggregate([{ partitionKey: 'AAA', data: encodeEvent(trade('AAA', 10, T0)) }]);
    corruptAgg[10] ^= 0xff;
    const batch = {
      shardId: 'shardId-000000000000',
      records: [
        rec('AAA', aggregate(good.slice(0, 2).map((e) => ({ partitionKey: 'AAA', data: encodeEvent(e) })))),
        rec('BBB', encodeEvent(good[2])),
        rec('AAA', truncated), // undecodable
        rec('AAA', corruptAgg), // undecodable (checksum)
        rec('AAA', encodeEvent({ ...trade('AAA', 4, T0 + 4n), price: -1 })), // invalid
        rec('AAA', encodeEvent({ ...trade('', 5, T0 + 5n) })), // missing symbol
        rec('AAA', encodeEvent(trade('AAA', 2, T0 + 2n))), // duplicate seq
        rec('AAA', encodeEvent(trade('AAA', 6, T0))), // exchange time goes backwards
        rec('AAA', encodeEvent(good[3])),
        rec('AAA', Buffer.from('{"not":"binary"}')), // undecodable
      ],
    };
    const state: ShardState = new Map();
    const r = await processShardBatch({ s3: clients.s3, rawBucket: bucket, ticksPrefix: 't1' }, batch, state);
    expect(r).toMatchObject({
      records: 10,
      events: 11,
      written: 4,
      quarantined: { undecodable: 3, invalid: 2, duplicate_seq: 1, out_of_order_ts: 1 },
    });
    const rows = await readTicks('t1/');
    expect(rows).toHaveLength(4);
    const a1 = rows.find((x) => x.symbol === 'AAA' && x.seq === 1n)!;
    expect(a1).toMatchObject({
      dt: '2026-01-01',
      venue: 'XTST',
      type: 'trade',
      exchange_ts: T0 + 1n,
      price: 100,
      bid: null,
    });
    expect(rows.find((x) => x.seq === 3n)!.dt).toBe('2026-01-02');
    expect(new Set(rows.map((x) => x.key as string))).toEqual(
      new Set([
        `t1/dt=2026-01-01/symbol=AAA/shardId-000000000000-${batch.records[0].sequenceNumber}-${batch.records[9].sequenceNumber}.parquet`,
        `t1/dt=2026-01-01/symbol=BBB/shardId-000000000000-${batch.records[0].sequenceNumber}-${batch.records[9].sequenceNumber}.parquet`,
        `t1/dt=2026-01-02/symbol=AAA/shardId-000000000000-${batch.records[0].sequenceNumber}-${batch.records[9].sequenceNumber}.parquet`,
      ]),
    );
    const qKey = r.keys.find((k) => k.startsWith('quarantine/'))!;
    expect(qKey).toMatch(/^quarantine\/ticks\/dt=2026-01-01\/shardId-000000000000-\d+-\d+\.jsonl$/);
    const lines = Buffer.from(await getBytes(qKey))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; detail: string; data: string });
    expect(lines.map((l) => l.reason).sort()).toEqual(
      [
        'duplicate_seq',
        'invalid',
        'invalid',
        'out_of_order_ts',
        'undecodable',
        'undecodable',
        'undecodable',
      ].sort(),
    );
    expect(lines.find((l) => l.reason === 'invalid' && l.detail.startsWith('price'))).toBeDefined();
    expect(lines.find((l) => l.detail.startsWith('truncated'))).toBeDefined();
    expect(lines.find((l) => /MD5/.test(l.detail))).toBeDefined();
    // The original bytes are kept for replay.
    expect(lines.some((l) => Buffer.from(l.data, 'base64').equals(truncated))).toBe(true);
    // High-water marks advance only after the batch is stored.
    expect(state.get('AAA\u0000XTST')).toEqual({ seq: 3, exchangeTs: T0 + 86_400_000_000_000n });
  });

  it('a retried batch overwrites its own files: no duplicates, same keys', async () => {
    const batch = {
      shardId: 'shardId-000000000001',
      records: [
        rec(
          'CCC',
          aggregate(
            [1, 2, 3].map((i) => ({
              partitionKey: 'CCC',
              data: encodeEvent(trade('CCC', i, T0 + BigInt(i))),
            })),
          ),
        ),
      ],
    };
    const deps = { s3: clients.s3, rawBucket: bucket, ticksPrefix: 't2' };
    const first = await processShardBatch(deps, batch);
    const second = await processShardBatch(deps, batch);
    expect(second.keys).toEqual(first.keys);
    expect(await readTicks('t2/')).toHaveLength(3);
  });

  it('a failed write leaves the state unchanged and the retry stores everything', async () => {
    const { s3 } = createClients(cloud.runtime);
    let puts = 0;
    s3.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { Key?: string }).Key?.startsWith('t3/') && ++puts === 2)
          throw new Error('injected: connection reset');
        return next(args);
      },
      { step: 'initialize', name: 'failSecondPut' },
    );
    const events = ['DDD', 'EEE', 'FFF'].flatMap((s) => [1, 2].map((i) => trade(s, i, T0 + BigInt(i))));
    const batch = {
      shardId: 'shardId-000000000002',
      records: events.map((e) => rec(e.symbol, encodeEvent(e))),
    };
    const state: ShardState = new Map();
    const deps = { s3, rawBucket: bucket, ticksPrefix: 't3', concurrency: 1 };
    await expect(processShardBatch(deps, batch, state)).rejects.toThrow(/injected/);
    expect(state.size).toBe(0);
    await processShardBatch(deps, batch, state);
    s3.destroy();
    const rows = await readTicks('t3/');
    expect(rows).toHaveLength(6);
    expect(state.size).toBe(3);
  });
});

describe('runConsumer (local, checkpointed)', () => {
  it('drains the stream into the lake; a consumer that dies mid-batch resumes without loss or duplicates', async () => {
    await ensureStream(clients.kinesis, 'ticks-run', 2);
    const events = [...syntheticTicks({ symbols: ['AAA', 'BBB', 'CCC'], eventsPerSymbol: 2000, seed: 7 })];
    const p = new TickProducer({
      kinesis: clients.kinesis,
      streamName: 'ticks-run',
      maxAggregatedBytes: 8192,
    });
    await p.putAll(events);
    await p.close();

    const checkpoints = new FileCheckpointStore(path.join(dataDir, 'cp', 'ticks-run.json'));
    // First run: the third PUT of lake objects fails, as if the process died in the middle of a batch.
    const { s3 } = createClients(cloud.runtime);
    let puts = 0;
    s3.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { Key?: string }).Key?.startsWith('t4/') && ++puts === 3)
          throw new Error('killed');
        return next(args);
      },
      { step: 'initialize', name: 'dieOnThirdPut' },
    );
    await expect(
      runConsumer({
        kinesis: clients.kinesis,
        consumer: { s3, rawBucket: bucket, ticksPrefix: 't4', concurrency: 1 },
        stream: 'ticks-run',
        checkpoints,
        batchSize: 50,
      }),
    ).rejects.toThrow('killed');
    s3.destroy();
    const cp = checkpoints.load('ticks-run');
    expect(Object.values(cp.shards).some((s) => s.pending !== undefined)).toBe(true);

    // Restart with a healthy client: the pending range is redone, then the rest.
    const report = await runConsumer({
      kinesis: clients.kinesis,
      consumer: { s3: clients.s3, rawBucket: bucket, ticksPrefix: 't4' },
      stream: 'ticks-run',
      checkpoints,
      batchSize: 50,
    });
    expect(report.quarantined).toEqual({ undecodable: 0, invalid: 0, duplicate_seq: 0, out_of_order_ts: 0 });
    const rows = await readTicks('t4/');
    expect(rows).toHaveLength(events.length);
    expect(new Set(rows.map((r) => `${r.symbol}#${r.seq}`)).size).toBe(events.length);

    // A third run finds nothing new.
    const again = await runConsumer({
      kinesis: clients.kinesis,
      consumer: { s3: clients.s3, rawBucket: bucket, ticksPrefix: 't4' },
      stream: 'ticks-run',
      checkpoints,
    });
    expect(again.records).toBe(0);
  });
});

describe('handleKinesisEvent (the Lambda path)', () => {
  const event = (records: KinesisRecordIn[], shard = 'shardId-000000000007') => ({
    Records: records.map((r) => ({
      eventID: `${shard}:${r.sequenceNumber}`,
      eventSource: 'aws:kinesis',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey,
        sequenceNumber: r.sequenceNumber,
        data: Buffer.from(r.data).toString('base64'),
        approximateArrivalTimestamp: 1767268800.123,
      },
    })),
  });

  it('stores a real-shaped event and reports no failures', async () => {
    const recs = [1, 2, 3].map((i) => rec('GGG', encodeEvent(trade('GGG', i, T0 + BigInt(i)))));
    const r = await handleKinesisEvent(event(recs), { s3: clients.s3, rawBucket: bucket, ticksPrefix: 't5' });
    expect(r.batchItemFailures).toEqual([]);
    expect(r.reports[0].report?.written).toBe(3);
    expect(await readTicks('t5/')).toHaveLength(3);
  });

  it('reports the first record of a shard whose batch could not be stored', async () => {
    const recs = [1, 2].map((i) => rec('HHH', encodeEvent(trade('HHH', i, T0 + BigInt(i)))));
    const r = await handleKinesisEvent(event(recs), { s3: clients.s3, rawBucket: 'no-such-bucket' });
    expect(r.batchItemFailures).toEqual([{ itemIdentifier: recs[0].sequenceNumber }]);
    expect(r.reports[0].error).toMatch(/bucket/i);
  });

  it('rejects an event that is not a Kinesis event, naming the field', async () => {
    await expect(
      handleKinesisEvent({ Records: [{ eventID: 'x' }] }, { s3: clients.s3, rawBucket: bucket }),
    ).rejects.toThrow(/event\.Records\.0\.eventID: expected shardId-NNN:sequenceNumber/);
    const bad = event([rec('III', encodeEvent(trade('III', 1, T0)))]);
    bad.Records[0].kinesis.data = '%%%';
    await expect(handleKinesisEvent(bad, { s3: clients.s3, rawBucket: bucket })).rejects.toThrow(
      /kinesis\.data: must be base64/,
    );
  });
});
