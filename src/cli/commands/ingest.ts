import type { Command } from 'commander';
import { InputError } from '../../errors';
import { buildBars, compactTicks } from '../../ingest/bars-build';
import { barsUpdatedDetail, publishBarsUpdated } from '../../ingest/bars-events';
import { readReplayFile, replay } from '../../ingest/replay';
import { checkpointFile, ensureStream, FileCheckpointStore, runConsumer } from '../../ingest/runner';
import { syntheticTicks } from '../../ingest/synthetic';
import type { MarketEvent } from '../../market-data/events';
import { dataDirOf, withPlatform, type GlobalOptions } from '../context';
import { printJson } from '../output';
import { registerIngestStream } from './ingest-stream';
import { registerIngestNews } from './ingest-news';
import { int, listOf, oneOf } from '../options';

const SYMBOLS = /^[A-Za-z0-9._-]{1,64}$/;

// Wording kept: scripts and tests match it.
const positive = { says: (v: string) => `"${v}" is not a positive integer` };

interface ReplayOpts {
  from: string;
  file?: string;
  rate?: string;
  symbols?: string[];
  count: string;
  seed: string;
  date: string;
  stream: string;
  shards: string;
  json?: boolean;
}

/** `quant ingest replay|run|compact` and `quant bars build`. */
export function registerIngest(program: Command): void {
  const ingest = program
    .command('ingest')
    .description('market data: produce ticks into the stream and land them in the lake');
  registerIngestStream(ingest);
  registerIngestNews(ingest);
  ingest
    .command('replay')
    .description(
      'produce ticks into the (local) Kinesis stream from a CSV or Parquet file or a seeded generator',
    )
    .requiredOption('--from <source>', 'csv | parquet | synthetic')
    .option('--file <path>', 'input file for --from csv|parquet')
    .option('--rate <n>', 'events per second (default: as fast as the stream takes them)')
    .option('--symbols <list...>', 'symbols for --from synthetic (comma or space separated)', [
      'AAA',
      'BBB',
      'CCC',
    ])
    .option('--count <n>', 'events per symbol for --from synthetic', '10000')
    .option('--seed <n>', 'seed for --from synthetic', '42')
    .option('--date <YYYY-MM-DD>', 'trading day for --from synthetic', '2026-01-05')
    .option('--stream <name>', 'stream name', 'ticks')
    .option('--shards <n>', 'shards when the local stream is created', '2')
    .option('--json', 'machine-readable output')
    .action(ingestReplay);

  ingest
    .command('run')
    .description(
      'local consumer: read every shard from its checkpoint and write the raw zone (ticks Parquet)',
    )
    .option('--stream <name>', 'stream name', 'ticks')
    .option('--batch-size <n>', 'records per GetRecords', '10000')
    .option('--follow', 'keep polling after the stream is drained (Ctrl-C stops)')
    .option('--json', 'machine-readable output')
    .action(ingestRun);

  ingest
    .command('compact')
    .description(
      'compact the raw ticks of given days: one de-duplicated file per (dt, symbol) (the Glue compaction SQL on DuckDB)',
    )
    .requiredOption('--dt <days...>', 'days (YYYY-MM-DD), comma or space separated')
    .option('--json', 'machine-readable output')
    .action(ingestCompact);

  const bars = program.command('bars').description('bars from ticks');
  bars
    .command('build')
    .description('build bars from the raw ticks into the curated bars table (the Glue bars SQL on DuckDB)')
    .requiredOption('--interval <interval>', '1m | 1d')
    .option('--dt <days...>', 'days to (re)build, YYYY-MM-DD (default: all days)')
    .option('--json', 'machine-readable output')
    .action(ingestBuild);
}

async function ingestReplay(opts: ReplayOpts, cmd: Command): Promise<void> {
  const from = oneOf(opts.from, '--from', ['csv', 'parquet', 'synthetic']);
  let events: Iterable<MarketEvent>;
  if (from === 'synthetic') {
    const symbols = listOf(opts.symbols);
    const bad = symbols.filter((s) => !SYMBOLS.test(s));
    if (symbols.length === 0 || bad.length > 0) {
      throw new InputError(`--symbols: invalid symbol(s) ${bad.join(', ') || '(none given)'}`, 'symbols');
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.date) || Number.isNaN(Date.parse(`${opts.date}T00:00:00Z`))) {
      throw new InputError(`--date: "${opts.date}" is not YYYY-MM-DD`, 'date');
    }
    events = syntheticTicks({
      symbols,
      eventsPerSymbol: int(opts.count, '--count', positive),
      seed: Number(opts.seed) | 0,
      date: opts.date,
    });
  } else {
    if (!opts.file) throw new InputError(`--file: required with --from ${opts.from}`, 'file');
    if (!opts.file.toLowerCase().endsWith(`.${opts.from}`)) {
      throw new InputError(`--file: ${opts.file} is not a .${opts.from} file`, 'file');
    }
    events = await readReplayFile(opts.file);
  }
  const rate = opts.rate === undefined ? undefined : Number(opts.rate);
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    if (ctx.runtime.mode === 'local')
      await ensureStream(ctx.clients.kinesis, opts.stream, int(opts.shards, '--shards', positive));
    const t0 = performance.now();
    const stats = await replay({ kinesis: ctx.clients.kinesis, stream: opts.stream, events, rate });
    const secs = (performance.now() - t0) / 1000;
    const summary = { stream: opts.stream, ...stats, seconds: Number(secs.toFixed(2)) };
    if (opts.json) printJson(summary);
    else
      console.log(
        `sent ${stats.eventsSent} ticks in ${stats.recordsSent} Kinesis records (${stats.requests} requests, ${stats.recordRetries} retried) to ${opts.stream} in ${secs.toFixed(1)} s`,
      );
  });
}

async function ingestRun(
  opts: { stream: string; batchSize: string; follow?: boolean; json?: boolean },
  cmd: Command,
): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const batchSize = int(opts.batchSize, '--batch-size', positive);
  await withPlatform(g, async (ctx) => {
    if (ctx.runtime.mode !== 'local') {
      throw new InputError(
        'ingest run is the local consumer; in AWS the IngestionStack Lambda consumes the stream',
        'aws',
      );
    }
    await ensureStream(ctx.clients.kinesis, opts.stream);
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    try {
      const report = await runConsumer({
        kinesis: ctx.clients.kinesis,
        consumer: { s3: ctx.clients.s3, rawBucket: ctx.buckets.raw },
        stream: opts.stream,
        checkpoints: new FileCheckpointStore(checkpointFile(dataDirOf(g), opts.stream)),
        batchSize,
        follow: opts.follow,
        signal: ac.signal,
      });
      const q = Object.values(report.quarantined).reduce((a, b) => a + b, 0);
      if (opts.json) printJson(report);
      else
        console.log(
          `${report.batches} batch(es), ${report.records} records, ${report.written} ticks written, ${q} quarantined${q > 0 ? ` (${JSON.stringify(report.quarantined)})` : ''}`,
        );
    } finally {
      process.off('SIGINT', stop);
    }
  });
}

async function ingestCompact(opts: { dt: string[]; json?: boolean }, cmd: Command): Promise<void> {
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const r = await compactTicks(ctx, { dts: listOf(opts.dt) });
    if (opts.json) printJson(r);
    else
      console.log(
        `compacted ${r.inputFiles} file(s), ${r.rowsIn} rows -> ${r.rowsOut} rows in ${r.partitions} partition(s)`,
      );
  });
}

async function ingestBuild(
  opts: { interval: string; dt?: string[]; json?: boolean },
  cmd: Command,
): Promise<void> {
  const interval = oneOf(opts.interval, '--interval', ['1m', '1d']);
  await withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
    const r = await buildBars(ctx, { interval, dts: listOf(opts.dt) });
    if (r.bars > 0)
      await publishBarsUpdated(
        ctx.runtime,
        () => ctx.clients.eventBridge,
        barsUpdatedDetail(interval, r.symbols, r.ts ?? [], r.bars),
      );
    if (opts.json)
      printJson({ interval, bars: r.bars, symbols: r.symbols, partitions: r.partitions, bytes: r.bytes });
    else
      console.log(
        `built ${r.bars} ${interval} bars of ${r.symbols.join(', ') || 'no symbols'} into ${r.partitions} partition(s)`,
      );
  });
}
