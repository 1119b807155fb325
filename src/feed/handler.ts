/**
 * One MDP channel end to end: A/B incremental feeds -> arbiter -> SBE decode -> book builder ->
 * normalized events, with snapshot-loop recovery. On a packet gap (both feeds lost it) or an
 * instrument's RptSeq gap the handler enters recovery: books concerned go stale (no quotes),
 * incremental messages keep being applied and are also queued; each snapshot from the market
 * recovery feed rebuilds its instrument's book, then the queued entries newer than the snapshot's
 * RptSeq are replayed onto it. Recovery ends when a whole loop (TotNumReports instruments) has been
 * seen and no instrument is stale.
 *
 * With a TCP replay source, a gap of at most `replay.maxGapPackets` is filled by replay instead:
 * packets arbitrated after the gap are held (neither relayed nor decoded) until the replayed packets
 * arrive, then everything is processed in sequence order, so books never go stale and subscribers
 * see every packet in order. A failed replay (refused, closed, timed out) falls back to the snapshot
 * loop for that gap.
 */
import type { QuoteEvent, TradeEvent } from '../market-data/events';
import type { DecodedMessage, SbeCodec } from '../sbe/codec';
import {
  Arbiter,
  type ArbiterEvent,
  type ArbiterOptions,
  type ArbitratedPacket,
  type FeedId,
} from './arbiter';
import { BookBuilder, type BookBuilderOptions, type BookStatusEvent } from './book';
import { decodePacketMessages, newDecodeStats, type DecodeStats } from './decode';
import { OrderBookBuilder } from './order-book';

/** Which books to build: market by price (today's), market by order (MBOFD), or both. */
export type BookKinds = 'mbp' | 'mbo' | 'both';

export type HandlerStatus =
  | ArbiterEvent
  | BookStatusEvent
  | { readonly type: 'recoveryStarted'; readonly reason: 'startup' | 'packetGap' | 'instrumentGap' }
  | { readonly type: 'recoveryComplete'; readonly replayed: number; readonly snapshots: number }
  | { readonly type: 'recoveryQueueOverflow'; readonly dropped: number };

export interface FeedHandlerOptions {
  readonly arbiter?: ArbiterOptions;
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
  /** Called with every arbitrated packet (unique, in sequence order) before decoding: the relay hook. */
  readonly onArbitrated?: (buf: Buffer) => void;
  /** Latency of each packet in nanoseconds, from receipt of its first copy to relayed and decoded. */
  readonly onLatency?: (ns: number) => void;
  /** TCP replay for small gaps (e.g. `ReplayClient.request`); without it every gap uses the snapshot loop. */
  readonly replay?: {
    /** Resolves with packets `from`..`to` in order, or rejects. */
    readonly request: (from: number, to: number) => Promise<Buffer[]>;
    /** Larger gaps go to the snapshot loop. @default 2000 */
    readonly maxGapPackets?: number;
    /** Packets held behind outstanding replays; past it the replays are abandoned (snapshot loop). @default 200_000 */
    readonly maxHeldPackets?: number;
  };
}

type Held =
  | { readonly kind: 'packet'; readonly p: ArbitratedPacket }
  | {
      readonly kind: 'gap';
      readonly from: number;
      readonly to: number;
      result?: { readonly packets: Buffer[] } | { readonly error: string };
    };

export interface RecoveryStats {
  started: number;
  completed: number;
  snapshotsApplied: number;
  snapshotsIgnored: number;
  replayedEntries: number;
  queueOverflows: number;
  /** Gaps sent to TCP replay, filled by it, and failed (then recovered from the snapshot loop). */
  replayRequested: number;
  replayRecovered: number;
  replayFailed: number;
  /** Packets received by TCP replay. */
  replayPackets: number;
  /** Gaps larger than `replay.maxGapPackets` (snapshot loop). */
  replayTooLarge: number;
}

export class FeedHandler {
  readonly arbiter: Arbiter;
  readonly books: BookBuilder;
  /** Market-by-order books (with `books: 'mbo' | 'both'`). */
  readonly orderBooks: OrderBookBuilder | null;
  readonly decodeStats: DecodeStats = newDecodeStats();
  readonly snapshotDecodeStats: DecodeStats = newDecodeStats();
  readonly recovery: RecoveryStats = {
    started: 0,
    completed: 0,
    snapshotsApplied: 0,
    snapshotsIgnored: 0,
    replayedEntries: 0,
    queueOverflows: 0,
    replayRequested: 0,
    replayRecovered: 0,
    replayFailed: 0,
    replayPackets: 0,
    replayTooLarge: 0,
  };
  /** Last error of a failed replay (for logs). */
  lastReplayError: string | undefined;
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
  private readonly onArbitrated: ((buf: Buffer) => void) | undefined;
  private readonly onLatency: ((ns: number) => void) | undefined;
  private readonly replay: FeedHandlerOptions['replay'];
  /** Packets and gaps behind the oldest outstanding replay, in sequence order. */
  private held: Held[] = [];
  private heldPackets = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly codec: SbeCodec,
    onEvent: (e: TradeEvent | QuoteEvent) => void,
    private readonly onStatus: (s: HandlerStatus) => void = () => {},
    opts: FeedHandlerOptions = {},
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
          });
    if (opts.recoverAtStart) {
      this.books.newBooksStale = true;
      this.orderBooks?.startStale();
      this.startRecovery('startup', Infinity);
    }
    this.onArbitrated = opts.onArbitrated;
    this.onLatency = opts.onLatency;
    this.replay = opts.replay;
    this.arbiter = new Arbiter(
      (p) => {
        if (this.held.length > 0) this.hold({ kind: 'packet', p });
        else this.process(p);
      },
      (e) => this.arbiterEvent(e),
      opts.arbiter,
    );
  }

  get isRecovering(): boolean {
    return this.recovering;
  }

  /** TCP replays outstanding (packets after them are held). */
  get replaying(): number {
    return this.held.filter((h) => h.kind === 'gap' && !h.result).length;
  }

  /** Resolves once no replay is outstanding and nothing is held. */
  idle(): Promise<void> {
    if (this.held.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A UDP payload from incremental feed A or B. */
  onIncremental(feed: FeedId, buf: Buffer): void {
    this.arbiter.onPacket(feed, buf, this.onLatency ? performance.now() : 0);
  }

  /** Relay, decode, books; then the packet's latency. */
  private process(p: ArbitratedPacket): void {
    if (this.onArbitrated) this.onArbitrated(p.buf);
    this.incremental(p.buf);
    if (this.onLatency && p.rxTime > 0) this.onLatency(Math.round((performance.now() - p.rxTime) * 1e6));
  }

  private hold(h: Held): void {
    this.held.push(h);
    if (h.kind === 'packet') this.heldPackets++;
    if (this.heldPackets > (this.replay?.maxHeldPackets ?? 200_000)) {
      // Replays are taking too long for the traffic: give up on them (snapshot loop) and move on.
      for (const x of this.held)
        if (x.kind === 'gap' && !x.result) x.result = { error: 'too many packets held' };
      this.drainHeld();
    }
  }

  /** Gap `from`..`to` (lost on both feeds): TCP replay when small enough, else the snapshot loop. */
  private onGap(from: number, to: number): void {
    const r = this.replay;
    if (r && to - from + 1 <= (r.maxGapPackets ?? 2000)) {
      const entry: Held = { kind: 'gap', from, to };
      this.hold(entry);
      this.recovery.replayRequested++;
      r.request(from, to).then(
        (packets) => {
          entry.result = { packets };
          this.drainHeld();
        },
        (err: unknown) => {
          entry.result = { error: err instanceof Error ? err.message : String(err) };
          this.drainHeld();
        },
      );
      return;
    }
    if (r) this.recovery.replayTooLarge++;
    if (this.held.length > 0) this.hold({ kind: 'gap', from, to, result: { error: 'too large' } });
    else this.snapshotGap(to);
  }

  /** Processes held packets and gaps in order, up to the first replay still outstanding. */
  private drainHeld(): void {
    while (this.held.length > 0) {
      const h = this.held[0];
      if (h.kind === 'packet') {
        this.held.shift();
        this.heldPackets--;
        this.process(h.p);
        continue;
      }
      if (!h.result) return;
      this.held.shift();
      const packets = 'packets' in h.result ? h.result.packets : null;
      const complete =
        packets !== null &&
        packets.length === h.to - h.from + 1 &&
        packets.every((p, i) => p.length >= 12 && p.readUInt32LE(0) === h.from + i);
      if (packets && complete) {
        this.recovery.replayRecovered++;
        this.recovery.replayPackets += packets.length;
        for (const buf of packets) {
          if (this.onArbitrated) this.onArbitrated(buf);
          this.incremental(buf);
        }
        continue;
      }
      if ('error' in h.result && h.result.error === 'too large') {
        this.snapshotGap(h.to);
        continue;
      }
      this.recovery.replayFailed++;
      this.lastReplayError = 'error' in h.result ? h.result.error : 'replayed packets do not match the gap';
      this.snapshotGap(h.to);
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
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
      this.applyCachedSnapshots(buf.readUInt32LE(0));
      this.maybeComplete();
    }
  }

  private arbiterEvent(e: ArbiterEvent): void {
    this.onStatus(e);
    if (e.type === 'restart') {
      // Sequence numbers start over: LastMsgSeqNumProcessed of older snapshots means nothing now.
      this.latestSnapshots.clear();
      this.orderBooks?.sequenceReset();
      return;
    }
    this.onGap(e.from, e.to);
  }

  /** Snapshot-loop recovery of a packet gap. */
  private snapshotGap(to: number): void {
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
