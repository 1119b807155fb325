/**
 * The decoding half of a feed handler: SBE decode -> book builders -> normalized events, with
 * snapshot-loop recovery. It is fed packets already arbitrated and in sequence order (by
 * PacketSequencer), plus the gaps the sequencer could not fill and sequence restarts, so it can run
 * on the feed's thread (FeedHandler) or on a thread of its own (the decoder worker) unchanged.
 *
 * On a packet gap or an instrument's RptSeq gap the engine enters recovery: books concerned go stale
 * (no quotes), incremental messages keep being applied and are also queued; each snapshot from the
 * market recovery feed rebuilds its instrument's book, then the queued entries newer than the
 * snapshot's RptSeq are replayed onto it. Recovery ends when a whole loop (TotNumReports instruments)
 * has been seen and no instrument is stale.
 */
import type { OrderEvent, QuoteEvent, TradeEvent } from '../market-data/events';
import type { DecodedMessage, SbeCodec } from '../sbe/codec';
import { BookBuilder, type BookBuilderOptions, type BookStatusEvent } from './book';
import { decodePacketMessages, newDecodeStats, type DecodeStats } from './decode';
import { OrderBookBuilder } from './order-book';

/** Which books to build: market by price (today's), market by order (MBOFD), or both. */
export type BookKinds = 'mbp' | 'mbo' | 'both';

/** What the engine emits: trades and quotes, and order events when `orderEvents` is set. */
export type EngineEvent = TradeEvent | QuoteEvent | OrderEvent;

export type EngineStatus =
  | BookStatusEvent
  | { readonly type: 'recoveryStarted'; readonly reason: 'startup' | 'packetGap' | 'instrumentGap' }
  | { readonly type: 'recoveryComplete'; readonly replayed: number; readonly snapshots: number }
  | { readonly type: 'recoveryQueueOverflow'; readonly dropped: number };

export interface BookEngineOptions {
  readonly book?: BookBuilderOptions;
  /**
   * `mbo` and `both` also build market-by-order books (`orderBooks`) from the order entries of
   * templates 46/47 (43) and the SnapshotFullRefreshOrderBook loop (53/44). With `mbo` quotes come from
   * the order books' top of book (outright orders only; MBO has no implied orders); otherwise from
   * the MBP books. The MBP books are always kept: they sequence instruments (RptSeq) and carry trades.
   * @default 'mbp'
   */
  readonly books?: BookKinds;
  /**
   * Incremental messages kept while recovering; beyond it the oldest are dropped and recovery waits
   * for the next loop. A decoded message holds ~3 KB of heap, so the default bounds the queue near
   * 600 MB (a million would outgrow Node's default heap on a feed host). @default 200_000
   */
  readonly maxQueuedMessages?: number;
  /**
   * Start in recovery: books stay stale until the snapshot loop has delivered every instrument
   * (for a handler joining a running session). @default false
   */
  readonly recoverAtStart?: boolean;
  /**
   * Emit an OrderEvent for every change applied to the market-by-order books (with `books: 'mbo'
   * | 'both'`): adds, modifies, deletes, and a clear before each rebuild. @default false
   */
  readonly orderEvents?: boolean;
}

/** Snapshot-loop recovery counters (the engine's part of the handler's RecoveryStats). */
export type SnapshotRecoveryStats = ReturnType<typeof newSnapshotRecoveryStats>;

export const newSnapshotRecoveryStats = () => ({
  started: 0,
  completed: 0,
  snapshotsApplied: 0,
  snapshotsIgnored: 0,
  replayedEntries: 0,
  queueOverflows: 0,
});

export class BookEngine {
  readonly books: BookBuilder;
  /** Market-by-order books (with `books: 'mbo' | 'both'`). */
  readonly orderBooks: OrderBookBuilder | null;
  readonly decodeStats: DecodeStats = newDecodeStats();
  readonly snapshotDecodeStats: DecodeStats = newDecodeStats();
  private recovering = false;
  private queue: DecodedMessage[] = [];
  /** Instruments recovered in this recovery, with the LastMsgSeqNumProcessed of their snapshot. */
  private loopSeen = new Map<number, number>();
  private readonly latestSnapshots = new Map<number, { lastSeq: number; message: DecodedMessage }>();
  private loopTotal = 0;
  /** An instrument's RptSeq jumped in the packet being applied. */
  private instrumentGapPending = false;
  /** Sequence number of the packet being applied. */
  private currentSeq = 0;
  private readonly maxQueued: number;

  constructor(
    private readonly codec: SbeCodec,
    onEvent: (e: EngineEvent) => void,
    private readonly onStatus: (s: EngineStatus) => void = () => {},
    opts: BookEngineOptions = {},
    /** Shared with the caller (FeedHandler keeps one RecoveryStats object for both halves). */
    readonly recovery: SnapshotRecoveryStats = newSnapshotRecoveryStats(),
  ) {
    this.maxQueued = opts.maxQueuedMessages ?? 200_000;
    const kinds = opts.books ?? 'mbp';
    this.books = new BookBuilder(onEvent, (s) => this.bookStatus(s), {
      ...opts.book,
      quotes: kinds !== 'mbo' && opts.book?.quotes !== false,
    });
    this.orderBooks =
      kinds === 'mbp'
        ? null
        : new OrderBookBuilder({
            maxQueuedMessages: opts.maxQueuedMessages,
            onTop:
              kinds === 'mbo'
                ? (id, top, tx) => this.books.publishQuote(id, top.bid, top.ask, tx)
                : undefined,
            onOrder: opts.orderEvents ? onEvent : undefined,
            // The same venue and clock as the trades and quotes.
            venue: opts.book?.venue,
            receiveTs: opts.book?.receiveTs,
          });
    if (opts.recoverAtStart) {
      this.books.newBooksStale = true;
      this.orderBooks?.startStale();
      this.startRecovery('startup', Infinity);
    }
  }

  get isRecovering(): boolean {
    return this.recovering;
  }

  /** One arbitrated incremental packet (in sequence order): decode, apply to the books, queue if recovering. */
  incremental(buf: Buffer): void {
    const seq = buf.readUInt32LE(0);
    this.currentSeq = seq;
    const mbo = this.orderBooks;
    for (const m of decodePacketMessages(this.codec, buf, this.decodeStats)) {
      if (m.name.startsWith('ChannelReset')) {
        // A reset invalidates everything queued for recovery too, and every snapshot seen before it.
        this.books.onMessage(m);
        mbo?.onMessage(m, seq);
        this.latestSnapshots.clear();
        if (this.recovering) this.finishRecovery();
        continue;
      }
      this.books.onMessage(m);
      mbo?.onMessage(m, seq);
      if (this.recovering) {
        this.queue.push(m);
        if (this.queue.length > this.maxQueued) {
          const dropped = this.queue.length - this.maxQueued;
          this.queue.splice(0, dropped);
          this.recovery.queueOverflows++;
          // Snapshots older than the dropped messages can no longer be completed: start the loop over.
          this.loopSeen.clear();
          this.books.markStale();
          this.onStatus({ type: 'recoveryQueueOverflow', dropped });
        }
      }
    }
    if (this.instrumentGapPending) {
      // Now that the packet is applied, a cached snapshot that includes it can recover the instrument.
      this.instrumentGapPending = false;
      this.applyCachedSnapshots(seq);
      this.maybeComplete();
    }
  }

  /**
   * A UDP payload from the market recovery (snapshot) feed. The newest snapshot of each instrument is
   * always kept: the recovery feed can run ahead of the incremental feeds (a receiver working through
   * a backlog), so a gap declared later may already be covered by a snapshot seen earlier, and the
   * loop may not come round again soon (or at all, at the end of a session).
   */
  onSnapshot(buf: Buffer): void {
    for (const m of decodePacketMessages(this.codec, buf, this.snapshotDecodeStats)) {
      if (m.name.startsWith('SnapshotFullRefreshOrderBook')) {
        // The MBO loop (53/44): chunked order lists, applied by the order books to their stale books.
        if (this.orderBooks) this.orderBooks.onSnapshot(m);
        else this.recovery.snapshotsIgnored++;
        continue;
      }
      const securityId = m.body.SecurityID;
      const lastSeq = m.body.LastMsgSeqNumProcessed;
      if (typeof securityId !== 'number' || typeof lastSeq !== 'number') continue;
      const cached = this.latestSnapshots.get(securityId);
      if (!cached || lastSeq >= cached.lastSeq) this.latestSnapshots.set(securityId, { lastSeq, message: m });
      if (!this.recovering) {
        this.recovery.snapshotsIgnored++;
        continue;
      }
      this.applySnapshot(m);
    }
    this.maybeComplete();
  }

  /** Packets up to `to` are lost for good (not replayed): recover from the snapshot loop. */
  snapshotGap(to: number): void {
    // Order books whose snapshot (this recovery) includes the gap stay in sync; the others need one that does.
    this.orderBooks?.markStale(to);
    if (!this.recovering) {
      this.books.markStale();
      this.startRecovery('packetGap', to);
      return;
    }
    // Already recovering: instruments whose snapshot covers the new gap stay recovered.
    for (const id of this.books.instruments()) {
      if ((this.loopSeen.get(id) ?? -1) < to) {
        this.books.markStale(id);
        this.loopSeen.delete(id);
      }
    }
    this.applyCachedSnapshots(to);
    this.maybeComplete();
  }

  /** Sequence numbers start over: LastMsgSeqNumProcessed of older snapshots means nothing now. */
  sequenceRestart(): void {
    this.latestSnapshots.clear();
    this.orderBooks?.sequenceReset();
  }

  private applySnapshot(m: DecodedMessage): void {
    const securityId = this.books.applySnapshotMessage(m);
    if (securityId === null) return;
    this.recovery.snapshotsApplied++;
    this.recovery.replayedEntries += this.books.replay(securityId, this.queue);
    this.loopSeen.set(securityId, m.body.LastMsgSeqNumProcessed as number);
    const total = m.body.TotNumReports;
    if (typeof total === 'number' && total > 0) this.loopTotal = total;
  }

  private bookStatus(s: BookStatusEvent): void {
    this.onStatus(s);
    // Raised in the middle of applying an entry: cached snapshots are not applied here (the entry
    // being applied would land on top of them) but once the packet is done (see incremental()).
    if (s.type !== 'instrumentGap') return;
    this.loopSeen.delete(s.securityId);
    this.orderBooks?.markStale(this.currentSeq, s.securityId);
    this.instrumentGapPending = true;
    this.startRecovery('instrumentGap', Infinity);
  }

  /** While recovering: applies each cached snapshot that includes packet `coveredFrom` to its stale book. */
  private applyCachedSnapshots(coveredFrom: number): void {
    if (!this.recovering) return;
    for (const { lastSeq, message } of this.latestSnapshots.values()) {
      const id = message.body.SecurityID as number;
      if (lastSeq >= coveredFrom && !this.loopSeen.has(id)) this.applySnapshot(message);
    }
  }

  /** `coveredFrom`: a cached snapshot helps only if it includes this packet (LastMsgSeqNumProcessed >= it). */
  private startRecovery(reason: 'startup' | 'packetGap' | 'instrumentGap', coveredFrom: number): void {
    if (this.recovering) return;
    this.recovering = true;
    this.recovery.started++;
    this.queue = [];
    this.loopSeen.clear();
    this.loopTotal = 0;
    this.onStatus({ type: 'recoveryStarted', reason });
    this.applyCachedSnapshots(coveredFrom);
    this.maybeComplete();
  }

  private maybeComplete(): void {
    if (this.loopTotal === 0 || this.loopSeen.size < this.loopTotal) return;
    if (this.books.staleInstruments().length > 0) return;
    if (this.orderBooks?.isRecovering) return; // it ends its own recovery after a whole MBO loop
    this.finishRecovery();
  }

  private finishRecovery(): void {
    const snapshots = this.loopSeen.size;
    this.recovering = false;
    this.books.newBooksStale = false;
    this.orderBooks?.endRecovery();
    this.queue = [];
    this.loopSeen.clear();
    this.recovery.completed++;
    this.onStatus({ type: 'recoveryComplete', replayed: this.recovery.replayedEntries, snapshots });
  }
}
