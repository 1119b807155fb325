/**
 * The packet half of a feed handler: A/B arbitration, TCP replay of small gaps, and the relay hook.
 * It hands every packet, unique and in sequence order, to the relay and then to a decoder (the
 * BookEngine inline, or the decoder worker), and tells the decoder about gaps it could not fill.
 *
 * With a TCP replay source, a gap of at most `maxGapPackets` is filled by replay: packets arbitrated
 * after the gap are held (neither relayed nor decoded) until the replayed packets arrive, then
 * everything is processed in sequence order, so books never go stale and subscribers see every
 * packet in order. A failed replay (refused, closed, timed out) falls back to the snapshot loop for
 * that gap.
 */
import {
  Arbiter,
  type ArbiterEvent,
  type ArbiterOptions,
  type ArbitratedPacket,
  type FeedId,
} from './arbiter';

/** Where sequenced packets go after the relay: the book engine, on this thread or another. */
export interface SequencedPacketSink {
  /** One packet, in sequence order; `rxTime` is when its first copy arrived (performance.now(), 0 if unknown). */
  incremental(buf: Buffer, rxTime: number): void;
  /** Packets up to `to` are lost for good: the decoder recovers from the snapshot loop. */
  snapshotGap(to: number): void;
  /** The channel's sequence numbers started over. */
  sequenceRestart(): void;
}

export interface ReplaySource {
  /** Resolves with packets `from`..`to` in order, or rejects. */
  readonly request: (from: number, to: number) => Promise<Buffer[]>;
  /** Larger gaps go to the snapshot loop. @default 2000 */
  readonly maxGapPackets?: number;
  /** Packets held behind outstanding replays; past it the replays are abandoned (snapshot loop). @default 200_000 */
  readonly maxHeldPackets?: number;
}

export interface PacketSequencerOptions {
  readonly arbiter?: ArbiterOptions;
  /** Called with every arbitrated packet (unique, in sequence order) before decoding: the relay hook. */
  readonly onArbitrated?: (buf: Buffer) => void;
  /** Latency of each packet in nanoseconds, from receipt of its first copy to relayed and handed to the sink. */
  readonly onLatency?: (ns: number) => void;
  /** TCP replay for small gaps; without it every gap uses the snapshot loop. */
  readonly replay?: ReplaySource;
  /** Arbiter events (gaps, restarts), after the sequencer has acted on them. */
  readonly onArbiterEvent?: (e: ArbiterEvent) => void;
}

/** TCP replay counters (the sequencer's part of the handler's RecoveryStats). */
export type ReplayStats = ReturnType<typeof newReplayStats>;

export const newReplayStats = () => ({
  /** Gaps sent to TCP replay, filled by it, and failed (then recovered from the snapshot loop). */
  replayRequested: 0,
  replayRecovered: 0,
  replayFailed: 0,
  /** Packets received by TCP replay. */
  replayPackets: 0,
  /** Gaps larger than `replay.maxGapPackets` (snapshot loop). */
  replayTooLarge: 0,
});

type Held =
  | { readonly kind: 'packet'; readonly p: ArbitratedPacket }
  | {
      readonly kind: 'gap';
      readonly from: number;
      readonly to: number;
      result?: { readonly packets: Buffer[] } | { readonly error: string };
    };

export class PacketSequencer {
  readonly arbiter: Arbiter;
  /** Last error of a failed replay (for logs). */
  lastReplayError: string | undefined;
  private readonly onArbitrated: ((buf: Buffer) => void) | undefined;
  private readonly onLatency: ((ns: number) => void) | undefined;
  private readonly replay: ReplaySource | undefined;
  /** Packets and gaps behind the oldest outstanding replay, in sequence order. */
  private held: Held[] = [];
  private heldPackets = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly sink: SequencedPacketSink,
    opts: PacketSequencerOptions = {},
    /** Shared with the caller (FeedHandler keeps one RecoveryStats object for both halves). */
    readonly stats: ReplayStats = newReplayStats(),
  ) {
    this.onArbitrated = opts.onArbitrated;
    this.onLatency = opts.onLatency;
    this.replay = opts.replay;
    const onArbiterEvent = opts.onArbiterEvent;
    this.arbiter = new Arbiter(
      (p) => {
        if (this.held.length > 0) this.hold({ kind: 'packet', p });
        else this.process(p);
      },
      (e) => {
        onArbiterEvent?.(e);
        if (e.type === 'restart') this.sink.sequenceRestart();
        else this.onGap(e.from, e.to);
      },
      opts.arbiter,
    );
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
    this.arbiter.onPacket(feed, buf, performance.now());
  }

  /** Checks the arbiter's gap timeout; call periodically. */
  poll(): void {
    this.arbiter.poll();
  }

  /** Relay, hand to the decoder; then the packet's latency. */
  private process(p: ArbitratedPacket): void {
    if (this.onArbitrated) this.onArbitrated(p.buf);
    this.sink.incremental(p.buf, p.rxTime);
    if (this.onLatency) this.onLatency(Math.round((performance.now() - p.rxTime) * 1e6));
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
      this.stats.replayRequested++;
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
    if (r) this.stats.replayTooLarge++;
    if (this.held.length > 0) this.hold({ kind: 'gap', from, to, result: { error: 'too large' } });
    else this.sink.snapshotGap(to);
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
        this.stats.replayRecovered++;
        this.stats.replayPackets += packets.length;
        for (const buf of packets) {
          if (this.onArbitrated) this.onArbitrated(buf);
          this.sink.incremental(buf, 0);
        }
        continue;
      }
      if ('error' in h.result && h.result.error === 'too large') {
        this.sink.snapshotGap(h.to);
        continue;
      }
      this.stats.replayFailed++;
      this.lastReplayError = 'error' in h.result ? h.result.error : 'replayed packets do not match the gap';
      this.sink.snapshotGap(h.to);
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
