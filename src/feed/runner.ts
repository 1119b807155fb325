/**
 * `quant feed run`: joins feeds A and B (and the snapshot feed) on multicast, arbitrates, relays the
 * arbitrated packets and decodes them into books and normalized events, with metrics. Decoding runs
 * inline (on the feed thread, `decoder: 'inline'`) or on a worker thread (`'worker'`, what the CLI
 * uses) so that it never delays the relay.
 */
import type { MarketEvent, OrderEvent } from '../market-data/events';
import type { SbeCodec } from '../sbe/codec';
import { newSnapshotRecoveryStats, type BookKinds } from './book-engine';
import { DecoderThread } from './decoder-thread';
import { engineStats, type EngineStats } from './decoder-worker';
import { newDecodeStats } from './decode';
import { FeedHandler, type HandlerStatus, type RecoveryStats } from './handler';
import { LatencyHistogram, MetricsReporter, type FeedMetricsSnapshot } from './metrics';
import { joinMulticast, Relay, type Endpoint, type MulticastReceiver, type RelayOptions } from './net';
import { PacketSequencer } from './sequencer';
import { ReplayClient, type ReplayCredentials } from './tcp-replay';

export interface FeedRunnerOptions {
  readonly feedA: Endpoint;
  readonly feedB: Endpoint;
  readonly snapshot?: Endpoint;
  readonly relay?: RelayOptions;
  readonly iface?: string;
  readonly gapPacketThreshold?: number;
  readonly gapTimeoutMs?: number;
  readonly onEvent?: (e: MarketEvent) => void;
  /** Order events of the market-by-order books (with `books: 'mbo' | 'both'`). */
  readonly onOrder?: (e: OrderEvent) => void;
  readonly onStatus?: (s: HandlerStatus) => void;
  /** Wait for the snapshot loop before publishing quotes (joining a running session). @default true */
  readonly recoverAtStart?: boolean;
  /** Books to build: market by price, by order (MBOFD, quotes from it), or both. @default 'mbp' */
  readonly books?: BookKinds;
  /** Channel id (metrics dimension, replay ApplID). @default '1' */
  readonly channel?: string;
  /** TCP replay server for gaps of at most `maxGapPackets` (default 2000); larger gaps use the snapshot loop. */
  readonly replay?: {
    readonly server: Endpoint;
    /** Username and password of the replay service's FIX logon. */
    readonly credentials: ReplayCredentials;
    readonly maxGapPackets?: number;
    readonly timeoutMs?: number;
  };
  /** Prometheus /metrics on 127.0.0.1:port (0: any free port) and/or EMF lines to `emf`. */
  readonly metrics?: {
    readonly port?: number;
    readonly emf?: (line: string) => void;
    readonly intervalSeconds?: number;
  };
  /**
   * Where packets are decoded: on the feed thread, or on a worker thread fed through a shared ring
   * (the relay then never waits for decoding; if decoding falls a ring behind, the books recover
   * from the snapshot loop). @default 'inline'
   */
  readonly decoder?: 'inline' | 'worker';
  /** Ring between the feed thread and the decoder worker. @default 64 MiB */
  readonly decoderRingBytes?: number;
  /** Kinesis counters for the metrics (the producer's stats, when events go to Kinesis). */
  readonly kinesisStats?: () => { eventsSent: number; eventsFailed: number; recordsSent: number };
}

/** The running handler: multicast receivers, sequencer, decoder (inline or worker), relay, metrics. */
export class FeedRunner {
  readonly latency = new LatencyHistogram();
  readonly events = { trades: 0, quotes: 0, orders: 0 };
  metrics: MetricsReporter | null = null;
  replayClient: ReplayClient | null = null;
  /** The decoder worker (with `decoder: 'worker'`). */
  decoderThread: DecoderThread | null = null;
  private inline: FeedHandler | null = null;
  private receivers: MulticastReceiver[] = [];
  private timer: NodeJS.Timeout | undefined;
  private finalEngineStats: EngineStats | undefined;
  // Assigned in start() before any packet can arrive.
  sequencer!: PacketSequencer;

  private constructor(
    readonly relay: Relay | null,
    private readonly opts: FeedRunnerOptions,
  ) {}

  static async start(codec: SbeCodec, opts: FeedRunnerOptions): Promise<FeedRunner> {
    const relay = opts.relay ? await Relay.start(opts.relay) : null;
    const runner = new FeedRunner(relay, opts);
    const channel = opts.channel ?? '1';
    if (opts.replay) {
      const applId = Number(channel);
      runner.replayClient = new ReplayClient({
        server: opts.replay.server,
        channel: Number.isInteger(applId) ? applId : 0,
        credentials: opts.replay.credentials,
        timeoutMs: opts.replay.timeoutMs,
      });
    }
    const onEvent = opts.onEvent;
    const countEvent = (e: MarketEvent): void => {
      if (e.type === 'trade') runner.events.trades++;
      else if (e.type === 'quote') runner.events.quotes++;
      onEvent?.(e);
    };
    const userOnOrder = opts.onOrder;
    const onOrder = userOnOrder
      ? (e: OrderEvent): void => {
          runner.events.orders++;
          userOnOrder(e);
        }
      : undefined;
    const onStatus = opts.onStatus ?? (() => {});
    const client = runner.replayClient;
    const engineOptions = { recoverAtStart: opts.recoverAtStart ?? true, books: opts.books };
    const sequencerOptions = {
      arbiter: { gapPacketThreshold: opts.gapPacketThreshold ?? 64, gapTimeoutMs: opts.gapTimeoutMs ?? 20 },
      onArbitrated: relay ? (buf: Buffer) => relay.send(buf) : undefined,
      onLatency: opts.metrics
        ? (ns: number) => {
            runner.latency.record(ns);
            runner.metrics?.recordLatency(ns);
          }
        : undefined,
      replay: client
        ? {
            request: (from: number, to: number) => client.request(from, to),
            maxGapPackets: opts.replay?.maxGapPackets,
          }
        : undefined,
    };
    let onSnapshot: (b: Buffer) => void;
    if (opts.decoder === 'worker') {
      const decoder = DecoderThread.start(codec, countEvent, onStatus, {
        ...engineOptions,
        ringBytes: opts.decoderRingBytes,
        onOrder,
      });
      runner.decoderThread = decoder;
      runner.sequencer = new PacketSequencer(decoder, { ...sequencerOptions, onArbiterEvent: onStatus });
      onSnapshot = (b) => decoder.onSnapshot(b);
    } else {
      const handler = new FeedHandler(codec, countEvent, onStatus, {
        ...engineOptions,
        ...sequencerOptions,
        onOrder,
      });
      runner.inline = handler;
      runner.sequencer = handler.sequencer;
      onSnapshot = (b) => handler.onSnapshot(b);
    }
    if (opts.metrics)
      runner.metrics = await MetricsReporter.start(() => runner.snapshot(), { channel, ...opts.metrics });
    const iface = opts.iface ?? '127.0.0.1';
    const sequencer = runner.sequencer;
    runner.receivers.push(
      await joinMulticast(opts.feedA, (b) => sequencer.onIncremental('A', b), iface),
      await joinMulticast(opts.feedB, (b) => sequencer.onIncremental('B', b), iface),
    );
    if (opts.snapshot) runner.receivers.push(await joinMulticast(opts.snapshot, onSnapshot, iface));
    runner.timer = setInterval(() => sequencer.poll(), 5);
    return runner;
  }

  /** The inline handler (books and order books to inspect); throws with `decoder: 'worker'`. */
  get handler(): FeedHandler {
    if (!this.inline) throw new Error('the books live on the decoder worker: use engineStats()');
    return this.inline;
  }

  /** The decoder's counters: live inline, at most ~100 ms old from the worker, final after stop(). */
  engineStats(): EngineStats {
    if (this.inline) return engineStats(this.inline.engine);
    return (
      this.finalEngineStats ??
      this.decoderThread?.engineStats ?? {
        recovering: true,
        recovery: newSnapshotRecoveryStats(),
        decodeStats: newDecodeStats(),
        snapshotDecodeStats: newDecodeStats(),
      }
    );
  }

  /** Snapshot-loop and TCP replay recovery counters together. */
  recoveryStats(): RecoveryStats {
    return { ...this.engineStats().recovery, ...this.sequencer.stats };
  }

  /** Every counter now (what /metrics and EMF report). */
  snapshot(): FeedMetricsSnapshot {
    const a = this.sequencer.arbiter.stats;
    const feed = (f: 'A' | 'B') => ({
      packets: a.feeds[f].packets,
      duplicates: a.feeds[f].duplicates,
      malformed: a.feeds[f].malformed,
    });
    const k = this.opts.kinesisStats?.();
    const e = this.engineStats();
    const o = e.orderBooks;
    const d = this.decoderThread;
    return {
      feeds: { A: feed('A'), B: feed('B') },
      delivered: a.delivered,
      gaps: a.gaps,
      gapPackets: a.gapPackets,
      restarts: a.restarts,
      recoveriesStarted: e.recovery.started,
      snapshotRecoveries: e.recovery.completed,
      replayRecoveries: this.sequencer.stats.replayRecovered,
      replayFailures: this.sequencer.stats.replayFailed,
      recovering: e.recovering,
      decodeErrors: { ...e.decodeStats.errors },
      trades: this.events.trades,
      quotes: this.events.quotes,
      subscribers: this.relay?.subscribers() ?? [],
      kinesis: k && { eventsSent: k.eventsSent, eventsFailed: k.eventsFailed, records: k.recordsSent },
      orderBooks: o && {
        books: o.instruments,
        staleBooks: o.staleBooks,
        orders: o.orders,
        entries: o.stats.orderEntries,
        rejectedEntries: o.stats.rejectedEntries,
        unknownOrders: o.stats.unknownOrders,
        snapshots: o.stats.snapshots,
        snapshotsTooOld: o.stats.snapshotsTooOld,
        queueOverflows: o.stats.queueOverflows,
      },
      decoder: d
        ? {
            backlogBytes: d.backlogBytes,
            droppedPackets: d.stats.droppedPackets,
            droppedSnapshots: d.stats.droppedSnapshots,
            restarts: d.stats.restarts,
          }
        : undefined,
      latency: this.latency,
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.receivers.map((r) => r.close()));
    // Outstanding TCP replays settle (answer or time out) and their packets are relayed first.
    await this.sequencer.idle();
    await this.relay?.close();
    // The worker decodes what it has been given, then hands over its final counters.
    if (this.decoderThread) this.finalEngineStats = await this.decoderThread.close();
    await this.metrics?.stop();
  }
}
