/**
 * `quant ingest replay`: reads ticks from a CSV or Parquet file (or generates synthetic ones),
 * validates all of them before sending any, and produces them into a stream at an optional rate.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { InputError } from '../errors';
import { parquetRows } from '../lake/parquet-read';
import type { MarketEvent } from '../market-data/events';
import { parseMarketEvent } from '../market-data/validate';
import { TickProducer, type ProducerStats } from './producer';
import { syntheticTicks } from './synthetic';

/** Columns of a replay file (the ticks table's names; unused ones may be empty). */
export const REPLAY_COLUMNS = [
  'type',
  'symbol',
  'venue',
  'seq',
  'exchange_ts',
  'receive_ts',
  'price',
  'size',
  'bid',
  'bid_size',
  'ask',
  'ask_size',
  'side',
  'action',
  'level',
] as const;

function rowToEvent(r: Record<string, unknown>, where: string): MarketEvent {
  const v = (k: string): unknown => (r[k] === '' || r[k] === null ? undefined : r[k]);
  const type = v('type');
  const base = {
    type,
    symbol: v('symbol'),
    venue: v('venue'),
    seq: v('seq'),
    exchangeTs: typeof v('exchange_ts') === 'number' ? String(v('exchange_ts')) : v('exchange_ts'),
    receiveTs: typeof v('receive_ts') === 'number' ? String(v('receive_ts')) : v('receive_ts'),
  };
  const body =
    type === 'trade'
      ? { price: v('price'), size: v('size') }
      : type === 'quote'
        ? { bid: v('bid'), bidSize: v('bid_size'), ask: v('ask'), askSize: v('ask_size') }
        : { side: v('side'), action: v('action'), level: v('level'), price: v('price'), size: v('size') };
  return parseMarketEvent({ ...base, ...body }, where);
}

const MAX_REPORTED = 20;

function collect(rows: Iterable<[Record<string, unknown>, string]>): MarketEvent[] {
  const out: MarketEvent[] = [];
  const errors: string[] = [];
  let bad = 0;
  for (const [r, where] of rows) {
    try {
      out.push(rowToEvent(r, where));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      bad++;
      if (errors.length < MAX_REPORTED) errors.push(err.message.replace(/^invalid market event: /, ''));
    }
  }
  if (bad > 0) {
    throw new InputError(
      `${bad} bad row(s), nothing was sent:\n  ${errors.join('\n  ')}${bad > errors.length ? `\n  ... and ${bad - errors.length} more` : ''}`,
    );
  }
  return out;
}

/** Parses a ticks CSV (header row with REPLAY_COLUMNS names; timestamps as integer ns). */
export function parseTicksCsv(text: string, file: string): MarketEvent[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(',').map((h) => h.trim());
  if (!header || !header.includes('type') || !header.includes('symbol')) {
    throw new InputError(`${file}:1: header must name the columns (${REPLAY_COLUMNS.join(',')})`, file);
  }
  const unknown = header.filter((h) => !(REPLAY_COLUMNS as readonly string[]).includes(h));
  if (unknown.length > 0) throw new InputError(`${file}:1: unknown column(s) ${unknown.join(', ')}`, file);
  const name = path.basename(file);
  function* rows(): Generator<[Record<string, unknown>, string]> {
    for (let i = 1; i < lines.length; i++) {
      if (lines[i].trim() === '') continue;
      const cells = lines[i].split(',');
      if (cells.length !== header.length) {
        yield [
          { type: '__bad_arity__' },
          `${name}:${i + 1}(expected ${header.length} fields, got ${cells.length})`,
        ];
        continue;
      }
      yield [Object.fromEntries(header.map((h, j) => [h, cells[j].trim()])), `${name}:${i + 1}`];
    }
  }
  return collect(rows());
}

export async function readReplayFile(file: string): Promise<MarketEvent[]> {
  const ext = path.extname(file).toLowerCase();
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new InputError(`--file: cannot read ${file}: ${(err as Error).message}`, 'file');
  }
  if (ext === '.csv') return parseTicksCsv(bytes.toString('utf8'), file);
  if (ext === '.parquet') {
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetRows(bytes);
    } catch (err) {
      throw new InputError(`${file}: not a readable Parquet file (${(err as Error).message})`, 'file');
    }
    const name = path.basename(file);
    return collect(
      rows.map((r, i): [Record<string, unknown>, string] => [
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v])),
        `${name}:row ${i + 1}`,
      ]),
    );
  }
  throw new InputError(`--file: ${file} must end in .csv or .parquet`, 'file');
}

export interface ReplayOptions {
  readonly kinesis: KinesisClient;
  readonly stream: string;
  readonly events: Iterable<MarketEvent>;
  /** Events per second (unlimited when absent). */
  readonly rate?: number;
  readonly onProgress?: (sent: number) => void;
  readonly aggregate?: boolean;
}

/** Produces the events; resolves with the producer's stats, throws ProducerError if any failed. */
export async function replay(o: ReplayOptions): Promise<ProducerStats> {
  if (o.rate !== undefined && !(o.rate > 0 && Number.isFinite(o.rate))) {
    throw new InputError(`--rate: must be a positive number of events per second, got ${o.rate}`, 'rate');
  }
  const p = new TickProducer({ kinesis: o.kinesis, streamName: o.stream, aggregate: o.aggregate ?? true });
  const started = performance.now();
  let n = 0;
  for (const e of o.events) {
    await p.put(e);
    n++;
    if (o.rate !== undefined && n % 100 === 0) {
      const due = started + (n / o.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (n % 10_000 === 0) o.onProgress?.(n);
  }
  return p.close();
}

export { syntheticTicks };
