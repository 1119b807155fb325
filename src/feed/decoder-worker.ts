/**
 * The decoder worker: a BookEngine on a thread of its own, fed from the packet ring. The feed
 * thread only arbitrates and relays, so a burst that decoding cannot keep up with costs the books a
 * snapshot recovery instead of delaying (or losing) the relay. Events and status changes go back
 * to the feed thread in batches; counters every STATS_INTERVAL_MS and at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SbeCodec } from '../sbe/codec';
import type { Schema } from '../sbe/schema';
import {
  BookEngine,
  type BookEngineOptions,
  type EngineEvent,
  type EngineStatus,
  type SnapshotRecoveryStats,
} from './book-engine';
import type { DecodeStats } from './decode';
import type { OrderBookStats } from './order-book';
import { PacketRingReader, type PacketRingBuffers } from './packet-ring';

/** Record kinds in the ring (feed thread -> worker). */
export const RECORD = { incremental: 1, snapshot: 2, gap: 3, restart: 4, end: 5 } as const;

export interface DecoderWorkerData {
  readonly role: 'feed-decoder';
  readonly schema: Schema;
  /** Options cloned into the worker: no functions (the receive clock is the worker's wall clock). */
  readonly options: DecoderEngineOptions;
  readonly ring: PacketRingBuffers;
}

export type DecoderEngineOptions = Omit<BookEngineOptions, 'book'> & {
  readonly book?: Omit<NonNullable<BookEngineOptions['book']>, 'receiveTs'>;
};

/** The engine's counters, as a plain object (the same shape inline and from the worker). */
export interface EngineStats {
  readonly recovering: boolean;
  readonly recovery: SnapshotRecoveryStats;
  readonly decodeStats: DecodeStats;
  readonly snapshotDecodeStats: DecodeStats;
  readonly orderBooks?: {
    readonly instruments: number;
    readonly staleBooks: number;
    readonly orders: number;
    readonly stats: OrderBookStats;
  };
}

export type DecoderMessage =
  | {
      readonly type: 'batch';
      readonly events: EngineEvent[];
      readonly statuses: EngineStatus[];
      readonly stats?: EngineStats;
    }
  | { readonly type: 'done'; readonly stats: EngineStats };

const STATS_INTERVAL_MS = 100;
/** Records decoded between two looks at the clock and the outgoing batch. */
const SLICE = 1024;
/** Events per message back to the feed thread (bounds a message's structured-clone cost). */
const MAX_BATCH_EVENTS = 4096;

export function engineStats(engine: BookEngine): EngineStats {
  const mbo = engine.orderBooks;
  const r = engine.recovery;
  return structuredClone({
    recovering: engine.isRecovering,
    // Only the engine's own counters (inline, FeedHandler shares this object with the sequencer's).
    recovery: {
      started: r.started,
      completed: r.completed,
      snapshotsApplied: r.snapshotsApplied,
      snapshotsIgnored: r.snapshotsIgnored,
      replayedEntries: r.replayedEntries,
      queueOverflows: r.queueOverflows,
    },
    decodeStats: engine.decodeStats,
    snapshotDecodeStats: engine.snapshotDecodeStats,
    orderBooks: mbo
      ? {
          instruments: mbo.instruments().length,
          staleBooks: mbo.staleInstruments().length,
          orders: mbo.orderCount(),
          stats: mbo.stats,
        }
      : undefined,
  });
}

/** The worker's main loop (blocking: the thread does nothing else); returns after the END record. */
export function runDecoderWorker(): void {
  const data = workerData as DecoderWorkerData;
  const port = parentPort;
  if (!port || data?.role !== 'feed-decoder') throw new Error('runDecoderWorker: not a feed decoder worker');
  let events: EngineEvent[] = [];
  let statuses: EngineStatus[] = [];
  const engine = new BookEngine(
    new SbeCodec(data.schema),
    (e) => events.push(e),
    (s) => statuses.push(s),
    data.options,
  );
  const reader = new PacketRingReader(data.ring);
  let statsAt = 0;
  const send = (): void => {
    const now = performance.now();
    const withStats = now - statsAt >= STATS_INTERVAL_MS;
    if (events.length === 0 && statuses.length === 0 && !withStats) return;
    if (withStats) statsAt = now;
    const msg: DecoderMessage = {
      type: 'batch',
      events,
      statuses,
      stats: withStats ? engineStats(engine) : undefined,
    };
    port.postMessage(msg);
    events = [];
    statuses = [];
  };
  for (;;) {
    let n = 0;
    for (let rec = reader.read(); rec; rec = n < SLICE ? reader.read() : null) {
      n++;
      switch (rec.kind) {
        case RECORD.incremental:
          engine.incremental(rec.payload);
          break;
        case RECORD.snapshot:
          engine.onSnapshot(rec.payload);
          break;
        case RECORD.gap:
          engine.snapshotGap(rec.value);
          break;
        case RECORD.restart:
          engine.sequenceRestart();
          break;
        case RECORD.end: {
          send();
          const done: DecoderMessage = { type: 'done', stats: engineStats(engine) };
          port.postMessage(done);
          return;
        }
        default:
          throw new Error(`decoder worker: unknown ring record kind ${rec.kind}`);
      }
      if (events.length >= MAX_BATCH_EVENTS) send();
    }
    send();
    // The thread does nothing but this loop (it takes no messages), so it may block: a blocking
    // wait costs a few microseconds per wake-up, an async one a task on the event loop each time.
    // postMessage needs no event loop on the sending side; terminate() interrupts the wait.
    if (n === 0) reader.waitSync(STATS_INTERVAL_MS);
  }
}
