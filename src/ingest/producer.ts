/**
 * Kinesis producer for market events: KPL aggregation, PutRecords batching (≤ 500 records, ≤ 5 MiB),
 * partition key per symbol, retry of only the failed records with exponential backoff and full
 * jitter, bounded memory (put() waits while too many bytes are buffered or in flight), and every
 * failure counted and handed to `onFailure`: nothing is dropped silently.
 *
 * Order per partition key: PutRecords does not keep the order of records in one request when one of
 * them fails, nor across concurrent requests. So, by default, a key has at most one record in flight
 * (or waiting for its retry) at a time, and its next record waits; with aggregation a record holds
 * many events, so this costs little.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisClient, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { encodeEvent } from '../market-data/codec';
import type { MarketEvent } from '../market-data/events';
import { aggregate, aggregateOverhead, aggregatedEntrySize } from './kpl';

/** Kinesis service limits. */
export const KINESIS_MAX_RECORDS_PER_REQUEST = 500;
export const KINESIS_MAX_REQUEST_BYTES = 5 * 1024 * 1024;
export const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;

export interface ProducerOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /** Pack many events into one Kinesis record (KPL format). @default true */
  readonly aggregate?: boolean;
  /** Target size of one aggregated record; KPL's default is 50 KiB. @default 51200 */
  readonly maxAggregatedBytes?: number;
  /** @default 500 */
  readonly maxRecordsPerRequest?: number;
  /** @default 5 MiB */
  readonly maxRequestBytes?: number;
  /** Back-pressure: put() waits while more than this many encoded bytes are buffered or in flight. @default 16 MiB */
  readonly maxBufferedBytes?: number;
  /** Concurrent PutRecords calls. @default 4 */
  readonly maxConcurrentRequests?: number;
  /** A partly filled request is sent after this long. @default 50 */
  readonly lingerMs?: number;
  /** Attempts per record before it counts as failed. @default 8 */
  readonly maxAttempts?: number;
  /** @default 50 */
  readonly baseBackoffMs?: number;
  /** @default 5000 */
  readonly maxBackoffMs?: number;
  /** @default the event's symbol (so every symbol keeps its order on one shard) */
  readonly partitionKey?: (e: MarketEvent) => string;
  /** Called with the events of every record that finally failed, and the last error code. */
  readonly onFailure?: (events: number, errorCode: string, partitionKey: string) => void;
  /**
   * Keep each partition key's records in order in the stream (one record per key in flight).
   * Without it a failed-then-retried or concurrently sent record can land after a later one.
   * @default true
   */
  readonly preserveOrder?: boolean;
  /** For tests: jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
}

export interface ProducerStats {
  /** Events handed to put(). */
  eventsAccepted: number;
  /** Events whose Kinesis record was acknowledged. */
  eventsSent: number;
  /** Events whose record failed after every attempt (also reported to onFailure). */
  eventsFailed: number;
  /** Kinesis records acknowledged. */
  recordsSent: number;
  /** PutRecords calls made, retries included. */
  requests: number;
  /** Records sent again after a per-record failure or a failed call. */
  recordRetries: number;
  /** Per-record throttling errors (ProvisionedThroughputExceededException). */
  throttled: number;
  /** Payload bytes acknowledged (data + partition keys). */
  bytesSent: number;
  /** Times put() had to wait for buffer space. */
  backpressureWaits: number;
  /** Largest number of encoded bytes held at once (buffered + in flight). */
  peakBufferedBytes: number;
}

interface PendingRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly events: number;
  attempts: number;
  lastError: string;
}

interface Builder {
  payloads: Uint8Array[];
  bytes: number;
}

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in
 * [0, min(cap, base * 2^attempt)), so producers throttled together do not retry in lockstep.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return random() * Math.min(capMs, baseMs * 2 ** attempt);
}

export class ProducerError extends Error {
  constructor(
    message: string,
    readonly stats: ProducerStats,
  ) {
    super(message);
    this.name = 'ProducerError';
  }
}

export class TickProducer {
  private readonly o: Required<Omit<ProducerOptions, 'onFailure'>> & Pick<ProducerOptions, 'onFailure'>;
  private readonly builders = new Map<string, Builder>();
  private ready: PendingRecord[] = [];
  private readyBytes = 0;
  private buffered = 0;
  private inFlight = 0;
  private retryTimers = 0;
  /** Keys with a record in flight or waiting for its retry (preserveOrder). */
  private readonly busyKeys = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  readonly stats: ProducerStats = {
    eventsAccepted: 0,
    eventsSent: 0,
    eventsFailed: 0,
    recordsSent: 0,
    requests: 0,
    recordRetries: 0,
    throttled: 0,
    bytesSent: 0,
    backpressureWaits: 0,
    peakBufferedBytes: 0,
  };

  constructor(opts: ProducerOptions) {
    this.o = {
      aggregate: true,
      maxAggregatedBytes: 51_200,
      maxRecordsPerRequest: KINESIS_MAX_RECORDS_PER_REQUEST,
      maxRequestBytes: KINESIS_MAX_REQUEST_BYTES,
      maxBufferedBytes: 16 * 1024 * 1024,
      maxConcurrentRequests: 4,
      lingerMs: 50,
      maxAttempts: 8,
      baseBackoffMs: 50,
      maxBackoffMs: 5000,
      partitionKey: (e) => e.symbol,
      preserveOrder: true,
      random: Math.random,
      ...opts,
    };
    if (this.o.maxRecordsPerRequest < 1 || this.o.maxRecordsPerRequest > KINESIS_MAX_RECORDS_PER_REQUEST)
      throw new RangeError(`maxRecordsPerRequest must be 1..${KINESIS_MAX_RECORDS_PER_REQUEST}`);
    if (this.o.maxRequestBytes > KINESIS_MAX_REQUEST_BYTES)
      throw new RangeError(`maxRequestBytes must be <= ${KINESIS_MAX_REQUEST_BYTES}`);
    if (this.o.maxAggregatedBytes > KINESIS_MAX_RECORD_BYTES - 256)
      throw new RangeError('maxAggregatedBytes must leave room for the partition key under 1 MiB');
  }

  /** Queues one event; resolves once it is buffered (waits while the buffer is full). */
  async put(e: MarketEvent): Promise<void> {
    while (this.buffered >= this.o.maxBufferedBytes) {
      this.stats.backpressureWaits++;
      this.pump();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.add(e);
  }

  async putAll(events: Iterable<MarketEvent>): Promise<void> {
    for (const e of events) {
      if (this.buffered >= this.o.maxBufferedBytes) await this.put(e);
      else this.add(e);
    }
  }

  private add(e: MarketEvent): void {
    const data = encodeEvent(e);
    const key = this.o.partitionKey(e);
    this.stats.eventsAccepted++;
    this.buffered += data.length;
    if (this.buffered > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = this.buffered;
    if (!this.o.aggregate) {
      this.enqueue({ partitionKey: key, data, events: 1, attempts: 0, lastError: '' });
      return;
    }
    let b = this.builders.get(key);
    const entry = aggregatedEntrySize(data.length);
    if (b && b.bytes + entry > this.o.maxAggregatedBytes) {
      this.seal(key, b);
      b = undefined;
    }
    if (!b) {
      b = { payloads: [], bytes: aggregateOverhead([key]) };
      this.builders.set(key, b);
    }
    b.payloads.push(data);
    b.bytes += entry;
    this.armTimer();
  }

  private seal(key: string, b: Builder): void {
    this.builders.delete(key);
    const data =
      b.payloads.length === 1
        ? b.payloads[0]
        : aggregate(b.payloads.map((d) => ({ partitionKey: key, data: d })));
    const raw = b.payloads.reduce((s, p) => s + p.length, 0);
    this.buffered += data.length - raw;
    this.enqueue({ partitionKey: key, data, events: b.payloads.length, attempts: 0, lastError: '' });
  }

  private enqueue(r: PendingRecord): void {
    this.ready.push(r);
    this.readyBytes += r.data.length + r.partitionKey.length;
    if (this.ready.length >= this.o.maxRecordsPerRequest || this.readyBytes >= this.o.maxRequestBytes)
      this.pump();
    else this.armTimer();
  }

  private armTimer(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sealAll();
      this.pump(true);
    }, this.o.lingerMs);
  }

  private sealAll(): void {
    for (const [k, b] of [...this.builders]) this.seal(k, b);
  }

  /** Sends full requests (or partial ones when `partial`) while concurrency allows. */
  private pump(partial = false): void {
    while (this.ready.length > 0 && this.inFlight < this.o.maxConcurrentRequests) {
      const full =
        this.ready.length >= this.o.maxRecordsPerRequest || this.readyBytes >= this.o.maxRequestBytes;
      if (!full && !partial) break;
      const batch = this.o.preserveOrder ? this.takeOrdered() : this.takeInOrder();
      if (batch.length === 0) break; // every waiting key has a record in flight
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.pump(partial || this.idleWaiters.length > 0);
        this.checkIdle();
      });
    }
  }

  /** The next records in queue order, up to the request limits. */
  private takeInOrder(): PendingRecord[] {
    const batch: PendingRecord[] = [];
    let bytes = 0;
    while (batch.length < this.o.maxRecordsPerRequest && this.ready.length > 0) {
      const r = this.ready[0];
      const size = r.data.length + r.partitionKey.length;
      if (batch.length > 0 && bytes + size > this.o.maxRequestBytes) break;
      batch.push(this.ready.shift() as PendingRecord);
      bytes += size;
    }
    this.readyBytes -= bytes;
    return batch;
  }

  /**
   * At most one record per key, none of a busy key, and never a key's later record before an
   * earlier one that was left waiting (once a key is passed over, it is passed over for the pass).
   */
  private takeOrdered(): PendingRecord[] {
    const batch: PendingRecord[] = [];
    const rest: PendingRecord[] = [];
    const seen = new Set<string>();
    let bytes = 0;
    // Look at a bounded prefix: without aggregation the queue can hold ~10^5 single-event records of
    // a few keys, and scanning all of them for every request would be quadratic.
    const scan = Math.min(this.ready.length, 10_000);
    for (let i = 0; i < scan; i++) {
      const r = this.ready[i];
      const key = r.partitionKey;
      const size = r.data.length + key.length;
      const fits =
        batch.length < this.o.maxRecordsPerRequest &&
        (batch.length === 0 || bytes + size <= this.o.maxRequestBytes);
      if (fits && !seen.has(key) && !this.busyKeys.has(key)) {
        batch.push(r);
        bytes += size;
        this.busyKeys.add(key);
      } else rest.push(r);
      seen.add(key);
    }
    for (let i = scan; i < this.ready.length; i++) rest.push(this.ready[i]);
    this.ready = rest;
    this.readyBytes -= bytes;
    return batch;
  }

  private async send(batch: PendingRecord[]): Promise<void> {
    this.stats.requests++;
    const entries: PutRecordsRequestEntry[] = batch.map((r) => ({
      PartitionKey: r.partitionKey,
      Data: r.data,
    }));
    let failed: PendingRecord[] = [];
    try {
      const res = await this.o.kinesis.send(
        new PutRecordsCommand({ StreamName: this.o.streamName, Records: entries }),
      );
      const results = res.Records ?? [];
      for (let i = 0; i < batch.length; i++) {
        const code = results[i]?.ErrorCode;
        if (code) {
          if (code === 'ProvisionedThroughputExceededException') this.stats.throttled++;
          batch[i].lastError = code;
          failed.push(batch[i]);
        } else this.done(batch[i]);
      }
    } catch (err) {
      // The whole call failed (network, throttled call, expired credentials): every record is retried.
      const code = err instanceof Error ? err.name : String(err);
      for (const r of batch) r.lastError = code;
      failed = batch;
    }
    if (failed.length > 0) this.retry(failed);
  }

  private done(r: PendingRecord): void {
    this.busyKeys.delete(r.partitionKey);
    this.stats.recordsSent++;
    this.stats.eventsSent += r.events;
    this.stats.bytesSent += r.data.length + r.partitionKey.length;
    this.release(r);
  }

  private release(r: PendingRecord): void {
    this.buffered -= r.data.length;
    if (this.buffered < this.o.maxBufferedBytes && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  private retry(failed: PendingRecord[]): void {
    const again: PendingRecord[] = [];
    let maxAttempt = 0;
    for (const r of failed) {
      r.attempts++;
      if (r.attempts >= this.o.maxAttempts) {
        this.busyKeys.delete(r.partitionKey);
        this.stats.eventsFailed += r.events;
        this.release(r);
        this.o.onFailure?.(r.events, r.lastError, r.partitionKey);
      } else {
        again.push(r);
        maxAttempt = Math.max(maxAttempt, r.attempts);
      }
    }
    if (again.length === 0) return;
    this.stats.recordRetries += again.length;
    const delay = backoffDelay(maxAttempt, this.o.baseBackoffMs, this.o.maxBackoffMs, this.o.random);
    this.retryTimers++;
    setTimeout(() => {
      this.retryTimers--;
      // Retried records go to the front; their keys were kept busy, so nothing overtook them.
      for (const r of again) this.busyKeys.delete(r.partitionKey);
      this.ready.unshift(...again);
      this.readyBytes += again.reduce((s, r) => s + r.data.length + r.partitionKey.length, 0);
      this.pump(true);
      this.checkIdle();
    }, delay);
  }

  private checkIdle(): void {
    if (
      this.inFlight === 0 &&
      this.retryTimers === 0 &&
      this.ready.length === 0 &&
      this.builders.size === 0
    ) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Sends everything buffered and waits until every record is acknowledged or has failed. */
  async flush(): Promise<ProducerStats> {
    this.sealAll();
    // After sealing: sealing queues records, and queueing arms the linger timer, which would keep
    // the process alive for lingerMs after everything was sent.
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const idle = new Promise<void>((r) => this.idleWaiters.push(r));
    this.pump(true);
    this.checkIdle();
    await idle;
    return { ...this.stats };
  }

  /** Flushes; throws ProducerError when any event failed (after they were reported to onFailure). */
  async close(): Promise<ProducerStats> {
    const s = await this.flush();
    if (s.eventsFailed > 0) {
      throw new ProducerError(
        `${s.eventsFailed} of ${s.eventsAccepted} events could not be delivered to Kinesis`,
        s,
      );
    }
    return s;
  }
}
