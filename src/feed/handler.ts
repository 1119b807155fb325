/**
 * One MDP channel end to end on one thread: A/B incremental feeds -> PacketSequencer (arbitration,
 * TCP replay of small gaps, the relay hook) -> BookEngine (SBE decode, books, normalized events,
 * snapshot-loop recovery). FeedRunner can instead run the BookEngine on a worker thread
 * (`decoder: 'worker'`), so decoding never delays the relay; this class is the inline form, and what
 * the tests and the demo drive packet by packet.
 */
import type { OrderEvent, QuoteEvent, TradeEvent } from '../market-data/events';
import type { SbeCodec } from '../sbe/codec';
import type { ArbiterEvent, ArbiterOptions, FeedId } from './arbiter';
import {
  BookEngine,
  newSnapshotRecoveryStats,
  type BookEngineOptions,
  type EngineStatus,
  type SnapshotRecoveryStats,
} from './book-engine';
import { newReplayStats, PacketSequencer, type ReplaySource, type ReplayStats } from './sequencer';

export type { BookKinds } from './book-engine';

export type HandlerStatus = ArbiterEvent | EngineStatus;

export interface FeedHandlerOptions extends BookEngineOptions {
  readonly arbiter?: ArbiterOptions;
  /** Called with every arbitrated packet (unique, in sequence order) before decoding: the relay hook. */
  readonly onArbitrated?: (buf: Buffer) => void;
  /** Latency of each packet in nanoseconds, from receipt of its first copy to relayed and decoded. */
  readonly onLatency?: (ns: number) => void;
  /** TCP replay for small gaps (e.g. `ReplayClient.request`); without it every gap uses the snapshot loop. */
  readonly replay?: ReplaySource;
  /** Order events of the market-by-order books (sets `orderEvents`). */
  readonly onOrder?: (e: OrderEvent) => void;
}

export type RecoveryStats = SnapshotRecoveryStats & ReplayStats;

/** The whole handler on one thread: a PacketSequencer feeding a BookEngine. */
export class FeedHandler {
  readonly engine: BookEngine;
  readonly sequencer: PacketSequencer;
  readonly recovery: RecoveryStats = { ...newSnapshotRecoveryStats(), ...newReplayStats() };

  constructor(
    codec: SbeCodec,
    onEvent: (e: TradeEvent | QuoteEvent) => void,
    onStatus: (s: HandlerStatus) => void = () => {},
    opts: FeedHandlerOptions = {},
  ) {
    const onOrder = opts.onOrder;
    const engine = new BookEngine(
      codec,
      (e) => (e.type === 'order' ? onOrder?.(e) : onEvent(e)),
      onStatus,
      { ...opts, orderEvents: opts.orderEvents ?? onOrder !== undefined },
      this.recovery,
    );
    this.engine = engine;
    this.sequencer = new PacketSequencer(
      {
        incremental: (buf) => engine.incremental(buf),
        snapshotGap: (to) => engine.snapshotGap(to),
        sequenceRestart: () => engine.sequenceRestart(),
      },
      {
        arbiter: opts.arbiter,
        onArbitrated: opts.onArbitrated,
        onLatency: opts.onLatency,
        replay: opts.replay,
        onArbiterEvent: onStatus,
      },
      this.recovery,
    );
  }

  get arbiter() {
    return this.sequencer.arbiter;
  }
  get books() {
    return this.engine.books;
  }
  get orderBooks() {
    return this.engine.orderBooks;
  }
  get decodeStats() {
    return this.engine.decodeStats;
  }
  get snapshotDecodeStats() {
    return this.engine.snapshotDecodeStats;
  }
  get isRecovering(): boolean {
    return this.engine.isRecovering;
  }
  /** Last error of a failed replay (for logs). */
  get lastReplayError(): string | undefined {
    return this.sequencer.lastReplayError;
  }
  /** TCP replays outstanding (packets after them are held). */
  get replaying(): number {
    return this.sequencer.replaying;
  }

  /** Resolves once no replay is outstanding and nothing is held. */
  idle(): Promise<void> {
    return this.sequencer.idle();
  }

  /** A UDP payload from incremental feed A or B. */
  onIncremental(feed: FeedId, buf: Buffer): void {
    this.sequencer.onIncremental(feed, buf);
  }

  /** A UDP payload from the market recovery (snapshot) feed. */
  onSnapshot(buf: Buffer): void {
    this.engine.onSnapshot(buf);
  }

  /** Checks the arbiter's gap timeout; call periodically. */
  poll(): void {
    this.sequencer.poll();
  }
}
