import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { buildBars, compactTicks, type LakeContext } from '../../../src/ingest/bars-build';
import { processShardBatch, type KinesisRecordIn } from '../../../src/ingest/consumer';
import { aggregate } from '../../../src/ingest/kpl';
import { syntheticTicks } from '../../../src/ingest/synthetic';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { encodeEvent, type MarketEvent, type TradeEvent } from '../../../src/market-data';
import { InputError } from '../../../src/errors';

let cloud: LocalCloud;
let clients: AwsClients;
let dataDir: string;
let ctx: LakeContext;
let engine: DuckDbQueryEngine;

const DAY = '2026-01-05';
const MIN = 60_000_000_000n;
const D0 = BigInt(Date.parse(`${DAY}T00:00:00Z`)) * 1_000_000n;
const at = (minute: number, sec: number, ns = 0n): bigint =>
  D0 + BigInt(minute) * MIN + BigInt(sec) * 1_000_000_000n + ns;
const t = (symbol: string, ts: bigint, price: number, size: number, s: number): TradeEvent => ({
  type: 'trade',
  symbol,
  venue: 'XFIX',
  seq: s,
  exchangeTs: ts,
  receiveTs: ts + 1000n,
  price,
  size,
});

// Fixture with known OHLCV. Minute 600 (10:00-10:01 UTC) for FIX: open 10 (first by time), high 12,
// low 9, close 11 (last by time; equal timestamps ordered by seq), volume 10, vwap (10 + 24 + 21 + 11 + 36) / 10 = 10.2. Arrival
// order differs from time order (sequence numbers follow time, as the consumer requires).
const fixture: MarketEvent[] = [
  t('FIX', at(600, 30), 12, 2, 2), // arrives first but is not the first by time
  t('FIX', at(600, 0), 10, 1, 1),
  t('FIX', at(600, 59, 999_999_999n), 10.5, 2, 1000), // last time, tie with the next on time...
  t('FIX', at(600, 59, 999_999_999n), 11, 1, 1001), // ...higher seq: this is the close
  t('FIX', at(600, 45), 9, 4, 3),
  t('FIX', at(601, 0), 20, 5, 1002), // exactly on the boundary: belongs to the 10:01-10:02 bar
  {
    type: 'quote',
    symbol: 'FIX',
    venue: 'XFIX',
    seq: 4,
    exchangeTs: at(600, 50),
    receiveTs: at(600, 50),
    bid: 1,
    bidSize: 1,
    ask: 99,
    askSize: 1,
  },
];

let seqNo = 100n;
const batchOf = (
  shardId: string,
  events: readonly MarketEvent[],
): { shardId: string; records: KinesisRecordIn[] } => {
  const records: KinesisRecordIn[] = [];
  for (let i = 0; i < events.length; i += 200) {
    const chunk = events.slice(i, i + 200);
    records.push({
      sequenceNumber: String((seqNo += 7n)),
      partitionKey: chunk[0].symbol,
      data: aggregate(chunk.map((e) => ({ partitionKey: e.symbol, data: encodeEvent(e) }))),
    });
  }
  return { shardId, records };
};

/** The independent computation: plain TypeScript over the events. */
/** Intraday bars are labelled by their close, daily bars by their session date (the day's start). */
function referenceBars(
  events: readonly MarketEvent[],
  intervalNs: bigint,
  labelOffsetNs = intervalNs,
): Map<string, Record<string, number>> {
  const out = new Map<
    string,
    { o: TradeEvent; c: TradeEvent; h: number; l: number; v: number; pv: number; n: number }
  >();
  for (const e of events) {
    if (e.type !== 'trade') continue;
    const close = e.exchangeTs - (e.exchangeTs % intervalNs) + labelOffsetNs;
    const k = `${e.symbol}|${new Date(Number(close / 1_000_000n)).toISOString()}`;
    const b = out.get(k);
    const before = (a: TradeEvent, z: TradeEvent): boolean =>
      a.exchangeTs < z.exchangeTs || (a.exchangeTs === z.exchangeTs && a.seq < z.seq);
    if (!b) out.set(k, { o: e, c: e, h: e.price, l: e.price, v: e.size, pv: e.price * e.size, n: 1 });
    else {
      if (before(e, b.o)) b.o = e;
      if (before(b.c, e)) b.c = e;
      b.h = Math.max(b.h, e.price);
      b.l = Math.min(b.l, e.price);
      b.v += e.size;
      b.pv += e.price * e.size;
      b.n++;
    }
  }
  return new Map(
    [...out].map(([k, b]) => [
      k,
      { open: b.o.price, high: b.h, low: b.l, close: b.c.price, volume: b.v, vwap: b.pv / b.v, trades: b.n },
    ]),
  );
}

async function lakeBars(interval: string, symbol?: string): Promise<Map<string, Record<string, number>>> {
  const rows = await engine.query(
    `SELECT symbol, ts, year, open, high, low, close, volume, vwap, trades FROM bars WHERE "interval" = '${interval}'${symbol ? ` AND symbol = '${symbol}'` : ''} ORDER BY symbol, ts`,
  );
  return new Map(
    rows.map((r) => [
      `${r.symbol}|${(r.ts as Date).toISOString()}`,
      {
        open: Number(r.open),
        high: Number(r.high),
        low: Number(r.low),
        close: Number(r.close),
        volume: Number(r.volume),
        vwap: Number(r.vwap),
        trades: Number(r.trades),
      },
    ]),
  );
}

function expectSameBars(
  actual: Map<string, Record<string, number>>,
  expected: Map<string, Record<string, number>>,
): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [k, e] of expected) {
    const a = actual.get(k)!;
    for (const f of ['open', 'high', 'low', 'close', 'volume', 'trades'])
      expect(a[f], `${k} ${f}`).toBe(e[f]);
    expect(a.vwap).toBeCloseTo(e.vwap, 9);
  }
}

const synthetic = [
  ...syntheticTicks({ symbols: ['SYA', 'SYB'], date: DAY, eventsPerSymbol: 3000, seed: 11 }),
];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bars-'));
  cloud = await LocalCloud.start({ dataDir });
  clients = createClients(cloud.runtime);
  ctx = { runtime: cloud.runtime, clients, buckets: LOCAL_BUCKETS };
  engine = await DuckDbQueryEngine.create(cloud.runtime);
  const deps = { s3: clients.s3, rawBucket: LOCAL_BUCKETS.raw };
  await processShardBatch(deps, batchOf('shardId-000000000000', fixture));
  // The synthetic day is delivered twice with different batch boundaries, as a retried Lambda
  // batch can be: the raw zone then holds every tick twice, in differently named files.
  await processShardBatch(deps, batchOf('shardId-000000000001', synthetic));
  await processShardBatch(deps, batchOf('shardId-000000000001', synthetic.slice(0, 2500)));
});

afterAll(async () => {
  await engine?.close();
  clients?.destroy();
  await cloud?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('bars SQL (the Glue job SQL on DuckDB)', () => {
  it('gives the known OHLCV of the fixture, labelled by close time', async () => {
    const r = await buildBars(ctx, { interval: '1m', dts: [DAY] });
    expect(r.symbols).toEqual(['FIX', 'SYA', 'SYB']);
    const bars = await lakeBars('1m', 'FIX');
    expect(bars.get(`FIX|${DAY}T10:01:00.000Z`)).toEqual({
      open: 10,
      high: 12,
      low: 9,
      close: 11,
      volume: 10,
      vwap: 10.2,
      trades: 5,
    });
    expect(bars.get(`FIX|${DAY}T10:02:00.000Z`)).toEqual({
      open: 20,
      high: 20,
      low: 20,
      close: 20,
      volume: 5,
      vwap: 20,
      trades: 1,
    });
    expect(bars.size).toBe(2);
  });

  it('matches an independent TypeScript computation for 1m and 1d bars, duplicates in the raw zone notwithstanding', async () => {
    expectSameBars(await lakeBars('1m'), referenceBars([...fixture, ...synthetic], MIN));
    await buildBars(ctx, { interval: '1d', dts: [DAY] });
    const daily = await lakeBars('1d');
    expectSameBars(daily, referenceBars([...fixture, ...synthetic], 86_400n * 1_000_000_000n, 0n));
    // The session date, as imported daily bars carry it (not the next day's midnight).
    expect([...daily.keys()]).toContain(`SYA|${DAY}T00:00:00.000Z`);
  });

  it('is idempotent: rebuilding a day replaces its bars', async () => {
    await buildBars(ctx, { interval: '1m', dts: [DAY] });
    const rows = await engine.query(`SELECT count(*) AS n FROM bars WHERE "interval" = '1m'`);
    expect(Number(rows[0].n)).toBe(referenceBars([...fixture, ...synthetic], MIN).size);
  });

  it('rejects a malformed --dt', async () => {
    await expect(buildBars(ctx, { interval: '1m', dts: ['2026-02-30'] })).rejects.toThrow(InputError);
    await expect(buildBars(ctx, { interval: '1m', dts: ["2026-01-01' OR 1=1 --"] })).rejects.toThrow(
      /not a date/,
    );
  });
});

describe('compaction SQL', () => {
  it('leaves one file per (dt, symbol) with one row per (symbol, venue, seq), and bars unchanged', async () => {
    const before = await engine.query(`SELECT count(*) AS n FROM ticks WHERE dt = DATE '${DAY}'`);
    expect(Number(before[0].n)).toBe(fixture.length + synthetic.length + 2500);
    const r = await compactTicks(ctx, { dts: [DAY] });
    expect(r).toMatchObject({
      partitions: 3,
      rowsIn: fixture.length + synthetic.length + 2500,
      rowsOut: fixture.length + synthetic.length,
    });
    const keys = (
      await clients.s3.send(new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.raw, Prefix: 'ticks/' }))
    ).Contents!.map((c) => c.Key);
    expect(keys.sort()).toEqual([
      `ticks/dt=${DAY}/symbol=FIX/compacted.parquet`,
      `ticks/dt=${DAY}/symbol=SYA/compacted.parquet`,
      `ticks/dt=${DAY}/symbol=SYB/compacted.parquet`,
    ]);
    const dup = await engine.query(
      `SELECT count(*) AS n FROM (SELECT symbol, venue, seq FROM ticks GROUP BY ALL HAVING count(*) > 1)`,
    );
    expect(Number(dup[0].n)).toBe(0);
    // Running it again changes nothing.
    expect(await compactTicks(ctx, { dts: [DAY] })).toMatchObject({
      inputFiles: 3,
      rowsIn: r.rowsOut,
      rowsOut: r.rowsOut,
    });
    await buildBars(ctx, { interval: '1m', dts: [DAY] });
    expectSameBars(await lakeBars('1m'), referenceBars([...fixture, ...synthetic], MIN));
  });
});
