/**
 * The feed thread's side of the decoder worker: a SequencedPacketSink that writes packets, gaps and
 * restarts into the shared packet ring and never waits. When the worker falls so far behind that the
 * ring is full, packets are dropped for decoding only (they were already relayed) and the worker is
 * told of a gap up to the last one dropped, so its books recover from the snapshot loop.
 *
 * A worker that dies (a bug in decoding) is replaced by a fresh one that starts in recovery, so the
 * books come back from the snapshot loop while the relay never stops.
 */
import { Worker } from 'node:worker_threads';
import { entryPoint, hasBuild } from '../entry-points';
import type { OrderEvent, QuoteEvent, TradeEvent } from '../market-data/events';
import type { SbeCodec } from '../sbe/codec';
import type { EngineStatus } from './book-engine';
import {
  RECORD,
  type DecoderEngineOptions,
  type DecoderMessage,
  type DecoderWorkerData,
  type EngineStats,
} from './decoder-worker';
import { createPacketRing, PacketRingWriter, type PacketRingBuffers } from './packet-ring';
import type { SequencedPacketSink } from './sequencer';

export type DecoderThreadOptions = DecoderEngineOptions & {
  /**
   * Bytes of packets the worker may fall behind by before packets are dropped for decoding (the
   * books then recover from the snapshot loop). 64 MiB is ~3 s of a busy channel. @default 64 MiB
   */
  readonly ringBytes?: number;
  /** Order events of the market-by-order books (sets `orderEvents`). */
  readonly onOrder?: (e: OrderEvent) => void;
};

export type DecoderThreadStats = DecoderThread['stats'];

type Pending = { kind: number; value: number };

export class DecoderThread implements SequencedPacketSink {
  readonly stats = {
    /** Packets not decoded because the ring was full (relayed all the same). */
    droppedPackets: 0,
    droppedSnapshots: 0,
    /** Workers replaced after dying. */
    restarts: 0,
    lastError: undefined as string | undefined,
  };
  private ring!: PacketRingBuffers;
  private writer!: PacketRingWriter;
  private worker!: Worker;
  /** Control records (gaps, restarts) waiting for room in the ring, in order. */
  private pending: Pending[] = [];
  private latest: EngineStats | undefined;
  private closing: Promise<EngineStats> | null = null;
  private finished: ((s: EngineStats) => void) | null = null;

  private constructor(
    private readonly codec: SbeCodec,
    private readonly opts: DecoderThreadOptions,
    private readonly onEvent: (e: TradeEvent | QuoteEvent) => void,
    private readonly onStatus: (s: EngineStatus) => void,
  ) {}

  /** Starts the worker; packets can be written at once (the ring holds them until it is up). */
  static start(
    codec: SbeCodec,
    onEvent: (e: TradeEvent | QuoteEvent) => void,
    onStatus: (s: EngineStatus) => void = () => {},
    opts: DecoderThreadOptions = {},
  ): DecoderThread {
    const t = new DecoderThread(codec, opts, onEvent, onStatus);
    t.spawn(opts);
    return t;
  }

  /** The engine's latest counters (at most ~100 ms old), or undefined before the first report. */
  get engineStats(): EngineStats | undefined {
    return this.latest;
  }

  /** Bytes written to the ring and not yet decoded. */
  get backlogBytes(): number {
    return this.writer.pendingBytes;
  }

  incremental(buf: Buffer, rxTime: number): void {
    if (this.flushPending() && this.writer.write(RECORD.incremental, rxTime, buf)) return;
    this.stats.droppedPackets++;
    this.addPending(RECORD.gap, buf.readUInt32LE(0));
  }

  snapshotGap(to: number): void {
    this.addPending(RECORD.gap, to);
    this.flushPending();
  }

  sequenceRestart(): void {
    this.addPending(RECORD.restart, 0);
    this.flushPending();
  }

  /** A packet of the snapshot (market recovery) feed; dropped when the ring is full (the loop comes round again). */
  onSnapshot(buf: Buffer): void {
    if (!(this.flushPending() && this.writer.write(RECORD.snapshot, 0, buf))) this.stats.droppedSnapshots++;
  }

  /** Lets the worker decode everything written, then stops it; resolves with its final counters. */
  close(): Promise<EngineStats> {
    this.closing ??= (async () => {
      const done = new Promise<EngineStats>((resolve) => (this.finished = resolve));
      while (!(this.flushPending() && this.writer.write(RECORD.end, 0)))
        await new Promise((resolve) => setTimeout(resolve, 1));
      const stats = await done;
      await this.worker.terminate();
      return stats;
    })();
    return this.closing;
  }

  private addPending(kind: number, value: number): void {
    const last = this.pending.at(-1);
    // Consecutive gaps merge: the worker only needs the last sequence number lost.
    if (kind === RECORD.gap && last?.kind === RECORD.gap) last.value = Math.max(last.value, value);
    else this.pending.push({ kind, value });
  }

  /** Writes waiting control records; false while some still do not fit. */
  private flushPending(): boolean {
    while (this.pending.length > 0) {
      const p = this.pending[0];
      if (!this.writer.write(p.kind, p.value)) return false;
      this.pending.shift();
    }
    return true;
  }

  private spawn(opts: DecoderThreadOptions): void {
    this.ring = createPacketRing(opts.ringBytes ?? 64 * 2 ** 20);
    this.writer = new PacketRingWriter(this.ring);
    const { ringBytes: _ringBytes, onOrder, ...rest } = opts;
    const options: DecoderEngineOptions = { ...rest, orderEvents: rest.orderEvents ?? onOrder !== undefined };
    const data: DecoderWorkerData = {
      role: 'feed-decoder',
      schema: this.codec.schema,
      options,
      ring: this.ring,
    };
    const worker = decoderWorker(data);
    this.worker = worker;
    worker.on('message', (m: DecoderMessage) => {
      if (m.type === 'done') {
        this.latest = m.stats;
        this.finished?.(m.stats);
        return;
      }
      for (const s of m.statuses) this.onStatus(s);
      const onOrder = this.opts.onOrder;
      for (const e of m.events) {
        if (e.type !== 'order') this.onEvent(e);
        else onOrder?.(e);
      }
      if (m.stats) this.latest = m.stats;
    });
    worker.on('error', (err) => {
      this.stats.lastError = err.message;
    });
    worker.on('exit', () => {
      if (this.worker !== worker || this.closing) return;
      // Died without being asked: a fresh engine, in recovery, on a fresh ring.
      this.stats.restarts++;
      this.pending = [];
      this.spawn({ ...opts, recoverAtStart: true });
    });
  }
}

/**
 * The platform's build has the worker's own entry (dist/feed-decoder-worker.js); in the bundled
 * handler (lib/constructs/feed-handler-host/bundle.ts) this module is inside the bundle, whose entry runs the worker when it
 * sees the role in workerData.
 */
function decoderWorker(data: DecoderWorkerData): Worker {
  if (hasBuild()) return new Worker(entryPoint('feed-decoder-worker'), { workerData: data });
  return new Worker(new URL(import.meta.url), { workerData: data });
}
