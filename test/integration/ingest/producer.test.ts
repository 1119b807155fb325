import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  type KinesisClient,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { ProducerError, TickProducer, backoffDelay } from '../../../src/ingest/producer';
import { LocalCloud } from '../../../src/local/cloud';
import type { MarketEvent } from '../../../src/market-data';
import { readStream } from '../helpers/kinesis';

let cloud: LocalCloud;
let clients: AwsClients;
let dataDir: string;

/** Every event of the stream; each record's partition keys (outer and inner) are the event's symbol. */
async function readAll(
  kinesis: KinesisClient,
  name: string,
): Promise<{ events: MarketEvent[]; records: number }> {
  const content = await readStream(kinesis, name);
  content.events.forEach((e, i) => expect(content.keys[i]).toEqual([e.symbol, e.symbol]));
  return content;
}

async function createStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (;;) {
    const d = await kinesis.send(new DescribeStreamCommand({ StreamName: name }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads every record of every shard from the start, de-aggregates and decodes them. */
const T0 = 1_767_225_600_000_000_000n;
function ticks(n: number, symbols: readonly string[]): MarketEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'trade' as const,
    symbol: symbols[i % symbols.length],
    venue: 'XTST',
    seq: i,
    exchangeTs: T0 + BigInt(i) * 1000n,
    receiveTs: T0 + BigInt(i) * 1000n + 10n,
    price: 100 + (i % 50) / 4,
    size: 1 + (i % 7),
  }));
}

const key = (e: MarketEvent): string => `${e.symbol}#${e.seq}`;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'producer-'));
  cloud = await LocalCloud.start({ dataDir });
  clients = createClients(cloud.runtime);
  await Promise.all([
    createStream(clients.kinesis, 'agg', 2),
    createStream(clients.kinesis, 'plain', 1),
    createStream(clients.kinesis, 'flaky', 1),
    createStream(clients.kinesis, 'bp', 1),
    createStream(clients.kinesis, 'ordered', 2),
  ]);
});

afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('TickProducer against kinesalite', () => {
  it('aggregates many ticks per record and every tick arrives exactly once, in order per symbol', async () => {
    const input = ticks(20_000, ['ESZ6', 'NQZ6', 'CLF7']);
    const p = new TickProducer({ kinesis: clients.kinesis, streamName: 'agg', maxAggregatedBytes: 16_384 });
    await p.putAll(input);
    const stats = await p.close();
    expect(stats).toMatchObject({ eventsAccepted: 20_000, eventsSent: 20_000, eventsFailed: 0 });
    const { events, records } = await readAll(clients.kinesis, 'agg');
    expect(records).toBe(stats.recordsSent);
    expect(records).toBeLessThan(20_000 / 100); // ~300 ticks per 16 KiB record
    expect(events.map(key).sort()).toEqual(input.map(key).sort());
    for (const sym of ['ESZ6', 'NQZ6', 'CLF7']) {
      const seqs = events.filter((e) => e.symbol === sym).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(events.find((e) => e.seq === 4)).toEqual(input[4]);
  });

  it('close() leaves no timer behind, whatever the linger (a process that produced can exit)', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const p = new TickProducer({ kinesis: clients.kinesis, streamName: 'agg', lingerMs: 3_600_000 });
    await p.putAll(ticks(100, ['ESZ6']));
    expect(timers()).toBe(before + 1); // the linger timer, armed by the buffered record
    const stats = await p.close();
    expect(stats.eventsSent).toBe(100);
    expect(timers()).toBe(before);
  });

  it('sends one tick per record when aggregation is off, ≤ 500 records per request', async () => {
    const input = ticks(1_200, ['A', 'B']);
    const p = new TickProducer({ kinesis: clients.kinesis, streamName: 'plain', aggregate: false });
    await p.putAll(input);
    const stats = await p.close();
    expect(stats.recordsSent).toBe(1_200);
    expect(stats.requests).toBeGreaterThanOrEqual(3);
    const { events } = await readAll(clients.kinesis, 'plain');
    expect(events.map(key).sort()).toEqual(input.map(key).sort());
  });

  it('retries only the records Kinesis rejected, and none twice', async () => {
    // Throttling injected at the SDK boundary: on the first two calls every third record is withheld
    // from kinesalite and reported back as ProvisionedThroughputExceededException, as Kinesis does.
    const { kinesis } = createClients(cloud.runtime);
    let calls = 0;
    const sentPerCall: number[] = [];
    kinesis.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as PutRecordsCommandInput;
        if (!input.Records) return next(args);
        const call = ++calls;
        const all = input.Records;
        const reject = (i: number): boolean => call <= 2 && i % 3 === 0;
        const kept = all.filter((_, i) => !reject(i));
        sentPerCall.push(all.length);
        const res = await next({ ...args, input: { ...input, Records: kept } });
        const out = res.output as PutRecordsCommandOutput;
        const ok = [...(out.Records ?? [])];
        out.Records = all.map((_, i) =>
          reject(i)
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }
            : ok.shift()!,
        );
        out.FailedRecordCount = all.filter((_, i) => reject(i)).length;
        return res;
      },
      { step: 'initialize', name: 'injectThrottling' },
    );
    const input = ticks(900, ['X']);
    let jitterDraws = 0;
    const p = new TickProducer({
      kinesis,
      streamName: 'flaky',
      aggregate: false,
      // One key and full requests: the retry mechanics alone (ordering is the next test's subject).
      preserveOrder: false,
      baseBackoffMs: 1,
      random: () => {
        jitterDraws++;
        return 0.5;
      },
    });
    await p.putAll(input);
    const stats = await p.close();
    kinesis.destroy();
    expect(stats.throttled).toBe(Math.ceil(sentPerCall[0] / 3) + Math.ceil(sentPerCall[1] / 3));
    expect(stats.recordRetries).toBe(stats.throttled);
    // Every retry round waited a jittered delay (one draw per round of rejected records).
    expect(jitterDraws).toBe(2);
    // Only the rejected records were sent again.
    expect(sentPerCall.reduce((a, b) => a + b, 0)).toBe(900 + stats.recordRetries);
    const { events, records } = await readAll(clients.kinesis, 'flaky');
    expect(records).toBe(900);
    expect(events).toHaveLength(900);
    expect(new Set(events.map(key)).size).toBe(900);
  });

  it('keeps every key in order when records fail and are retried (one record per key in flight)', async () => {
    // As above, but every third record of the first ten calls is rejected, across many keys: a
    // retried record must still land before the key's later records.
    const { kinesis } = createClients(cloud.runtime);
    let calls = 0;
    let maxPerKey = 0;
    kinesis.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as PutRecordsCommandInput;
        if (!input.Records) return next(args);
        const call = ++calls;
        const all = input.Records;
        const perKey = new Map<string, number>();
        for (const r of all) perKey.set(r.PartitionKey!, (perKey.get(r.PartitionKey!) ?? 0) + 1);
        maxPerKey = Math.max(maxPerKey, ...perKey.values());
        const reject = (i: number): boolean => call <= 10 && i % 3 === 0;
        const res = await next({ ...args, input: { ...input, Records: all.filter((_, i) => !reject(i)) } });
        const out = res.output as PutRecordsCommandOutput;
        const ok = [...(out.Records ?? [])];
        out.Records = all.map((_, i) =>
          reject(i)
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }
            : ok.shift()!,
        );
        return res;
      },
      { step: 'initialize', name: 'injectThrottling' },
    );
    const syms = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
    const input = ticks(8_000, syms);
    const p = new TickProducer({
      kinesis,
      streamName: 'ordered',
      maxAggregatedBytes: 2_048,
      baseBackoffMs: 1,
    });
    await p.putAll(input);
    const stats = await p.close();
    kinesis.destroy();
    expect(stats.recordRetries).toBeGreaterThan(10);
    expect(maxPerKey).toBe(1);
    const { events } = await readAll(clients.kinesis, 'ordered');
    expect(events).toHaveLength(8_000);
    for (const sym of syms) {
      const seqs = events.filter((e) => e.symbol === sym).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('counts and reports records that fail every attempt, and close() throws', async () => {
    const failures: Array<[number, string]> = [];
    const p = new TickProducer({
      kinesis: clients.kinesis,
      streamName: 'no-such-stream',
      maxAttempts: 3,
      baseBackoffMs: 1,
      onFailure: (n, code) => failures.push([n, code]),
    });
    await p.putAll(ticks(250, ['A', 'B']));
    const err = await p.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProducerError);
    expect((err as ProducerError).stats).toMatchObject({
      eventsAccepted: 250,
      eventsSent: 0,
      eventsFailed: 250,
    });
    expect(failures.reduce((s, [n]) => s + n, 0)).toBe(250);
    expect(failures[0][1]).toBe('ResourceNotFoundException');
  });

  it('applies back-pressure: buffered bytes stay bounded while producing much more', async () => {
    const limit = 64 * 1024;
    const p = new TickProducer({
      kinesis: clients.kinesis,
      streamName: 'bp',
      maxBufferedBytes: limit,
      maxAggregatedBytes: 8 * 1024,
      maxConcurrentRequests: 1,
    });
    const input = ticks(30_000, ['A', 'B', 'C', 'D']); // ~1.5 MB encoded
    for (const e of input) await p.put(e);
    const stats = await p.close();
    expect(stats.eventsSent).toBe(30_000);
    expect(stats.backpressureWaits).toBeGreaterThan(0);
    expect(stats.peakBufferedBytes).toBeLessThan(limit + 200);
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffDelay(1, 50, 5000, () => 0)).toBe(0);
    expect(backoffDelay(1, 50, 5000, () => 0.5)).toBe(50);
    expect(backoffDelay(3, 50, 5000, () => 0.5)).toBe(200);
    expect(backoffDelay(20, 50, 5000, () => 0.999)).toBeCloseTo(4995, 6);
    // Uniform over the whole window: draws spread from near 0 to near the cap.
    const draws = Array.from({ length: 200 }, (_, i) => backoffDelay(4, 50, 5000, () => i / 200));
    expect(Math.min(...draws)).toBe(0);
    expect(Math.max(...draws)).toBeGreaterThan(790);
    expect(Math.max(...draws)).toBeLessThan(800);
  });

  it('rejects limits beyond what Kinesis accepts', () => {
    expect(
      () => new TickProducer({ kinesis: clients.kinesis, streamName: 's', maxRecordsPerRequest: 501 }),
    ).toThrow(/maxRecordsPerRequest/);
    expect(
      () => new TickProducer({ kinesis: clients.kinesis, streamName: 's', maxAggregatedBytes: 2 ** 20 }),
    ).toThrow(/maxAggregatedBytes/);
  });
});
