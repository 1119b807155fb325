/**
 * The ingestion step of `npm start`: seeded synthetic intraday ticks for a few symbols -> local
 * Kinesis (aggregated records) -> local consumer -> raw zone Parquet -> 1m and 1d bars in the
 * curated zone, then a query over the bars. Everything runs through the same code as in AWS.
 */
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { AwsClients, Runtime } from '../aws/clients';
import type { LakeBuckets } from '../lake/buckets';
import type { QueryEngine } from '../lake/query';
import { buildBars } from './bars-build';
import { TickProducer } from './producer';
import { checkpointFile, ensureStream, FileCheckpointStore, runConsumer } from './runner';
import { syntheticTicks } from './synthetic';

export interface IngestDemoOptions {
  /** @default ['DEMOA', 'DEMOB', 'DEMOC'] */
  readonly symbols?: readonly string[];
  /** @default 20000 */
  readonly eventsPerSymbol?: number;
  /** @default 7 */
  readonly seed?: number;
  /** Trading day (UTC). @default '2026-01-05' */
  readonly date?: string;
  /** @default 'ticks' */
  readonly stream?: string;
  /** Progress lines (e.g. console.log). */
  readonly log?: (line: string) => void;
}

export interface IngestDemoReport {
  readonly ticksSent: number;
  readonly kinesisRecords: number;
  readonly putRequests: number;
  readonly ticksWritten: number;
  readonly quarantined: number;
  readonly bars1m: number;
  readonly bars1d: number;
  /** The day's 1d bar per symbol, read back through the query engine. */
  readonly daily: ReadonlyArray<Record<string, unknown>>;
}

const DEMO_SYMBOLS = ['DEMOA', 'DEMOB', 'DEMOC'];
const DEMO_DATE = '2026-01-05';

type DemoContext = {
  readonly runtime: Runtime;
  readonly clients: AwsClients;
  readonly buckets: LakeBuckets;
};

/**
 * Whether an earlier demo run already landed the seeded ticks (every symbol has a raw partition for
 * the day). A re-run then produces nothing: re-sending would only add duplicates to the stream and
 * to the quarantine.
 */
export async function demoTicksLanded(ctx: DemoContext, o: IngestDemoOptions = {}): Promise<boolean> {
  for (const symbol of o.symbols ?? DEMO_SYMBOLS) {
    const r = await ctx.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: ctx.buckets.raw,
        Prefix: `ticks/dt=${o.date ?? DEMO_DATE}/symbol=${symbol}/`,
        MaxKeys: 1,
      }),
    );
    if (!r.KeyCount) return false;
  }
  return true;
}

export async function runIngestDemo(
  ctx: DemoContext & { query(): Promise<QueryEngine> },
  o: IngestDemoOptions = {},
): Promise<IngestDemoReport> {
  if (ctx.runtime.mode !== 'local') throw new Error('runIngestDemo runs against the local cloud');
  const log = o.log ?? (() => {});
  const stream = o.stream ?? 'ticks';
  const symbols = o.symbols ?? DEMO_SYMBOLS;
  const date = o.date ?? DEMO_DATE;
  await ensureStream(ctx.clients.kinesis, stream, 2);
  let sent = { eventsSent: 0, recordsSent: 0, requests: 0 };
  let written = 0;
  let quarantined = 0;
  if (await demoTicksLanded(ctx, o)) {
    log(`ingest: the seeded ticks of ${date} are already in the raw zone (an earlier run): nothing produced`);
  } else {
    const producer = new TickProducer({ kinesis: ctx.clients.kinesis, streamName: stream });
    await producer.putAll(
      syntheticTicks({ symbols, eventsPerSymbol: o.eventsPerSymbol ?? 20_000, seed: o.seed ?? 7, date }),
    );
    sent = await producer.close();
    log(
      `ingest: produced ${sent.eventsSent} ticks in ${sent.recordsSent} aggregated Kinesis records (${sent.requests} PutRecords)`,
    );
    const run = await runConsumer({
      kinesis: ctx.clients.kinesis,
      consumer: { s3: ctx.clients.s3, rawBucket: ctx.buckets.raw },
      stream,
      checkpoints: new FileCheckpointStore(checkpointFile(path.resolve(ctx.runtime.dataDir), stream)),
    });
    written = run.written;
    quarantined = Object.values(run.quarantined).reduce((a, b) => a + b, 0);
    const reasons = Object.entries(run.quarantined)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${n} ${reason}`);
    log(
      `ingest: consumer wrote ${written} ticks to the raw zone, quarantined ${quarantined}` +
        (reasons.length > 0 ? ` (${reasons.join(', ')})` : ''),
    );
  }

  const m1 = await buildBars(ctx, { interval: '1m', dts: [date] });
  const d1 = await buildBars(ctx, { interval: '1d', dts: [date] });
  log(`ingest: built ${m1.bars} 1m bars and ${d1.bars} 1d bars for ${date}`);
  const engine = await ctx.query();
  const list = symbols.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ');
  const daily = await engine.query(
    `SELECT symbol, ts, open, high, low, close, volume, round(vwap, 4) AS vwap, trades FROM bars WHERE "interval" = '1d' AND symbol IN (${list}) ORDER BY symbol, ts`,
  );
  return {
    ticksSent: sent.eventsSent,
    kinesisRecords: sent.recordsSent,
    putRequests: sent.requests,
    ticksWritten: written,
    quarantined,
    bars1m: m1.bars,
    bars1d: d1.bars,
    daily,
  };
}
