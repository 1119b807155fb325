/**
 * One MDP channel end to end: A/B incremental feeds -> arbiter -> SBE decode -> book builder ->
 * normalized events, with snapshot-loop recovery. On a packet gap (both feeds lost it) or an
 * instrument's RptSeq gap the handler enters recovery: books concerned go stale (no quotes),
 * incremental messages keep being applied and are also queued; each snapshot from the market
 * recovery feed rebuilds its instrument's book, then the queued entries newer than the snapshot's
 * RptSeq are replayed onto it. Recovery ends when a whole loop (TotNumReports instruments) has been
 * seen and no instrument is stale.
 */
import type { QuoteEvent, TradeEvent } from '../market-data/events';
import type { DecodedMessage, SbeCodec } from '../sbe/codec';
import { Arbiter, type ArbiterEvent, type ArbiterOptions, type FeedId } from './arbiter';
import { BookBuilder, type BookBuilderOptions, type BookStatusEvent } from './book';
import { decodePacketMessages, newDecodeStats, type DecodeStats } from './decode';

export type HandlerStatus =
  | ArbiterEvent
  | BookStatusEvent
  | { readonly type: 'recoveryStarted'; readonly reason: 'startup' | 'packetGap' | 'instrumentGap' }
  | { readonly type: 'recoveryComplete'; readonly replayed: number; readonly snapshots: number }
  | { readonly type: 'recoveryQueueOverflow'; readonly dropped: number };

export interface FeedHandlerOptions {
  readonly arbiter?: ArbiterOptions;
  readonly book?: BookBuilderOptions;
  /** Incremental messages kept while recovering; beyond it the oldest are dropped and recovery waits for the next loop. @default 1_000_000 */
  readonly maxQueuedMessages?: number;
  /**
   * Start in recovery: books stay stale until the snapshot loop has delivered every instrument
   * (for a handler joining a running session). @default false
   */
  readonly recoverAtStart?: boolean;
  /** Called with every arbitrated packet (unique, in sequence order) before decoding: the relay hook. */
  readonly onArbitrated?: (buf: Buffer) => void;
}

export interface RecoveryStats {
  started: number;
  completed: number;
  snapshotsApplied: number;
  snapshotsIgnored: number;
  replayedEntries: number;
  queueOverflows: number;
}

export class FeedHandler {
  readonly arbiter: Arbiter;
  readonly books: BookBuilder;
  readonly decodeStats: DecodeStats = newDecodeStats();
  readonly snapshotDecodeStats: DecodeStats = newDecodeStats();
  readonly recovery: RecoveryStats = {
    started: 0,
    completed: 0,
    snapshotsApplied: 0,
    snapshotsIgnored: 0,
    replayedEntries: 0,
    queueOverflows: 0,
  };
  private recovering = false;
  private queue: DecodedMessage[] = [];
  /** Instruments recovered in this recovery, with the LastMsgSeqNumProcessed of their snapshot. */
  private loopSeen = new Map<number, number>();
  private readonly latestSnapshots = new Map<number, { lastSeq: number; message: DecodedMessage }>();
  private loopTotal = 0;
  /** An instrument's RptSeq jumped in the packet being applied. */
  private instrumentGapPending = false;
  private readonly maxQueued: number;

  constructor(
    private readonly codec: SbeCodec,
    onEvent: (e: TradeEvent | QuoteEvent) => void,
    private readonly onStatus: (s: HandlerStatus) => void = () => {},
    opts: FeedHandlerOptions = {},
  ) {
    this.maxQueued = opts.maxQueuedMessages ?? 1_000_000;
    this.books = new BookBuilder(onEvent, (s) => this.bookStatus(s), opts.book);
    if (opts.recoverAtStart) {
      this.books.newBooksStale = true;
      this.startRecovery('startup', Infinity);
    }
    const onArbitrated = opts.onArbitrated;
    this.arbiter = new Arbiter(
      (p) => {
        if (onArbitrated) onArbitrated(p.buf);
        this.incremental(p.buf);
      },
      (e) => this.arbiterEvent(e),
      opts.arbiter,
    );
  }

  get isRecovering(): boolean {
    return this.recovering;
  }

  /** A UDP payload from incremental feed A or B. */
  onIncremental(feed: FeedId, buf: Buffer): void {
    this.arbiter.onPacket(feed, buf);
  }

  /**
   * A UDP payload from the market recovery (snapshot) feed. The newest snapshot of each instrument is
   * always kept: the recovery feed can run ahead of the incremental feeds (a receiver working through
   * a backlog), so a gap declared later may already be covered by a snapshot seen earlier, and the
   * loop may not come round again soon (or at all, at the end of a session).
   */
  onSnapshot(buf: Buffer): void {
    for (const m of decodePacketMessages(this.codec, buf, this.snapshotDecodeStats)) {
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

  private applySnapshot(m: DecodedMessage): void {
    const securityId = this.books.applySnapshotMessage(m);
    if (securityId === null) return;
    this.recovery.snapshotsApplied++;
    this.recovery.replayedEntries += this.books.replay(securityId, this.queue);
    this.loopSeen.set(securityId, m.body.LastMsgSeqNumProcessed as number);
    const total = m.body.TotNumReports;
    if (typeof total === 'number' && total > 0) this.loopTotal = total;
  }

  /** Checks the arbiter's gap timeout; call periodically. */
  poll(): void {
    this.arbiter.poll();
  }

  private incremental(buf: Buffer): void {
    for (const m of decodePacketMessages(this.codec, buf, this.decodeStats)) {
      if (m.name.startsWith('ChannelReset')) {
        // A reset invalidates everything queued for recovery too, and every snapshot seen before it.
        this.books.onMessage(m);
        this.latestSnapshots.clear();
        if (this.recovering) this.finishRecovery();
        continue;
      }
      this.books.onMessage(m);
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
      this.applyCachedSnapshots(buf.readUInt32LE(0));
      this.maybeComplete();
    }
  }

  private arbiterEvent(e: ArbiterEvent): void {
    this.onStatus(e);
    if (e.type === 'restart') {
      // Sequence numbers start over: LastMsgSeqNumProcessed of older snapshots means nothing now.
      this.latestSnapshots.clear();
      return;
    }
    if (!this.recovering) {
      this.books.markStale();
      this.startRecovery('packetGap', e.to);
      return;
    }
    // Already recovering: instruments whose snapshot covers the new gap stay recovered.
    for (const id of this.books.instruments()) {
      if ((this.loopSeen.get(id) ?? -1) < e.to) {
        this.books.markStale(id);
        this.loopSeen.delete(id);
      }
    }
    this.applyCachedSnapshots(e.to);
    this.maybeComplete();
  }

  private bookStatus(s: BookStatusEvent): void {
    this.onStatus(s);
    // Raised in the middle of applying an entry: cached snapshots are not applied here (the entry
    // being applied would land on top of them) but once the packet is done (see incremental()).
    if (s.type !== 'instrumentGap') return;
    this.loopSeen.delete(s.securityId);
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
    this.finishRecovery();
  }

  private finishRecovery(): void {
    const snapshots = this.loopSeen.size;
    this.recovering = false;
    this.books.newBooksStale = false;
    this.queue = [];
    this.loopSeen.clear();
    this.recovery.completed++;
    this.onStatus({ type: 'recoveryComplete', replayed: this.recovery.replayedEntries, snapshots });
  }
}
