/**
 * Turns one batch of Kinesis records from one shard into lake files: de-aggregates, decodes,
 * validates, writes the good ticks as Parquet into the raw zone (`ticks/dt=/symbol=/`) and the bad
 * ones, with their reason, into `quarantine/ticks/`. Shared by the Lambda handler and the local runner.
 *
 * Idempotence: every object written for a batch is named by (shard, first sequence number, last
 * sequence number), so a retried batch overwrites its own files. A batch that is retried with a
 * different composition (Lambda may re-read from a later record) can duplicate rows across files;
 * compaction removes those by (symbol, venue, seq).
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { asEvent, DecodedTick, DecodeError } from '../market-data/codec';
import { eventProblem } from '../market-data/validate';
import { deaggregateSpans, UserRecordSpans } from './kpl';
import { TickColumns } from './parquet';
import { LAKE_PREFIXES } from '../contract/lake';
import { mapLimit } from '../map-limit';

export interface KinesisRecordIn {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Arrival time in ms (used to date quarantined records that cannot be decoded). */
  readonly arrivalMs?: number;
}

export interface ShardBatch {
  readonly shardId: string;
  readonly records: readonly KinesisRecordIn[];
}

export type QuarantineReason = 'undecodable' | 'invalid' | 'duplicate_seq' | 'out_of_order_ts';

export interface QuarantineEntry {
  readonly reason: QuarantineReason;
  readonly detail: string;
  readonly sequenceNumber: string;
  readonly subSequence: number;
  readonly partitionKey: string;
  /** The user record's bytes, base64. */
  readonly data: string;
}

/** Per-(symbol, venue) high-water marks carried between batches of one shard. */
export interface StreamPosition {
  seq: number;
  exchangeTs: bigint;
}
export type ShardState = Map<string, StreamPosition>;

export interface ConsumerDeps {
  readonly s3: S3Client;
  readonly rawBucket: string;
  /** @default 'ticks' */
  readonly ticksPrefix?: string;
  /** @default 'quarantine/ticks' */
  readonly quarantinePrefix?: string;
  /** Concurrent PUTs. @default 8 */
  readonly concurrency?: number;
}

export interface BatchReport {
  readonly records: number;
  /** User records seen (an undecodable aggregated record counts as one); = written + quarantined. */
  readonly events: number;
  readonly written: number;
  readonly quarantined: Readonly<Record<QuarantineReason, number>>;
  readonly keys: readonly string[];
  readonly bytes: number;
}

const DAY_NS = 86_400_000_000_000n;

function utcDate(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 10);
}

/** Object name stem for a batch: deterministic per (shard, sequence range). */
export function batchFileStem(batch: ShardBatch): string {
  const first = batch.records[0].sequenceNumber;
  const last = batch.records[batch.records.length - 1].sequenceNumber;
  return `${batch.shardId}-${first}-${last}`;
}

export interface DecodedBatch {
  /** `dt=.../symbol=...` → rows. */
  readonly partitions: Map<string, TickColumns>;
  readonly quarantine: QuarantineEntry[];
  readonly events: number;
  readonly written: number;
  /** The shard state after this batch (commit it only once the batch is stored). */
  readonly nextState: ShardState;
}

interface KeyState {
  readonly id: string;
  /** High-water mark committed by earlier batches. */
  readonly prior: StreamPosition | undefined;
  /** High-water mark including this batch (shared with nextState). */
  pos: StreamPosition | undefined;
  seqs: number[];
  seen: Set<number> | undefined;
  dayStart: bigint;
  dayEnd: bigint;
  cols: TickColumns | undefined;
}

/** The pure part: decode, validate and partition a batch (no I/O). */
export function decodeBatch(batch: ShardBatch, state: ShardState = new Map()): DecodedBatch {
  const next: ShardState = new Map();
  for (const [k, v] of state) next.set(k, { ...v });
  const partitions = new Map<string, TickColumns>();
  const quarantine: QuarantineEntry[] = [];
  // Per (symbol, venue): nested maps avoid building a key string per tick.
  const keys = new Map<string, Map<string, KeyState>>();
  // Consecutive ticks mostly share symbol and venue (records are per symbol): remember the last one.
  let lastKey: KeyState | undefined;
  let lastSymbol = '';
  let lastVenue = '';
  const keyState = (symbol: string, venue: string): KeyState => {
    if (lastKey !== undefined && symbol === lastSymbol && venue === lastVenue) return lastKey;
    lastSymbol = symbol;
    lastVenue = venue;
    lastKey = lookupKey(symbol, venue);
    return lastKey;
  };
  const lookupKey = (symbol: string, venue: string): KeyState => {
    let byVenue = keys.get(symbol);
    if (!byVenue) keys.set(symbol, (byVenue = new Map()));
    let k = byVenue.get(venue);
    if (!k) {
      const id = `${symbol}\u0000${venue}`;
      const prior = state.get(id);
      k = {
        id,
        prior,
        pos: next.get(id),
        seqs: [],
        seen: undefined,
        dayStart: 0n,
        dayEnd: 0n,
        cols: undefined,
      };
      byVenue.set(venue, k);
    }
    return k;
  };
  let events = 0;
  let written = 0;
  const q = (
    reason: QuarantineReason,
    detail: string,
    r: KinesisRecordIn,
    sub: number,
    pk: string,
    data: Uint8Array,
  ): void => {
    quarantine.push({
      reason,
      detail,
      sequenceNumber: r.sequenceNumber,
      subSequence: sub,
      partitionKey: pk,
      data: Buffer.from(data.buffer, data.byteOffset, data.length).toString('base64'),
    });
  };

  // One reused span list and one reused decode buffer: no object per tick on the hot path.
  const spans = new UserRecordSpans();
  const tick = new DecodedTick();
  for (const r of batch.records) {
    try {
      deaggregateSpans(r.data, r.partitionKey, spans);
    } catch (err) {
      // Counted as one event so that written + quarantined always equals events.
      events++;
      q('undecodable', `aggregated record: ${(err as Error).message}`, r, -1, r.partitionKey, r.data);
      continue;
    }
    const buf = spans.buf;
    for (let sub = 0; sub < spans.count; sub++) {
      events++;
      const start = spans.starts[sub];
      const end = spans.ends[sub];
      try {
        tick.decode(buf, start, end);
      } catch (err) {
        const reason = err instanceof DecodeError ? `${err.reason}: ${err.message}` : String(err);
        q('undecodable', reason, r, sub, spans.keys[spans.keyIndex[sub]], buf.subarray(start, end));
        continue;
      }
      const e = asEvent(tick);
      const problem = eventProblem(e);
      if (problem !== null) {
        q('invalid', problem, r, sub, spans.keys[spans.keyIndex[sub]], buf.subarray(start, end));
        continue;
      }
      const k = keyState(e.symbol, e.venue);
      const pos = k.pos;
      // In order (the common case) a seq above the high-water mark cannot have been seen before;
      // only a late seq needs the set, which is built from the list the first time it is needed.
      const late = pos !== undefined && e.seq <= pos.seq;
      if (late && k.seen === undefined) k.seen = new Set(k.seqs);
      if ((late && k.seen!.has(e.seq)) || (k.prior !== undefined && e.seq <= k.prior.seq)) {
        q(
          'duplicate_seq',
          `seq ${e.seq} of ${e.symbol}@${e.venue} already received`,
          r,
          sub,
          spans.keys[spans.keyIndex[sub]],
          buf.subarray(start, end),
        );
        continue;
      }
      if (pos !== undefined && !late && e.exchangeTs < pos.exchangeTs) {
        q(
          'out_of_order_ts',
          `seq ${e.seq} has exchangeTs ${e.exchangeTs} before ${pos.exchangeTs} of seq ${pos.seq}`,
          r,
          sub,
          spans.keys[spans.keyIndex[sub]],
          buf.subarray(start, end),
        );
        continue;
      }
      k.seqs.push(e.seq);
      k.seen?.add(e.seq);
      if (pos === undefined) {
        k.pos = { seq: e.seq, exchangeTs: e.exchangeTs };
        next.set(k.id, k.pos);
      } else if (!late) {
        pos.seq = e.seq;
        pos.exchangeTs = e.exchangeTs;
      }
      // The partition (dt, symbol) changes only at midnight: compare against the cached day.
      if (k.cols === undefined || e.exchangeTs < k.dayStart || e.exchangeTs >= k.dayEnd) {
        k.dayStart = e.exchangeTs - (e.exchangeTs % DAY_NS);
        k.dayEnd = k.dayStart + DAY_NS;
        const part = `dt=${utcDate(k.dayStart)}/symbol=${e.symbol}`;
        let cols = partitions.get(part);
        if (!cols) partitions.set(part, (cols = new TickColumns()));
        k.cols = cols;
      }
      k.cols.push(e);
      written++;
    }
  }
  return { partitions, quarantine, events, written, nextState: next };
}

/**
 * Processes one shard batch: writes every partition file and the quarantine file, then (only then)
 * advances `state`. Throws if any write fails; the caller retries the same batch.
 */
export async function processShardBatch(
  deps: ConsumerDeps,
  batch: ShardBatch,
  state: ShardState = new Map(),
): Promise<BatchReport> {
  const counts: Record<QuarantineReason, number> = {
    undecodable: 0,
    invalid: 0,
    duplicate_seq: 0,
    out_of_order_ts: 0,
  };
  if (batch.records.length === 0)
    return { records: 0, events: 0, written: 0, quarantined: counts, keys: [], bytes: 0 };
  const d = decodeBatch(batch, state);
  const stem = batchFileStem(batch);
  const ticksPrefix = deps.ticksPrefix ?? 'ticks';
  const qPrefix = deps.quarantinePrefix ?? LAKE_PREFIXES.quarantine;
  const puts: Array<{ key: string; body: () => Uint8Array | Promise<Uint8Array>; type: string }> = [];
  for (const [part, cols] of d.partitions) {
    puts.push({
      key: `${ticksPrefix}/${part}/${stem}.parquet`,
      body: () => cols.toParquet(),
      type: 'application/vnd.apache.parquet',
    });
  }
  if (d.quarantine.length > 0) {
    for (const e of d.quarantine) counts[e.reason]++;
    const arrival = batch.records[0].arrivalMs ?? Date.now();
    const dt = new Date(arrival).toISOString().slice(0, 10);
    const lines = d.quarantine.map((e) => JSON.stringify(e)).join('\n') + '\n';
    puts.push({
      key: `${qPrefix}/dt=${dt}/${stem}.jsonl`,
      body: () => Buffer.from(lines),
      type: 'application/x-ndjson',
    });
  }
  let bytes = 0;
  await mapLimit(puts, deps.concurrency ?? 8, async (p) => {
    const body = await p.body();
    bytes += body.length;
    await deps.s3.send(
      new PutObjectCommand({ Bucket: deps.rawBucket, Key: p.key, Body: body, ContentType: p.type }),
    );
  });
  // Committed: advance the carried state in place.
  state.clear();
  for (const [k, v] of d.nextState) state.set(k, v);
  return {
    records: batch.records.length,
    events: d.events,
    written: d.written,
    quarantined: counts,
    keys: puts.map((p) => p.key).sort(),
    bytes,
  };
}
