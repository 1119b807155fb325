/**
 * A/B line arbitration for one MDP channel. Both feeds carry the same packets; the first arrival of
 * a sequence number is delivered and the copy from the other feed is dropped. Packets ahead of the
 * expected sequence wait (the other feed may still fill the hole); the hole becomes a gap only when
 * `gapPacketThreshold` packets are waiting or the oldest has waited `gapTimeoutMs`. Loss on one
 * feed only is therefore never a gap. A packet numbered 1 with a newer SendingTime than the last
 * delivered one is a sequence restart (weekly reset, failover) rather than a late duplicate.
 */

export type FeedId = 'A' | 'B';

export interface ArbitratedPacket {
  readonly feed: FeedId;
  readonly seq: number;
  readonly sendingTime: bigint;
  /** The whole UDP payload (12-byte packet header included). */
  readonly buf: Buffer;
  /** When the delivered copy was received (the caller's clock, e.g. performance.now()); 0 if not given. */
  readonly rxTime: number;
}

export type ArbiterEvent =
  | {
      readonly type: 'gap';
      readonly from: number;
      readonly to: number;
      readonly reason: 'packets' | 'timeout';
    }
  | { readonly type: 'restart'; readonly previous: number };

export interface ArbiterOptions {
  /** Packets waiting behind a hole before it is declared a gap. @default 64 */
  readonly gapPacketThreshold?: number;
  /** Milliseconds the oldest waiting packet may wait before the hole is declared a gap. @default 20 */
  readonly gapTimeoutMs?: number;
  /** Monotonic clock in milliseconds. @default performance.now */
  readonly now?: () => number;
}

export interface FeedCounters {
  packets: number;
  /** Packets this feed delivered first. */
  won: number;
  duplicates: number;
  /** Packets shorter than the 12-byte header. */
  malformed: number;
}

export interface ArbiterStats {
  readonly feeds: Record<FeedId, FeedCounters>;
  delivered: number;
  /** Packets delivered after waiting for a hole to fill. */
  reordered: number;
  gaps: number;
  /** Sequence numbers lost on both feeds. */
  gapPackets: number;
  restarts: number;
}

export class Arbiter {
  readonly stats: ArbiterStats = {
    feeds: {
      A: { packets: 0, won: 0, duplicates: 0, malformed: 0 },
      B: { packets: 0, won: 0, duplicates: 0, malformed: 0 },
    },
    delivered: 0,
    reordered: 0,
    gaps: 0,
    gapPackets: 0,
    restarts: 0,
  };
  /** Next sequence number to deliver; 0 before the first packet. */
  private expected = 0;
  private lastSendingTime = -1n;
  private readonly pending = new Map<number, ArbitratedPacket>();
  private pendingMin = Infinity;
  private waitingSince = 0;
  private readonly threshold: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly deliver: (p: ArbitratedPacket) => void,
    private readonly onEvent: (e: ArbiterEvent) => void = () => {},
    opts: ArbiterOptions = {},
  ) {
    this.threshold = Math.max(1, opts.gapPacketThreshold ?? 64);
    this.timeoutMs = opts.gapTimeoutMs ?? 20;
    this.now = opts.now ?? (() => performance.now());
  }

  /** The next sequence number the channel expects (0 before the first packet). */
  get nextSeq(): number {
    return this.expected;
  }

  /** Packets waiting behind a hole. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * Offers one UDP payload received on `feed` (at `rxTime`, carried to delivery for latency
   * measurement). Delivery happens synchronously through the callback.
   */
  onPacket(feed: FeedId, buf: Buffer, rxTime = 0): void {
    const fc = this.stats.feeds[feed];
    fc.packets++;
    if (buf.length < 12) {
      fc.malformed++;
      return;
    }
    const seq = buf.readUInt32LE(0);
    const sendingTime = buf.readBigUInt64LE(4);
    if (this.expected === 0) this.expected = seq;
    if (seq === this.expected) {
      fc.won++;
      this.emit({ feed, seq, sendingTime, buf, rxTime });
      this.drain();
      return;
    }
    if (seq < this.expected) {
      if (seq === 1 && sendingTime > this.lastSendingTime) {
        this.restart(feed, sendingTime, buf, rxTime);
        return;
      }
      fc.duplicates++;
      return;
    }
    if (this.pending.has(seq)) {
      fc.duplicates++;
      return;
    }
    fc.won++;
    if (this.pending.size === 0) this.waitingSince = this.now();
    this.pending.set(seq, { feed, seq, sendingTime, buf, rxTime });
    if (seq < this.pendingMin) this.pendingMin = seq;
    if (this.pending.size >= this.threshold) this.declareGap('packets');
    else this.poll();
  }

  /** Checks the gap timeout; call it periodically when no packets arrive. */
  poll(): void {
    if (this.pending.size > 0 && this.now() - this.waitingSince >= this.timeoutMs) this.declareGap('timeout');
  }

  /** Forgets all state (after a ChannelReset handled upstream, or to resync on a new session). */
  reset(): void {
    this.expected = 0;
    this.pending.clear();
    this.pendingMin = Infinity;
  }

  private restart(feed: FeedId, sendingTime: bigint, buf: Buffer, rxTime: number): void {
    const previous = this.expected;
    this.stats.restarts++;
    this.pending.clear();
    this.pendingMin = Infinity;
    this.expected = 1;
    this.onEvent({ type: 'restart', previous });
    this.stats.feeds[feed].won++;
    this.emit({ feed, seq: 1, sendingTime, buf, rxTime });
    this.drain();
  }

  private emit(p: ArbitratedPacket): void {
    this.expected = (p.seq + 1) >>> 0;
    if (p.sendingTime > this.lastSendingTime) this.lastSendingTime = p.sendingTime;
    this.stats.delivered++;
    this.deliver(p);
  }

  private drain(): void {
    if (this.pending.size === 0) return;
    let next = this.pending.get(this.expected);
    while (next) {
      this.pending.delete(next.seq);
      this.stats.reordered++;
      this.emit(next);
      next = this.pending.get(this.expected);
    }
    this.pendingMin = this.pending.size === 0 ? Infinity : Math.min(...this.pending.keys());
    if (this.pending.size > 0) this.waitingSince = this.now();
  }

  private declareGap(reason: 'packets' | 'timeout'): void {
    const from = this.expected;
    const to = this.pendingMin - 1;
    this.stats.gaps++;
    this.stats.gapPackets += to - from + 1;
    this.onEvent({ type: 'gap', from, to, reason });
    this.expected = this.pendingMin;
    this.drain();
  }
}
